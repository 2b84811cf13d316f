import type { Context } from 'hono';
import type { AppEnv } from '../env';

/**
 * The Content-Security-Policy of /docs, no looser than Scalar needs: its script from this origin
 * (Workers static assets, never a CDN), the document from /openapi.json, and inline styles (the
 * reference injects its stylesheet at runtime). No inline script, no other origin, no framing.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Scalar's options: no remote fonts, no request proxy (so nothing leaves this origin). */
const CONFIGURATION = JSON.stringify({
  url: '/openapi.json',
  withDefaultFonts: false,
  proxyUrl: '',
  hideDownloadButton: false,
  metaData: { title: '8bit-ai Invitations API' },
});

const escapeAttr = (s: string) => s.replaceAll('&', '&amp;').replaceAll("'", '&#39;').replaceAll('<', '&lt;');

/** GET /docs: the API reference, rendered in the browser by Scalar from /openapi.json. */
export function docsPage(c: Context<AppEnv>) {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>API reference · 8bit-ai Invitations</title>
</head>
<body>
<noscript>The API reference needs JavaScript. The raw document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<script id="api-reference" type="application/json" data-url="/openapi.json" data-configuration='${escapeAttr(CONFIGURATION)}'></script>
<script src="/docs/scalar.js"></script>
</body>
</html>`;
  return c.html(html, 200, {
    'Content-Security-Policy': DOCS_CSP,
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'public, max-age=300',
  });
}
