import { LOCALES, type Locale } from '../db/schema';

/*
 * What invitees read (SPEC §12): the invitation email and the acceptance pages, the email that
 * tells an account of a new API token (SPEC §18), and the join request emails (SPEC §16: to owners
 * and admins about a new request, to the requester about the decision); one catalogue per locale.
 * Every locale has every key (the type says so, and a test checks that no key is unused). `{name}`
 * placeholders are filled by `t`; values are escaped by the renderer, never here.
 */

const en = {
  'role.owner': 'Owner',
  'role.admin': 'Admin',
  'role.developer': 'Developer',
  'role.viewer': 'Viewer',
  'role.billing': 'Billing',
  'email.subject': '{inviter} invited you to join {org} on 8bit-ai',
  'email.heading': 'Join {org} on 8bit-ai',
  'email.intro': '{inviter} invited you to join {org} as {role}.',
  'email.message_from': 'Message from {inviter}:',
  'email.accept_line': 'Accept the invitation: {link}',
  'email.accept_button': 'Accept invitation',
  'email.or_open': 'Or open this link: {link}',
  'email.expires': 'This link expires on {date}. If you were not expecting it, you can ignore this email.',
  'page.invalid_title': 'Invitation no longer valid',
  'page.invalid_body':
    'This invitation was revoked or declined, or its link was already used, replaced by a newer invitation email, or is not one of ours.',
  'page.expired_body': 'This invitation has expired. Ask the person who invited you to resend it.',
  'page.go_home': 'Go to 8bit-ai',
  'page.offer': '{inviter} invited {email} to join {org} as {role}.',
  'page.expires_on': 'This invitation expires on {date}.',
  'page.create_title': 'Create your account',
  'page.join_title': 'Join {org} as {email}',
  'page.email_label': 'Email',
  'page.name_label': 'Your name',
  'page.create_button': 'Create account and join {org}',
  'page.join_button': 'Join {org}',
  'page.name_required': 'Enter your name to create the account.',
  'page.name_too_long': 'Your name can be at most 100 characters.',
  'page.mismatch_title': 'This invitation is for another email address',
  'page.mismatch_body':
    'You are signed in as {user}. To accept, sign out and open the invitation again as {email}. The invitation stays open.',
  'page.sign_out_continue': 'Sign out and continue',
  'page.check_email_title': 'Check your email to sign in',
  'page.joined': '{email} has joined {org} as {role}.',
  'page.check_email_body':
    'This invitation link was sent more than 15 minutes ago, so it does not sign you in. We emailed a sign-in link to {email}: it works once and expires in 15 minutes.',
  'page.too_many_title': 'Too many attempts',
  'page.too_many_body': 'Too many attempts from your network. Try again in a minute.',
  'token_email.subject': 'A new API token was created for your 8bit-ai account',
  'token_email.heading': 'New API token',
  'token_email.intro': 'A personal API token named “{name}” was created for {email} on {date}.',
  'token_email.expires': 'It expires on {date}.',
  'token_email.revoked': 'It has since been revoked and no longer works.',
  'token_email.you': 'If you created it, there is nothing to do.',
  'token_email.not_you': 'If you did not, open your Account page, revoke the token and sign out everywhere: {link}',
  'token_email.button': 'Open your Account page',
  'join_email.subject': '{name} asks to join {org} on 8bit-ai',
  'join_email.heading': 'A request to join {org}',
  'join_email.intro': '{name} ({email}) asks to join {org} as {role}.',
  'join_email.review_line': 'Approve or reject it in Settings > Team: {link}',
  'join_email.button': 'Review the request',
  'join_email.why': 'You receive this email because you are an owner or admin of {org}.',
  'decision_email.approved_subject': 'Your request to join {org} was approved',
  'decision_email.approved_intro': 'Your request to join {org} was approved. You are now a member, as {role}.',
  'decision_email.open_line': 'Open {org}: {link}',
  'decision_email.open_button': 'Open {org}',
  'decision_email.rejected_subject': 'Your request to join {org} was declined',
  'decision_email.rejected_intro': 'Your request to join {org} was declined.',
  'decision_email.reason': 'The reason given:',
  'reminder_email.subject': 'Reminder: your invitation to join {org} expires on {date}',
  'reminder_email.heading': 'Your invitation to join {org} is waiting',
  'reminder_email.intro': '{inviter} invited you to join {org} as {role}. The invitation expires on {date}.',
  'reminder_email.decline':
    'Not interested? Open the link and choose “Decline invitation”: we will let {inviter} know, and you will hear no more about it.',
  'declined_email.subject': '{email} declined your invitation to join {org}',
  'declined_email.intro':
    '{email} declined your invitation to join {org} as {role}. The invitation link no longer works.',
  'declined_email.again': 'If they change their mind, you can send them a new invitation from Settings > Team: {link}',
  'reinvite_email.subject': '{email} asked for a new invitation to join {org}',
  'reinvite_email.intro':
    'The invitation you sent {email} to join {org} as {role} expired on {date}. They asked for a new one.',
  'reinvite_email.resend_line': 'To invite them again, resend the invitation from Settings > Team: {link}',
  'inviter_email.team_button': 'Open Settings > Team',
  'inviter_email.why': 'You receive this email because you invited {email} to join {org}.',
  'page.decline_hint': 'Not interested? You can decline: we will let {inviter} know, and this link will stop working.',
  'page.decline_button': 'Decline invitation',
  'page.decline_confirm': 'Decline the invitation to join {org}? The link will stop working.',
  'page.declined_title': 'You declined the invitation',
  'page.declined_body':
    'You declined the invitation to join {org}. We let the person who invited you know, and this link no longer works.',
  'page.expired_ask': '{inviter} invited {email} to join {org}. The invitation expired on {date}.',
  'page.ask_button': 'Ask for a new invitation',
  'page.asked_title': 'New invitation requested',
  'page.asked_body':
    'We asked {inviter} to invite you again to {org}. If they do, the new invitation will arrive at {email}.',
  'page.already_asked_body':
    'You asked {inviter} for a new invitation on {date}. If they send one, it will arrive at {email}.',
} as const;

