// SCAFFOLD: replaced by the helper that owns domains.
import { createRouter } from '../lib/openapi';
export const domainRoutes = createRouter();
export const suggestionRoutes = createRouter();
