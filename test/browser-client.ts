import { exports } from 'cloudflare:workers';
import { BASE, anyIp, settleEmails } from './helpers';

/** A browser-like client: keeps cookies, reads the CSRF field from pages, posts forms. */
export class Browser {
  cookies = new Map<string, string>();
  ip = anyIp();
  async get(path: string) {
    return this.send(new Request(`${BASE}${path}`, { headers: this.headers(), redirect: 'manual' }));
  }
  async post(path: string, fields: Record<string, string>, extra: Record<string, string> = {}) {
    const csrf = this.cookies.get('8b_csrf') ?? '';
    return this.send(
      new Request(`${BASE}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { ...this.headers(), 'Content-Type': 'application/x-www-form-urlencoded', Origin: BASE, ...extra },
        body: new URLSearchParams({ _csrf: csrf, ...fields }),
      }),
    );
  }
  headers(): Record<string, string> {
    return { Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'CF-Connecting-IP': this.ip };
  }
  async send(req: Request) {
    const res = await exports.default.fetch(req);
    await settleEmails(req.method);
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, v] = pair.split('=');
      if (/Max-Age=0|expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(k);
      else this.cookies.set(k, v);
    }
    return { status: res.status, location: res.headers.get('location'), headers: res.headers, html: await res.text() };
  }
  signInAs(sessionToken: string) {
    this.cookies.set('8b_session', sessionToken);
    return this;
  }
}