export type MessageKey = keyof typeof en;
type Catalogue = Record<MessageKey, string>;

const de: Catalogue = {
  'role.owner': 'Inhaber',
  'role.admin': 'Admin',
  'role.developer': 'Entwickler',
  'role.viewer': 'Betrachter',
  'role.billing': 'Abrechnungsmanager',
  'email.subject': '{inviter} hat Sie eingeladen, {org} auf 8bit-ai beizutreten',
  'email.heading': 'Treten Sie {org} auf 8bit-ai bei',
  'email.intro': '{inviter} hat Sie eingeladen, {org} als {role} beizutreten.',
  'email.message_from': 'Nachricht von {inviter}:',
  'email.accept_line': 'Einladung annehmen: {link}',
  'email.accept_button': 'Einladung annehmen',
  'email.or_open': 'Oder öffnen Sie diesen Link: {link}',
  'email.expires':
    'Dieser Link ist gültig bis {date}. Wenn Sie diese Einladung nicht erwartet haben, können Sie diese E-Mail ignorieren.',
  'page.invalid_title': 'Einladung nicht mehr gültig',
  'page.invalid_body':
    'Diese Einladung wurde widerrufen oder abgelehnt, oder ihr Link wurde bereits verwendet, durch eine neuere Einladung ersetzt oder stammt nicht von uns.',
  'page.expired_body':
    'Diese Einladung ist abgelaufen. Bitten Sie die Person, die Sie eingeladen hat, sie erneut zu senden.',
  'page.go_home': 'Zu 8bit-ai',
  'page.offer': '{inviter} hat {email} eingeladen, {org} als {role} beizutreten.',
  'page.expires_on': 'Diese Einladung ist gültig bis {date}.',
  'page.create_title': 'Konto erstellen',
  'page.join_title': '{org} als {email} beitreten',
  'page.email_label': 'E-Mail',
  'page.name_label': 'Ihr Name',
  'page.create_button': 'Konto erstellen und {org} beitreten',
  'page.join_button': '{org} beitreten',
  'page.name_required': 'Geben Sie Ihren Namen ein, um das Konto zu erstellen.',
  'page.name_too_long': 'Ihr Name darf höchstens 100 Zeichen lang sein.',
  'page.mismatch_title': 'Diese Einladung gilt für eine andere E-Mail-Adresse',
  'page.mismatch_body':
    'Sie sind als {user} angemeldet. Um die Einladung anzunehmen, melden Sie sich ab und öffnen Sie sie erneut als {email}. Die Einladung bleibt gültig.',
  'page.sign_out_continue': 'Abmelden und fortfahren',
  'page.check_email_title': 'Prüfen Sie Ihr Postfach, um sich anzumelden',
  'page.joined': '{email} ist {org} als {role} beigetreten.',
  'page.check_email_body':
    'Dieser Einladungslink wurde vor mehr als 15 Minuten gesendet und meldet Sie deshalb nicht an. Wir haben einen Anmeldelink an {email} gesendet: Er kann nur einmal verwendet werden und läuft nach 15 Minuten ab.',
  'page.too_many_title': 'Zu viele Versuche',
  'page.too_many_body': 'Zu viele Versuche aus Ihrem Netzwerk. Versuchen Sie es in einer Minute erneut.',
  'token_email.subject': 'Für Ihr 8bit-ai-Konto wurde ein neues API-Token erstellt',
  'token_email.heading': 'Neues API-Token',
  'token_email.intro': 'Für {email} wurde am {date} ein persönliches API-Token mit dem Namen „{name}“ erstellt.',
  'token_email.expires': 'Es läuft am {date} ab.',
  'token_email.revoked': 'Es wurde inzwischen widerrufen und funktioniert nicht mehr.',
  'token_email.you': 'Wenn Sie es erstellt haben, müssen Sie nichts tun.',
  'token_email.not_you':
    'Falls nicht, öffnen Sie Ihre Kontoseite, widerrufen Sie das Token und melden Sie sich überall ab: {link}',
  'token_email.button': 'Kontoseite öffnen',
  'join_email.subject': '{name} möchte {org} auf 8bit-ai beitreten',
  'join_email.heading': 'Eine Beitrittsanfrage für {org}',
  'join_email.intro': '{name} ({email}) möchte {org} als {role} beitreten.',
  'join_email.review_line': 'Genehmigen oder ablehnen unter Einstellungen > Team: {link}',
  'join_email.button': 'Anfrage prüfen',
  'join_email.why': 'Sie erhalten diese E-Mail, weil Sie Inhaber oder Admin von {org} sind.',
  'decision_email.approved_subject': 'Ihre Anfrage, {org} beizutreten, wurde genehmigt',
  'decision_email.approved_intro':
    'Ihre Anfrage, {org} beizutreten, wurde genehmigt. Sie sind jetzt Mitglied, als {role}.',
  'decision_email.open_line': '{org} öffnen: {link}',
  'decision_email.open_button': '{org} öffnen',
  'decision_email.rejected_subject': 'Ihre Anfrage, {org} beizutreten, wurde abgelehnt',
  'decision_email.rejected_intro': 'Ihre Anfrage, {org} beizutreten, wurde abgelehnt.',
  'decision_email.reason': 'Angegebener Grund:',
  'reminder_email.subject': 'Erinnerung: Ihre Einladung zu {org} läuft am {date} ab',
  'reminder_email.heading': 'Ihre Einladung zu {org} wartet auf Sie',
  'reminder_email.intro':
    '{inviter} hat Sie eingeladen, {org} als {role} beizutreten. Die Einladung läuft am {date} ab.',
  'reminder_email.decline':
    'Kein Interesse? Öffnen Sie den Link und wählen Sie „Einladung ablehnen“: Wir geben {inviter} Bescheid, und Sie hören nichts weiter davon.',
  'declined_email.subject': '{email} hat Ihre Einladung zu {org} abgelehnt',
  'declined_email.intro':
    '{email} hat Ihre Einladung abgelehnt, {org} als {role} beizutreten. Der Einladungslink funktioniert nicht mehr.',
  'declined_email.again':
    'Falls die Person es sich anders überlegt, können Sie ihr unter Einstellungen > Team eine neue Einladung senden: {link}',
  'reinvite_email.subject': '{email} bittet um eine neue Einladung zu {org}',
  'reinvite_email.intro':
    'Ihre Einladung an {email}, {org} als {role} beizutreten, ist am {date} abgelaufen. Die Person bittet um eine neue.',
  'reinvite_email.resend_line':
    'Um sie erneut einzuladen, senden Sie die Einladung unter Einstellungen > Team erneut: {link}',
  'inviter_email.team_button': 'Einstellungen > Team öffnen',
  'inviter_email.why': 'Sie erhalten diese E-Mail, weil Sie {email} zu {org} eingeladen haben.',
  'page.decline_hint':
    'Kein Interesse? Sie können die Einladung ablehnen: Wir geben {inviter} Bescheid, und dieser Link funktioniert dann nicht mehr.',
  'page.decline_button': 'Einladung ablehnen',
  'page.decline_confirm': 'Die Einladung zu {org} ablehnen? Der Link funktioniert danach nicht mehr.',
  'page.declined_title': 'Sie haben die Einladung abgelehnt',
  'page.declined_body':
    'Sie haben die Einladung zu {org} abgelehnt. Wir haben der Person, die Sie eingeladen hat, Bescheid gegeben. Dieser Link funktioniert nicht mehr.',
  'page.expired_ask': '{inviter} hat {email} eingeladen, {org} beizutreten. Die Einladung ist am {date} abgelaufen.',
  'page.ask_button': 'Neue Einladung anfordern',
  'page.asked_title': 'Neue Einladung angefordert',
  'page.asked_body':
    'Wir haben {inviter} gebeten, Sie erneut zu {org} einzuladen. Falls das geschieht, erhalten Sie die neue Einladung an {email}.',
  'page.already_asked_body':
    'Sie haben {inviter} am {date} um eine neue Einladung gebeten. Falls eine kommt, erhalten Sie sie an {email}.',
};

