import { defineConfig } from 'drizzle-kit';

// Migrations are generated from the schema and committed; both entries apply the same files.
export default defineConfig({
  dialect: 'turso',
  schema: './src/db/schema.ts',
  out: './drizzle',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'file:./data/callerpop.db' },
});
