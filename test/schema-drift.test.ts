import fs from 'node:fs';
import { Client, Pool } from 'pg';
import { AGENCIES } from '../lib/agencies';
import { findSchemaDrift, readPrismaModels } from '../tools/schema-drift';
import { migrate, readMigrations } from '../tools/migrate';
import { testDatabases, withScratchDatabase } from './support/databases';

/**
 * Every Prisma model and field matches its agency database: table, column, type and nullability.
 * The migrations are the agencies' DDL; the Prisma schemas are our reading of it.
 */
const prismaSchema = (id: string) => fs.readFileSync(`prisma/${id}/schema.prisma`, 'utf8');

describe.each(AGENCIES.map((a) => [a.id, a] as const))('the %s Prisma schema', (id) => {
  it('maps every table and column of the migrated database, with matching types and nullability', async () => {
    const pool = new Pool({ connectionString: testDatabases().urls[id] });
    try {
      const models = readPrismaModels(prismaSchema(id));
      expect(models.length).toBeGreaterThan(0);
      expect(await findSchemaDrift(prismaSchema(id), pool)).toEqual([]);
    } finally {
      await pool.end();
    }
  });
});

describe('schema drift detection', () => {
  it('fails when a column is renamed in the SQL', async () => {
    await withScratchDatabase('drift_renamed', async (_url, pool) => {
      const [init] = readMigrations('prisma/residents/migrations');
      await pool.query(init.sql.replace(/\bho_ten\b/g, 'ho_va_ten'));
      const problems = await findSchemaDrift(prismaSchema('residents'), pool);
      expect(problems).toContain('Citizen.fullName: column cong_dan.ho_ten does not exist');
      expect(problems).toContain('Citizen: column cong_dan.ho_va_ten is not mapped by any field');
    });
  });

  it('fails when a type or nullability changes', async () => {
    await withScratchDatabase('drift_types', async (_url, pool) => {
      const [init] = readMigrations('prisma/national-id/migrations');
      await pool.query(init.sql.replace('so_the               VARCHAR(12)  NOT NULL', 'so_the               VARCHAR(20)'));
      // Only the first migration is applied: models of later tables are reported missing, and are not the point.
      const problems = (await findSchemaDrift(prismaSchema('national-id'), pool)).filter((p) => !/^model \w+: table .* does not exist$/.test(p));
      expect(problems).toEqual([
        'IdentityCard.number: the_can_cuoc.so_the is character varying(20), the model expects character varying(12)',
        'IdentityCard.number: the_can_cuoc.so_the is nullable, the model says required',
      ]);
    });
  });
});

describe('the migration runner', () => {
  it('records migrations in _prisma_migrations as prisma migrate deploy does, once', async () => {
    await withScratchDatabase('migrate_runner', async (url) => {
      const dir = 'prisma/birth-registry/migrations';
      const names = readMigrations(dir).map((m) => m.name);
      expect(names[0]).toBe('20261126000000_init');
      expect(await migrate(url, dir)).toEqual(names);
      expect(await migrate(url, dir)).toEqual([]);
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query(
          'SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
        );
        expect(rows).toHaveLength(names.length);
        expect(rows[0]).toMatchObject({
          migration_name: '20261126000000_init',
          checksum: readMigrations(dir)[0].checksum,
          applied_steps_count: 1,
          rolled_back_at: null,
        });
        expect(rows[0].checksum).toMatch(/^[0-9a-f]{64}$/);
        expect(rows[0].finished_at).toBeInstanceOf(Date);
        // A migration edited after it was applied is refused, not silently skipped.
        await client.query(`UPDATE _prisma_migrations SET checksum = repeat('0', 64)`);
        await expect(migrate(url, dir)).rejects.toThrow(/was changed after it was applied/);
      } finally {
        await client.end();
      }
    });
  });
});

describe('the embedded PostgreSQL', () => {
  const { urls, auditUrl } = testDatabases();
  it.each([...Object.entries(urls), ['audit', auditUrl]])(
    'creates the %s database with the builtin C.UTF-8 collation: code point order, Vietnamese case',
    async (_name, url) => {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query(
          `SELECT d.datlocprovider AS provider, d.datlocale AS locale,
                  lower('NGUYỄN THỊ ĐÀO') AS lowered,
                  (SELECT array_agg(w ORDER BY w) FROM unnest(ARRAY['đào', 'Zung', 'an', 'Ánh']) w) AS sorted
             FROM pg_database d WHERE d.datname = current_database()`,
        );
        expect(rows[0]).toEqual({ provider: 'b', locale: 'C.UTF-8', lowered: 'nguyễn thị đào', sorted: ['Zung', 'an', 'Ánh', 'đào'] });
      } finally {
        await client.end();
      }
    },
  );
});
