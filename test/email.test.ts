import { describe, it } from 'vitest';
import { call, createOrg, invite, mailsTo, parseMail, signUp, uniqueEmail } from './helpers';

const headerBlock = (raw: string) => raw.split(/\r?\n\r?\n/)[0];

describe('SPEC §6: the invitation email', () => {
  it('is multipart/alternative with recipient, subject, link, role, expiry and the escaped message', async ({
    expect,
  }) => {
    const owner = await signUp(uniqueEmail('mailer'), 'Olivia Owner');
    const org = await createOrg(owner.token, 'Rocket Labs');
    const email = uniqueEmail('Invitee');
    const message = 'Welcome aboard! <script>alert("x")</script> & see you soon';
    const inv = (await invite(owner.token, org.id, { email, role: 'developer', message, expires_in_days: 3 })).json;
    const [sent] = mailsTo(email);
    expect(sent).toBeDefined();
    expect(headerBlock(sent.raw)).toMatch(/Content-Type: multipart\/alternative/i);

    const mail = await parseMail(sent.raw);
    expect(mail.to?.[0]?.address).toBe(email.toLowerCase());
    expect(mail.from?.address).toBe('invitations@8bit-ai.dev');
    expect(mail.subject).toBe('Olivia Owner invited you to join Rocket Labs on 8bit-ai');
    const expiry = new Date(inv.expires_at).toLocaleString('en-US', {
      dateStyle: 'long',
      timeStyle: 'short',
      timeZone: 'UTC',
    });
    for (const body of [mail.text!, mail.html!]) {
      expect(body).toMatch(/http:\/\/127\.0\.0\.1:8787\/invitations\/accept\?token=[\w.-]+/);
      expect(body).toContain('Developer');
      expect(body).toContain('Olivia Owner');
      expect(body).toContain('Rocket Labs');
      expect(body).toContain(expiry);
    }
    expect(mail.text).toContain(message);
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; see you soon');
  });

  it('CR/LF in the message, the inviter name or the organization name cannot add a header', async ({ expect }) => {
    const owner = await signUp(uniqueEmail('crlf'), 'Eve\r\nBcc: victim@evil.example');
    const org = await createOrg(owner.token, 'Acme\r\nX-Injected: yes\nReply-To: evil@evil.example');
    const email = uniqueEmail('target');
    const res = await invite(owner.token, org.id, {
      email,
      role: 'viewer',
      message: 'hi\r\nBcc: other@evil.example\r\n\r\nbody',
    });
    expect(res.status).toBe(201);
    const [sent] = mailsTo(email);
    const headers = headerBlock(sent.raw);
    expect(headers).not.toMatch(/^bcc:/im);
    expect(headers).not.toMatch(/^x-injected:/im);
    expect(headers).not.toMatch(/^reply-to:/im);
    const mail = await parseMail(sent.raw);
    expect(mail.headers.map((h) => h.key)).not.toContain('bcc');
    expect(mail.subject).toBe(
      'Eve Bcc: victim@evil.example invited you to join Acme X-Injected: yes Reply-To: evil@evil.example on 8bit-ai',
    );
  });

  it('non-ASCII names and long messages are base64-encoded, never mislabelled 7bit', async ({ expect }) => {
    const owner = await signUp(uniqueEmail('utf'), 'José Müller');
    const org = await createOrg(owner.token, 'Café Ünited');
    const email = uniqueEmail('utf-target');
    await invite(owner.token, org.id, { email, role: 'viewer', message: 'ü'.repeat(1000) });
    const [sent] = mailsTo(email);
    expect(sent.raw).not.toMatch(/[^\x00-\x7f]/);
    expect(sent.raw.split('\n').every((line) => line.length <= 998)).toBe(true);
    const mail = await parseMail(sent.raw);
    expect(mail.text).toContain('José Müller invited you to join Café Ünited');
    expect(mail.text).toContain('ü'.repeat(1000));
    expect(mail.subject).toBe('José Müller invited you to join Café Ünited on 8bit-ai');
  });

  it('the sign-in link email goes to the normalized address and carries a /auth/verify link', async ({ expect }) => {
    const email = uniqueEmail('Login');
    expect((await call('POST', '/v1/auth/email-link', { body: { email: `  ${email.toUpperCase()} ` } })).status).toBe(
      202,
    );
    const [sent] = mailsTo(email);
    const mail = await parseMail(sent.raw);
    expect(mail.to?.[0]?.address).toBe(email.toLowerCase());
    expect(mail.text).toMatch(/\/auth\/verify\?token=/);
  });
});