const fr: Catalogue = {
  'role.owner': 'Propriétaire',
  'role.admin': 'Administrateur',
  'role.developer': 'Développeur',
  'role.viewer': 'Lecteur',
  'role.billing': 'Gestionnaire de facturation',
  'email.subject': '{inviter} vous invite à rejoindre {org} sur 8bit-ai',
  'email.heading': 'Rejoignez {org} sur 8bit-ai',
  'email.intro': '{inviter} vous invite à rejoindre {org} en tant que {role}.',
  'email.message_from': 'Message de {inviter} :',
  'email.accept_line': 'Accepter l’invitation : {link}',
  'email.accept_button': 'Accepter l’invitation',
  'email.or_open': 'Ou ouvrez ce lien : {link}',
  'email.expires':
    'Ce lien expire le {date}. Si vous ne vous attendiez pas à cette invitation, vous pouvez ignorer cet e-mail.',
  'page.invalid_title': 'Cette invitation n’est plus valide',
  'page.invalid_body':
    'Cette invitation a été révoquée ou refusée, ou son lien a déjà été utilisé, a été remplacé par une invitation plus récente, ou ne provient pas de nous.',
  'page.expired_body': 'Cette invitation a expiré. Demandez à la personne qui vous a invité de vous la renvoyer.',
  'page.go_home': 'Aller sur 8bit-ai',
  'page.offer': '{inviter} a invité {email} à rejoindre {org} en tant que {role}.',
  'page.expires_on': 'Cette invitation expire le {date}.',
  'page.create_title': 'Créez votre compte',
  'page.join_title': 'Rejoindre {org} avec {email}',
  'page.email_label': 'E-mail',
  'page.name_label': 'Votre nom',
  'page.create_button': 'Créer le compte et rejoindre {org}',
  'page.join_button': 'Rejoindre {org}',
  'page.name_required': 'Saisissez votre nom pour créer le compte.',
  'page.name_too_long': 'Votre nom ne peut pas dépasser 100 caractères.',
  'page.mismatch_title': 'Cette invitation est destinée à une autre adresse e-mail',
  'page.mismatch_body':
    'Vous êtes connecté en tant que {user}. Pour accepter, déconnectez-vous et rouvrez l’invitation avec l’adresse {email}. L’invitation reste valable.',
  'page.sign_out_continue': 'Se déconnecter et continuer',
  'page.check_email_title': 'Consultez vos e-mails pour vous connecter',
  'page.joined': '{email} a rejoint {org} en tant que {role}.',
  'page.check_email_body':
    'Ce lien d’invitation a été envoyé il y a plus de 15 minutes : il ne vous connecte donc pas. Nous avons envoyé un lien de connexion à {email} : il ne fonctionne qu’une fois et expire dans 15 minutes.',
  'page.too_many_title': 'Trop de tentatives',
  'page.too_many_body': 'Trop de tentatives depuis votre réseau. Réessayez dans une minute.',
  'token_email.subject': 'Un nouveau jeton d’API a été créé pour votre compte 8bit-ai',
  'token_email.heading': 'Nouveau jeton d’API',
  'token_email.intro': 'Un jeton d’API personnel nommé « {name} » a été créé pour {email} le {date}.',
  'token_email.expires': 'Il expire le {date}.',
  'token_email.revoked': 'Il a été révoqué depuis et ne fonctionne plus.',
  'token_email.you': 'Si vous l’avez créé, vous n’avez rien à faire.',
  'token_email.not_you':
    'Sinon, ouvrez la page de votre compte, révoquez le jeton et déconnectez-vous partout : {link}',
  'token_email.button': 'Ouvrir la page de votre compte',
  'join_email.subject': '{name} demande à rejoindre {org} sur 8bit-ai',
  'join_email.heading': 'Une demande pour rejoindre {org}',
  'join_email.intro': '{name} ({email}) demande à rejoindre {org} en tant que {role}.',
  'join_email.review_line': 'Acceptez-la ou refusez-la dans Paramètres > Équipe : {link}',
  'join_email.button': 'Examiner la demande',
  'join_email.why': 'Vous recevez cet e-mail parce que vous êtes propriétaire ou administrateur de {org}.',
  'decision_email.approved_subject': 'Votre demande pour rejoindre {org} a été acceptée',
  'decision_email.approved_intro':
    'Votre demande pour rejoindre {org} a été acceptée. Vous êtes désormais membre, en tant que {role}.',
  'decision_email.open_line': 'Ouvrir {org} : {link}',
  'decision_email.open_button': 'Ouvrir {org}',
  'decision_email.rejected_subject': 'Votre demande pour rejoindre {org} a été refusée',
  'decision_email.rejected_intro': 'Votre demande pour rejoindre {org} a été refusée.',
  'decision_email.reason': 'Motif indiqué :',
  'reminder_email.subject': 'Rappel : votre invitation à rejoindre {org} expire le {date}',
  'reminder_email.heading': 'Votre invitation à rejoindre {org} vous attend',
  'reminder_email.intro': '{inviter} vous invite à rejoindre {org} en tant que {role}. L’invitation expire le {date}.',
  'reminder_email.decline':
    'Cette invitation ne vous intéresse pas ? Ouvrez le lien et choisissez « Refuser l’invitation » : nous préviendrons {inviter}, et vous n’en entendrez plus parler.',
  'declined_email.subject': '{email} a refusé votre invitation à rejoindre {org}',
  'declined_email.intro':
    '{email} a refusé votre invitation à rejoindre {org} en tant que {role}. Le lien d’invitation ne fonctionne plus.',
  'declined_email.again':
    'Si cette personne change d’avis, vous pouvez lui envoyer une nouvelle invitation depuis Paramètres > Équipe : {link}',
  'reinvite_email.subject': '{email} demande une nouvelle invitation à rejoindre {org}',
  'reinvite_email.intro':
    'L’invitation que vous avez envoyée à {email} pour rejoindre {org} en tant que {role} a expiré le {date}. Cette personne en demande une nouvelle.',
  'reinvite_email.resend_line': 'Pour l’inviter à nouveau, renvoyez l’invitation depuis Paramètres > Équipe : {link}',
  'inviter_email.team_button': 'Ouvrir Paramètres > Équipe',
  'inviter_email.why': 'Vous recevez cet e-mail parce que vous avez invité {email} à rejoindre {org}.',
  'page.decline_hint':
    'Cette invitation ne vous intéresse pas ? Vous pouvez la refuser : nous préviendrons {inviter}, et ce lien ne fonctionnera plus.',
  'page.decline_button': 'Refuser l’invitation',
  'page.decline_confirm': 'Refuser l’invitation à rejoindre {org} ? Le lien ne fonctionnera plus.',
  'page.declined_title': 'Vous avez refusé l’invitation',
  'page.declined_body':
    'Vous avez refusé l’invitation à rejoindre {org}. Nous avons prévenu la personne qui vous a invité, et ce lien ne fonctionne plus.',
  'page.expired_ask': '{inviter} a invité {email} à rejoindre {org}. L’invitation a expiré le {date}.',
  'page.ask_button': 'Demander une nouvelle invitation',
  'page.asked_title': 'Nouvelle invitation demandée',
  'page.asked_body':
    'Nous avons demandé à {inviter} de vous inviter à nouveau à rejoindre {org}. Si c’est le cas, la nouvelle invitation arrivera à l’adresse {email}.',
  'page.already_asked_body':
    'Vous avez demandé une nouvelle invitation à {inviter} le {date}. Si elle est envoyée, elle arrivera à l’adresse {email}.',
};

