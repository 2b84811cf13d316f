// `npm run -s last-link -- someone@example.com`: prints the link of the newest email that the local
// `send_email` binding wrote for that address (wrangler dev saves each message as a .eml file under
// .wrangler/tmp). Add --token to print only the token.
import { newestLink } from './mailbox.mjs';

const args = process.argv.slice(2);
const tokenOnly = args.includes('--token');
const address = args.find((a) => !a.startsWith('--'));
if (!address) {
  console.error('usage: npm run -s last-link -- <email> [--token]');
  process.exit(2);
}
const link = newestLink(address);
if (!link) {
  console.error(`No email with a link to ${address} under .wrangler/ yet.`);
  process.exit(1);
}
console.log(tokenOnly ? new URL(link).searchParams.get('token') : link);
