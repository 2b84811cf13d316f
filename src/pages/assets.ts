/** The stylesheet and the small progressive-enhancement script, served from the worker (CSP 'self'). */
export const APP_CSS = `
:root{--bg:#f7f7f8;--card:#fff;--text:#111827;--muted:#6b7280;--line:#e5e7eb;--brand:#4f46e5;--brand-d:#4338ca;
--ok:#047857;--ok-bg:#d1fae5;--warn:#92400e;--warn-bg:#fef3c7;--bad:#b91c1c;--bad-bg:#fee2e2;--info:#1d4ed8;--info-bg:#dbeafe;--gray-bg:#f3f4f6}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 ui-sans-serif,system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--text);background:var(--bg)}
a{color:var(--brand)}a:hover{color:var(--brand-d)}
.topbar{display:flex;align-items:center;justify-content:space-between;padding:12px 32px;background:var(--card);border-bottom:1px solid var(--line)}
.brand{font-weight:700;letter-spacing:-.01em;color:var(--text);text-decoration:none}.brand span{color:var(--brand)}
.menu{position:relative}.menu>summary{list-style:none;cursor:pointer;padding:6px 12px;border:1px solid var(--line);border-radius:8px;background:#fff}
.menu>summary::-webkit-details-marker{display:none}
.menu[open]>summary{border-color:var(--brand)}
.menu-panel{position:absolute;right:0;top:calc(100% + 6px);min-width:260px;background:#fff;border:1px solid var(--line);border-radius:10px;box-shadow:0 10px 30px rgba(0,0,0,.08);padding:8px;z-index:10}
.menu-panel .who{padding:6px 10px;color:var(--muted);font-size:13px;border-bottom:1px solid var(--line);margin-bottom:6px}
.menu-panel a,.menu-panel button{display:block;width:100%;text-align:left;padding:7px 10px;border-radius:6px;color:var(--text);text-decoration:none;background:none;border:0;font:inherit;cursor:pointer}
.menu-panel a:hover,.menu-panel button:hover{background:var(--gray-bg)}
.menu-panel a[aria-current=true]{font-weight:600}
.menu-panel .label{padding:6px 10px 2px;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
main{max-width:1040px;margin:32px auto;padding:0 24px}
.narrow{max-width:440px}
h1{font-size:24px;margin:0 0 4px;letter-spacing:-.01em}h2{font-size:17px;margin:0}
.sub{color:var(--muted);margin:0 0 24px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;margin-bottom:24px}
.card-head{display:flex;align-items:center;justify-content:space-between;gap:16px;padding:16px 20px;border-bottom:1px solid var(--line)}
.card-body{padding:20px}
.capacity{color:var(--muted);font-size:14px}
.meter{-webkit-appearance:none;appearance:none;vertical-align:middle;width:90px;height:6px;border:0;border-radius:3px;background:var(--gray-bg);margin-left:8px;overflow:hidden}
.meter::-webkit-progress-bar{background:var(--gray-bg)}.meter::-webkit-progress-value{background:var(--brand)}.meter::-moz-progress-bar{background:var(--brand)}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
table{width:100%;border-collapse:collapse}
th{white-space:nowrap;text-align:left;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);font-weight:600;padding:10px 16px;border-bottom:1px solid var(--line);background:#fafafa}
td{padding:12px 16px;border-bottom:1px solid var(--line);vertical-align:middle}
tr:last-child td{border-bottom:0}
.table-wrap{overflow-x:auto}.nowrap{white-space:nowrap}
blockquote{margin:12px 0;padding:8px 14px;border-left:3px solid var(--line);color:#374151;white-space:pre-wrap}
.muted{color:var(--muted)}.small{font-size:13px}
.badge{display:inline-block;padding:2px 9px;border-radius:999px;font-size:12px;font-weight:600;background:var(--gray-bg);color:#374151;text-transform:capitalize}
.badge.pending{background:var(--info-bg);color:var(--info)}.badge.accepted,.badge.sent,.badge.delivered{background:var(--ok-bg);color:var(--ok)}
.badge.expired,.badge.queued{background:var(--warn-bg);color:var(--warn)}.badge.revoked,.badge.declined,.badge.failed,.badge.bounced,.badge.complained{background:var(--bad-bg);color:var(--bad)}
.delivery-detail{max-width:16rem;margin-top:4px;overflow-wrap:anywhere}
.actions{display:flex;gap:6px;justify-content:flex-end;flex-wrap:nowrap}.actions form{margin:0}
.btn{display:inline-flex;align-items:center;gap:6px;padding:8px 14px;border-radius:8px;border:1px solid var(--line);background:#fff;color:var(--text);font:inherit;font-weight:500;cursor:pointer;text-decoration:none}
.btn:hover{background:var(--gray-bg)}
.btn.primary{background:var(--brand);border-color:var(--brand);color:#fff}.btn.primary:hover{background:var(--brand-d)}
.btn.danger{color:var(--bad)}.btn.small{padding:5px 10px;font-size:13px}
.btn:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:2px solid var(--brand);outline-offset:2px}
label{display:block;font-weight:600;font-size:14px;margin:0 0 6px}
.field{margin-bottom:16px}.hint{font-weight:400;color:var(--muted);font-size:13px}
input[type=text],input[type=email],input[type=number],select,textarea{width:100%;padding:9px 11px;border:1px solid #d1d5db;border-radius:8px;font:inherit;background:#fff}
input[readonly]{background:var(--gray-bg);color:#374151}
textarea{min-height:84px;resize:vertical}
.row{display:grid;grid-template-columns:2fr 1fr 1fr;gap:16px}
.invite-panel{border-top:1px solid var(--line);background:#fcfcfd}
.invite-panel>summary{list-style:none}.invite-panel>summary::-webkit-details-marker{display:none}
.field-error{color:var(--bad);font-size:13px;margin-top:4px}
.alert{padding:12px 16px;border-radius:10px;margin-bottom:20px;border:1px solid}
.alert.error{background:var(--bad-bg);border-color:#fecaca;color:var(--bad)}
.alert.notice{background:var(--ok-bg);border-color:#a7f3d0;color:var(--ok)}
.inline-select{display:flex;gap:6px;align-items:center}.inline-select select{width:auto;padding:5px 8px}
.center{text-align:center}.big{font-size:40px;margin:0 0 8px}
.top-links{display:flex;align-items:center;gap:16px}.top-links>a{color:var(--muted);text-decoration:none;font-size:14px}.top-links>a:hover{color:var(--text)}
.bulk-results{margin:0 0 6px;padding-left:18px}.alert .small{margin:6px 0 0}
.tabs{display:flex;gap:4px;margin:0 0 20px;border-bottom:1px solid var(--line)}
.tabs a{padding:8px 14px;text-decoration:none;color:var(--muted);border-bottom:2px solid transparent;margin-bottom:-1px}
.tabs a[aria-current=page]{color:var(--text);border-bottom-color:var(--brand);font-weight:600}
.secret{display:flex;gap:8px}.secret input{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.events{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:4px 16px;margin:0;padding:0;border:0}
.events label{font-weight:400;display:flex;gap:6px;align-items:center;margin:0}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px;overflow-wrap:anywhere}
.stack>*+*{margin-top:12px}
@media (max-width:720px){.row{grid-template-columns:1fr}td,th{padding:10px 12px}.topbar{padding:12px 16px}}
`;

/** Progressive enhancement only: every form works without it. */
export const APP_JS = `
document.addEventListener('submit', function (e) {
  var form = e.target;
  var question = form.getAttribute('data-confirm');
  if (question && !window.confirm(question)) { e.preventDefault(); return; }
  var button = form.querySelector('button[type=submit]');
  if (button) { setTimeout(function () { button.disabled = true; }, 0); }
});
document.addEventListener('click', function (e) {
  var button = e.target.closest && e.target.closest('[data-copy]');
  if (!button) return;
  var field = document.getElementById(button.getAttribute('data-copy'));
  if (!field) return;
  field.select();
  var done = function () { button.textContent = 'Copied'; };
  if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand('copy'); done(); });
  else { document.execCommand('copy'); done(); }
});
`;