const es: Catalogue = {
  'role.owner': 'Propietario',
  'role.admin': 'Administrador',
  'role.developer': 'Desarrollador',
  'role.viewer': 'Lector',
  'role.billing': 'Gestor de facturación',
  'email.subject': '{inviter} te ha invitado a unirte a {org} en 8bit-ai',
  'email.heading': 'Únete a {org} en 8bit-ai',
  'email.intro': '{inviter} te ha invitado a unirte a {org} como {role}.',
  'email.message_from': 'Mensaje de {inviter}:',
  'email.accept_line': 'Acepta la invitación: {link}',
  'email.accept_button': 'Aceptar invitación',
  'email.or_open': 'O abre este enlace: {link}',
  'email.expires': 'Este enlace caduca el {date}. Si no esperabas esta invitación, puedes ignorar este correo.',
  'page.invalid_title': 'La invitación ya no es válida',
  'page.invalid_body':
    'Esta invitación se revocó o se rechazó, o su enlace ya se usó, se sustituyó por una invitación más reciente o no es nuestro.',
  'page.expired_body': 'Esta invitación ha caducado. Pide a la persona que te invitó que te la vuelva a enviar.',
  'page.go_home': 'Ir a 8bit-ai',
  'page.offer': '{inviter} ha invitado a {email} a unirse a {org} como {role}.',
  'page.expires_on': 'Esta invitación caduca el {date}.',
  'page.create_title': 'Crea tu cuenta',
  'page.join_title': 'Unirse a {org} como {email}',
  'page.email_label': 'Correo electrónico',
  'page.name_label': 'Tu nombre',
  'page.create_button': 'Crear cuenta y unirse a {org}',
  'page.join_button': 'Unirse a {org}',
  'page.name_required': 'Escribe tu nombre para crear la cuenta.',
  'page.name_too_long': 'Tu nombre puede tener como máximo 100 caracteres.',
  'page.mismatch_title': 'Esta invitación es para otra dirección de correo',
  'page.mismatch_body':
    'Has iniciado sesión como {user}. Para aceptar, cierra sesión y vuelve a abrir la invitación como {email}. La invitación sigue siendo válida.',
  'page.sign_out_continue': 'Cerrar sesión y continuar',
  'page.check_email_title': 'Revisa tu correo para iniciar sesión',
  'page.joined': '{email} se ha unido a {org} como {role}.',
  'page.check_email_body':
    'Este enlace de invitación se envió hace más de 15 minutos, así que no sirve para iniciar sesión. Hemos enviado un enlace de inicio de sesión a {email}: funciona una sola vez y caduca en 15 minutos.',
  'page.too_many_title': 'Demasiados intentos',
  'page.too_many_body': 'Demasiados intentos desde tu red. Vuelve a intentarlo dentro de un minuto.',
  'token_email.subject': 'Se ha creado un nuevo token de API para tu cuenta de 8bit-ai',
  'token_email.heading': 'Nuevo token de API',
  'token_email.intro': 'Se ha creado un token de API personal llamado «{name}» para {email} el {date}.',
  'token_email.expires': 'Caduca el {date}.',
  'token_email.revoked': 'Desde entonces se ha revocado y ya no funciona.',
  'token_email.you': 'Si lo creaste tú, no tienes que hacer nada.',
  'token_email.not_you':
    'Si no fuiste tú, abre la página de tu cuenta, revoca el token y cierra sesión en todas partes: {link}',
  'token_email.button': 'Abrir la página de tu cuenta',
  'join_email.subject': '{name} solicita unirse a {org} en 8bit-ai',
  'join_email.heading': 'Una solicitud para unirse a {org}',
  'join_email.intro': '{name} ({email}) solicita unirse a {org} como {role}.',
  'join_email.review_line': 'Apruébala o recházala en Configuración > Equipo: {link}',
  'join_email.button': 'Revisar la solicitud',
  'join_email.why': 'Recibes este correo porque eres propietario o administrador de {org}.',
  'decision_email.approved_subject': 'Tu solicitud para unirte a {org} fue aprobada',
  'decision_email.approved_intro': 'Tu solicitud para unirte a {org} fue aprobada. Ahora eres miembro, como {role}.',
  'decision_email.open_line': 'Abrir {org}: {link}',
  'decision_email.open_button': 'Abrir {org}',
  'decision_email.rejected_subject': 'Tu solicitud para unirte a {org} fue rechazada',
  'decision_email.rejected_intro': 'Tu solicitud para unirte a {org} fue rechazada.',
  'decision_email.reason': 'Motivo indicado:',
  'reminder_email.subject': 'Recordatorio: tu invitación para unirte a {org} caduca el {date}',
  'reminder_email.heading': 'Tu invitación para unirte a {org} te está esperando',
  'reminder_email.intro': '{inviter} te ha invitado a unirte a {org} como {role}. La invitación caduca el {date}.',
  'reminder_email.decline':
    '¿No te interesa? Abre el enlace y elige «Rechazar invitación»: avisaremos a {inviter} y no volveremos a escribirte sobre ella.',
  'declined_email.subject': '{email} ha rechazado tu invitación para unirse a {org}',
  'declined_email.intro':
    '{email} ha rechazado tu invitación para unirse a {org} como {role}. El enlace de la invitación ya no funciona.',
  'declined_email.again':
    'Si cambia de opinión, puedes enviarle una nueva invitación desde Configuración > Equipo: {link}',
  'reinvite_email.subject': '{email} ha pedido una nueva invitación para unirse a {org}',
  'reinvite_email.intro':
    'La invitación que enviaste a {email} para unirse a {org} como {role} caducó el {date}. Ha pedido una nueva.',
  'reinvite_email.resend_line':
    'Para volver a invitar a esta persona, reenvía la invitación desde Configuración > Equipo: {link}',
  'inviter_email.team_button': 'Abrir Configuración > Equipo',
  'inviter_email.why': 'Recibes este correo porque invitaste a {email} a unirse a {org}.',
  'page.decline_hint': '¿No te interesa? Puedes rechazarla: avisaremos a {inviter} y este enlace dejará de funcionar.',
  'page.decline_button': 'Rechazar invitación',
  'page.decline_confirm': '¿Rechazar la invitación para unirte a {org}? El enlace dejará de funcionar.',
  'page.declined_title': 'Has rechazado la invitación',
  'page.declined_body':
    'Has rechazado la invitación para unirte a {org}. Hemos avisado a la persona que te invitó y este enlace ya no funciona.',
  'page.expired_ask': '{inviter} invitó a {email} a unirse a {org}. La invitación caducó el {date}.',
  'page.ask_button': 'Pedir una nueva invitación',
  'page.asked_title': 'Nueva invitación solicitada',
  'page.asked_body':
    'Hemos pedido a {inviter} que te vuelva a invitar a {org}. Si lo hace, la nueva invitación llegará a {email}.',
  'page.already_asked_body': 'Pediste una nueva invitación a {inviter} el {date}. Si te la envía, llegará a {email}.',
};

