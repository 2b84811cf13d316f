import type { ChildProcess } from 'node:child_process';
import { startServer, stopServer } from './server';

let server: ChildProcess | undefined;

export async function setup() {
  server = await startServer();
}

export async function teardown() {
  if (server) stopServer(server);
}
