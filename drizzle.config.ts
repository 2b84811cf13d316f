import { defineConfig } from 'drizzle-kit';

/** `npx drizzle-kit generate` writes the next D1 migration from src/db/schema.ts. */
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema.ts',
  out: './migrations',
});