const ja: Catalogue = {
  'role.owner': 'オーナー',
  'role.admin': '管理者',
  'role.developer': '開発者',
  'role.viewer': '閲覧者',
  'role.billing': '請求担当',
  'email.subject': '{inviter}さんから 8bit-ai の {org} への招待が届いています',
  'email.heading': '8bit-ai の {org} に参加する',
  'email.intro': '{inviter}さんがあなたを{role}として {org} に招待しました。',
  'email.message_from': '{inviter}さんからのメッセージ：',
  'email.accept_line': '招待を承諾する：{link}',
  'email.accept_button': '招待を承諾する',
  'email.or_open': 'または次のリンクを開いてください：{link}',
  'email.expires': 'このリンクの有効期限は {date} です。心当たりがない場合は、このメールを無視してください。',
  'page.invalid_title': 'この招待は無効です',
  'page.invalid_body':
    'この招待は取り消されたか辞退されたか、リンクがすでに使用されたか、新しい招待メールに置き換えられたか、当社のものではありません。',
  'page.expired_body': 'この招待は期限切れです。招待者に再送を依頼してください。',
  'page.go_home': '8bit-ai へ移動',
  'page.offer': '{inviter}さんが {email} を{role}として {org} に招待しました。',
  'page.expires_on': 'この招待の有効期限は {date} です。',
  'page.create_title': 'アカウントを作成',
  'page.join_title': '{email} として {org} に参加',
  'page.email_label': 'メールアドレス',
  'page.name_label': 'お名前',
  'page.create_button': 'アカウントを作成して {org} に参加',
  'page.join_button': '{org} に参加',
  'page.name_required': 'アカウントを作成するにはお名前を入力してください。',
  'page.name_too_long': 'お名前は 100 文字以内で入力してください。',
  'page.mismatch_title': 'この招待は別のメールアドレス宛てです',
  'page.mismatch_body':
    '現在 {user} としてログインしています。承諾するには、ログアウトしてから {email} として招待をもう一度開いてください。招待は引き続き有効です。',
  'page.sign_out_continue': 'ログアウトして続行',
  'page.check_email_title': 'メールを確認してログインしてください',
  'page.joined': '{email} が{role}として {org} に参加しました。',
  'page.check_email_body':
    'この招待リンクは送信から 15 分以上経過しているため、ログインには使えません。{email} 宛てにログイン用のリンクを送信しました。リンクは 1 回だけ使用でき、15 分で期限が切れます。',
  'page.too_many_title': '試行回数が多すぎます',
  'page.too_many_body': 'お使いのネットワークからの試行回数が多すぎます。1 分後にもう一度お試しください。',
  'token_email.subject': '8bit-ai アカウントで新しい API トークンが作成されました',
  'token_email.heading': '新しい API トークン',
  'token_email.intro': '{date} に、{email} の個人用 API トークン「{name}」が作成されました。',
  'token_email.expires': 'このトークンの有効期限は {date} です。',
  'token_email.revoked': 'このトークンはその後取り消され、現在は使用できません。',
  'token_email.you': 'ご自身で作成した場合は、対応の必要はありません。',
  'token_email.not_you':
    '心当たりがない場合は、アカウントページでトークンを取り消し、すべての端末からログアウトしてください: {link}',
  'token_email.button': 'アカウントページを開く',
  'join_email.subject': '{name} さんが 8bit-ai の {org} への参加をリクエストしました',
  'join_email.heading': '{org} への参加リクエスト',
  'join_email.intro': '{name} さん（{email}）が {role} として {org} への参加をリクエストしています。',
  'join_email.review_line': '設定 > チーム で承認または拒否してください：{link}',
  'join_email.button': 'リクエストを確認',
  'join_email.why': '{org} のオーナーまたは管理者であるため、このメールをお送りしています。',
  'decision_email.approved_subject': '{org} への参加リクエストが承認されました',
  'decision_email.approved_intro': '{org} への参加リクエストが承認されました。{role} としてメンバーになりました。',
  'decision_email.open_line': '{org} を開く：{link}',
  'decision_email.open_button': '{org} を開く',
  'decision_email.rejected_subject': '{org} への参加リクエストは承認されませんでした',
  'decision_email.rejected_intro': '{org} への参加リクエストは承認されませんでした。',
  'decision_email.reason': '理由：',
  'reminder_email.subject': 'リマインダー：{org} への招待の有効期限は {date} です',
  'reminder_email.heading': '{org} への招待が届いています',
  'reminder_email.intro':
    '{inviter}さんがあなたを{role}として {org} に招待しています。この招待の有効期限は {date} です。',
  'reminder_email.decline':
    '参加しない場合は、リンクを開いて「招待を辞退する」を選んでください。{inviter}さんにお知らせし、この招待についてのご連絡はこれ以上お送りしません。',
  'declined_email.subject': '{email} さんが {org} への招待を辞退しました',
  'declined_email.intro':
    '{email} さんが、{role}として {org} に参加する招待を辞退しました。招待リンクは無効になりました。',
  'declined_email.again': '気が変わった場合は、設定 > チーム から新しい招待を送ることができます：{link}',
  'reinvite_email.subject': '{email} さんが {org} への新しい招待を依頼しています',
  'reinvite_email.intro':
    '{email} さんに送った、{role}として {org} に参加する招待は {date} に期限切れになりました。新しい招待を依頼しています。',
  'reinvite_email.resend_line': 'もう一度招待するには、設定 > チーム から招待を再送してください：{link}',
  'inviter_email.team_button': '設定 > チーム を開く',
  'inviter_email.why': '{email} さんを {org} に招待したため、このメールをお送りしています。',
  'page.decline_hint':
    '参加しない場合は、招待を辞退できます。{inviter}さんにお知らせし、このリンクは使えなくなります。',
  'page.decline_button': '招待を辞退する',
  'page.decline_confirm': '{org} への招待を辞退しますか？リンクは使えなくなります。',
  'page.declined_title': '招待を辞退しました',
  'page.declined_body': '{org} への招待を辞退しました。招待した方にお知らせしました。このリンクはもう使えません。',
  'page.expired_ask': '{inviter}さんが {email} を {org} に招待しましたが、この招待は {date} に期限切れになりました。',
  'page.ask_button': '新しい招待を依頼する',
  'page.asked_title': '新しい招待を依頼しました',
  'page.asked_body': '{inviter}さんに {org} への再招待を依頼しました。招待が送られると、{email} 宛てに届きます。',
  'page.already_asked_body':
    '{date} に{inviter}さんへ新しい招待を依頼済みです。招待が送られると、{email} 宛てに届きます。',
};

