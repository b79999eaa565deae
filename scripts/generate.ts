import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { AGENCIES } from '../lib/agencies';

/**
 * npm run generate (also run after npm install): the Prisma clients of the three agency schemas and the
 * resolver types of the three subgraph schemas. Works offline: `prisma generate` needs no engine
 * download when PRISMA_SCHEMA_ENGINE_BINARY names any existing executable (it is not run for generate).
 */
const root = path.resolve(__dirname, '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' };

for (const agency of AGENCIES) {
  execFileSync(bin('prisma'), ['generate', '--schema', `prisma/${agency.id}/schema.prisma`], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`generated the Prisma client of ${agency.id}`);
}
execFileSync(bin('graphql-codegen'), ['--config', 'codegen.ts'], { cwd: root, env, stdio: 'inherit' });
console.log('generated the resolver types of the subgraphs');
