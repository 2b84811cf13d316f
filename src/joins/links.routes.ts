// SCAFFOLD: replaced by the helper that owns links.
import { createRouter } from '../lib/openapi';
export const inviteLinkRoutes = createRouter();
export const joinRoutes = createRouter();