const ptBR: Catalogue = {
  'role.owner': 'Proprietário',
  'role.admin': 'Administrador',
  'role.developer': 'Desenvolvedor',
  'role.viewer': 'Leitor',
  'role.billing': 'Gerente de faturamento',
  'email.subject': '{inviter} convidou você para participar de {org} no 8bit-ai',
  'email.heading': 'Participe de {org} no 8bit-ai',
  'email.intro': '{inviter} convidou você para participar de {org} como {role}.',
  'email.message_from': 'Mensagem de {inviter}:',
  'email.accept_line': 'Aceite o convite: {link}',
  'email.accept_button': 'Aceitar convite',
  'email.or_open': 'Ou abra este link: {link}',
  'email.expires': 'Este link expira em {date}. Se você não esperava este convite, pode ignorar este e-mail.',
  'page.invalid_title': 'Este convite não é mais válido',
  'page.invalid_body':
    'Este convite foi revogado ou recusado, ou o link já foi usado, foi substituído por um convite mais recente ou não é nosso.',
  'page.expired_body': 'Este convite expirou. Peça à pessoa que convidou você para reenviá-lo.',
  'page.go_home': 'Ir para o 8bit-ai',
  'page.offer': '{inviter} convidou {email} para participar de {org} como {role}.',
  'page.expires_on': 'Este convite expira em {date}.',
  'page.create_title': 'Crie sua conta',
  'page.join_title': 'Participar de {org} como {email}',
  'page.email_label': 'E-mail',
  'page.name_label': 'Seu nome',
  'page.create_button': 'Criar conta e participar de {org}',
  'page.join_button': 'Participar de {org}',
  'page.name_required': 'Digite seu nome para criar a conta.',
  'page.name_too_long': 'Seu nome pode ter no máximo 100 caracteres.',
  'page.mismatch_title': 'Este convite é para outro endereço de e-mail',
  'page.mismatch_body':
    'Você está conectado como {user}. Para aceitar, saia da conta e abra o convite novamente como {email}. O convite continua válido.',
  'page.sign_out_continue': 'Sair e continuar',
  'page.check_email_title': 'Confira seu e-mail para entrar',
  'page.joined': '{email} agora participa de {org} como {role}.',
  'page.check_email_body':
    'Este link de convite foi enviado há mais de 15 minutos, por isso não serve para fazer login. Enviamos um link de acesso para {email}: ele só pode ser usado uma vez e expira em 15 minutos.',
  'page.too_many_title': 'Muitas tentativas',
  'page.too_many_body': 'Muitas tentativas a partir da sua rede. Tente novamente em um minuto.',
  'token_email.subject': 'Um novo token de API foi criado para sua conta 8bit-ai',
  'token_email.heading': 'Novo token de API',
  'token_email.intro': 'Um token de API pessoal chamado “{name}” foi criado para {email} em {date}.',
  'token_email.expires': 'Ele expira em {date}.',
  'token_email.revoked': 'Desde então, ele foi revogado e não funciona mais.',
  'token_email.you': 'Se foi você quem o criou, não é preciso fazer nada.',
  'token_email.not_you':
    'Se não foi você, abra a página da sua conta, revogue o token e saia de todas as sessões: {link}',
  'token_email.button': 'Abrir a página da sua conta',
  'join_email.subject': '{name} pediu para entrar em {org} no 8bit-ai',
  'join_email.heading': 'Um pedido para entrar em {org}',
  'join_email.intro': '{name} ({email}) pediu para entrar em {org} como {role}.',
  'join_email.review_line': 'Aprove ou recuse em Configurações > Equipe: {link}',
  'join_email.button': 'Ver o pedido',
  'join_email.why': 'Você recebe este e-mail porque é proprietário ou administrador de {org}.',
  'decision_email.approved_subject': 'Seu pedido para entrar em {org} foi aprovado',
  'decision_email.approved_intro': 'Seu pedido para entrar em {org} foi aprovado. Agora você é membro, como {role}.',
  'decision_email.open_line': 'Abrir {org}: {link}',
  'decision_email.open_button': 'Abrir {org}',
  'decision_email.rejected_subject': 'Seu pedido para entrar em {org} foi recusado',
  'decision_email.rejected_intro': 'Seu pedido para entrar em {org} foi recusado.',
  'decision_email.reason': 'Motivo informado:',
  'reminder_email.subject': 'Lembrete: seu convite para participar de {org} expira em {date}',
  'reminder_email.heading': 'Seu convite para participar de {org} está esperando por você',
  'reminder_email.intro': '{inviter} convidou você para participar de {org} como {role}. O convite expira em {date}.',
  'reminder_email.decline':
    'Não tem interesse? Abra o link e escolha “Recusar convite”: avisaremos {inviter}, e você não receberá mais mensagens sobre este convite.',
  'declined_email.subject': '{email} recusou seu convite para participar de {org}',
  'declined_email.intro':
    '{email} recusou seu convite para participar de {org} como {role}. O link do convite não funciona mais.',
  'declined_email.again':
    'Se a pessoa mudar de ideia, você pode enviar um novo convite em Configurações > Equipe: {link}',
  'reinvite_email.subject': '{email} pediu um novo convite para participar de {org}',
  'reinvite_email.intro':
    'O convite que você enviou para {email} participar de {org} como {role} expirou em {date}. A pessoa pediu um novo.',
  'reinvite_email.resend_line': 'Para convidá-la de novo, reenvie o convite em Configurações > Equipe: {link}',
  'inviter_email.team_button': 'Abrir Configurações > Equipe',
  'inviter_email.why': 'Você recebe este e-mail porque convidou {email} para participar de {org}.',
  'page.decline_hint':
    'Não tem interesse? Você pode recusar o convite: avisaremos {inviter}, e este link deixará de funcionar.',
  'page.decline_button': 'Recusar convite',
  'page.decline_confirm': 'Recusar o convite para participar de {org}? O link deixará de funcionar.',
  'page.declined_title': 'Você recusou o convite',
  'page.declined_body':
    'Você recusou o convite para participar de {org}. Avisamos a pessoa que convidou você, e este link não funciona mais.',
  'page.expired_ask': '{inviter} convidou {email} para participar de {org}. O convite expirou em {date}.',
  'page.ask_button': 'Pedir um novo convite',
  'page.asked_title': 'Novo convite solicitado',
  'page.asked_body':
    'Pedimos a {inviter} que convide você de novo para {org}. Se isso acontecer, o novo convite chegará em {email}.',
  'page.already_asked_body':
    'Você pediu um novo convite a {inviter} em {date}. Se ele for enviado, chegará em {email}.',
};

