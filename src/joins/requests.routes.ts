// SCAFFOLD: replaced by the helper that owns requests.
import { createRouter } from '../lib/openapi';
export const joinRequestRoutes = createRouter();
export const myJoinRequestRoutes = createRouter();
