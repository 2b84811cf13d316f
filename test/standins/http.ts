/* What the local stand-ins (email API, webhook receiver) share: a raw body, and a free loopback port. */
import type { IncomingMessage, Server } from 'node:http';

export const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let data = '';
    req.on('data', (chunk) => (data += chunk));
    req.on('end', () => resolve(data));
  });

/** Listens on a free port of 127.0.0.1, without holding the process open. */
export function listenOnLoopback(server: Server): Promise<{ server: Server; origin: string }> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.unref();
      resolve({ server, origin: `http://127.0.0.1:${port}` });
    });
  });
}