export const CATALOGUES: Readonly<Record<Locale, Catalogue>> = { en, de, fr, es, ja, 'pt-BR': ptBR };

/** A message in `locale`, with `{name}` placeholders filled (values are not escaped here). */
export function t(locale: Locale, key: MessageKey, vars: Record<string, string> = {}): string {
  return CATALOGUES[locale][key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(vars, name) ? vars[name] : whole,
  );
}

const escapeHtml = (v: string) => v.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/**
 * A message as HTML: the catalogue's text and every value escaped, the values named in `strong`
 * in bold. (Pages use JSX; this is for the email's hand-written HTML.)
 */
export function htmlMessage(
  locale: Locale,
  key: MessageKey,
  vars: Record<string, string>,
  strong: readonly string[] = [],
): string {
  return CATALOGUES[locale][key]
    .split(/(\{\w+\})/)
    .map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (name === undefined || !Object.hasOwn(vars, name)) return escapeHtml(part);
      return strong.includes(name) ? `<strong>${escapeHtml(vars[name])}</strong>` : escapeHtml(vars[name]);
    })
    .join('');
}

/** A role's name in `locale`. */
export const roleName = (locale: Locale, role: string) =>
  Object.hasOwn(CATALOGUES.en, `role.${role}`) ? t(locale, `role.${role}` as MessageKey) : role;

/**
 * A date and time as people of `locale` write it, in UTC. One formatter per locale, made once:
 * building an Intl.DateTimeFormat for each email showed in the profile.
 */
const dateFormats = new Map<Locale, Intl.DateTimeFormat>();
export const formatDate = (locale: Locale, ms: number) => {
  let format = dateFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });
    dateFormats.set(locale, format);
  }
  return `${format.format(new Date(ms))} UTC`;
};

/**
 * The best translation for an `Accept-Language` header (q-values honoured; `pt` and `pt-PT`
 * fall back to `pt-BR`, any other region to its language), or `en`.
 */
export function localeFromAcceptLanguage(header: string | undefined): Locale {
  if (!header) return 'en';
  const ranked = header
    .split(',')
    .slice(0, 20)
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(';');
      const q = Number(
        params
          .find((p) => p.trim().startsWith('q='))
          ?.trim()
          .slice(2) ?? '1',
      );
      return { tag: tag.trim().toLowerCase(), q: Number.isFinite(q) ? q : 0, i };
    })
    .filter((r) => r.tag && r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    const exact = LOCALES.find((l) => l.toLowerCase() === tag);
    if (exact) return exact;
    const language = tag.split('-')[0];
    const byLanguage = LOCALES.find((l) => l.toLowerCase().split('-')[0] === language);
    if (byLanguage) return byLanguage;
  }
  return 'en';
}
