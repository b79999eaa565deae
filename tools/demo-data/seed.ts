/**
 * Loads the synthetic population into the three agency databases with COPY FROM STDIN.
 *
 * The flow, and why memory stays flat at 8 million citizens:
 *
 *   generatePopulation ──household──▶ ChunkBuffer (COPY text per table) ──chunk──▶ 3 databases in parallel
 *
 * The generator yields one household at a time. Its rows become COPY text lines at once, encoded as UTF-8
 * into the current chunk's ~64 KB buffers per table, so no row object outlives its household. When a chunk
 * holds `chunkCitizens` citizens it is written: per database, one COPY per table, the three databases
 * concurrently. While a chunk is being written the next one is generated (the loop
 * yields to the event loop every few hundred households so the sockets keep draining), and the next chunk
 * is only sent once the previous one is fully written. So at most two chunks of text exist at any time:
 * memory is bounded by the chunk size, never by the population size.
 *
 * Backpressure: each COPY is fed through stream.pipeline from a Readable over the chunk's pieces, which
 * pauses whenever the connection's buffer is full; across chunks, the loop waits for the previous chunk.
 *
 * Speed, and why the load is one transaction per database. Maintaining secondary indexes row by row and
 * checking foreign keys row by row (an SPI query per row and per FK) cost 3–6 times the insertion itself
 * (measured: COPY into cong_dan runs at ~200k rows/s bare and ~45k rows/s with its indexes);
 * building an index once by sorting, and validating an FK with one anti-join, is far cheaper. So, inside
 * one transaction per database, the seeder:
 *   1. checks that the tables are empty (ids of cards and births are numbered from 1 by the generator);
 *   2. notes the definitions of the tables' foreign keys (theirs, and any other table's that points at
 *      them), primary keys, UNIQUE constraints and other indexes (pg_get_constraintdef, pg_get_indexdef)
 *      and drops them. Keys too: kept, their btrees took random inserts that slowed the load as they grew
 *      (18k citizens/s falling to 15k at 8 million), and the register's INSERT … SELECT of 8 million codes
 *      in random order cost minutes. Adding a key back in step 5 sorts once and still refuses duplicates;
 *   3. TRUNCATEs the (empty) tables, which lets every COPY use FREEZE: rows are written already frozen,
 *      so the first reads and autovacuum do not rewrite the whole table afterwards;
 *   4. streams all chunks (cong_dan before ho_gia_dinh before thanh_vien_ho/dang_ky_cu_tru within a chunk,
 *      the order the FKs need, though they are only checked again in step 5);
 *   5. fills the derived tables, adds the keys back, recreates the indexes from their exact definitions
 *      and adds the foreign keys back, which validates
 *      every row against its parent table; moves the the_can_cuoc and dang_ky_khai_sinh id sequences
 *      past the largest id; COMMITs; then VACUUMs and ANALYZEs.
 * DDL is transactional in PostgreSQL: if anything fails, the ROLLBACK restores the indexes and foreign keys
 * and leaves the tables empty, as if nothing had happened. The schema after COMMIT is the one the
 * migrations created (same names, same definitions). The price: the tables are locked for the duration
 * of the load, so other sessions reading them wait until the population is complete (never see half of it).
 * Across the three databases the commits happen together at the end; only a failure of a COMMIT itself
 * could leave one database seeded and another not.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { copyLine, copyStatement } from './copy-text';
import { generatePopulation } from './generator';
import { TABLES_BY_DATABASE, type DatabaseName, type PopulationBatch, type RowOf, type TableName } from './rows';

export interface SeedPools {
  residents: Pool;
  nationalId: Pool;
  birthRegistry: Pool;
}

export interface SeedOptions {
  citizens: number;
  seed: string;
  /** Called after each chunk has been written (committed only at the end), with the citizens and rows written so far. */
  onProgress?: (progress: { citizens: number; rows: number; total: number }) => void;
  /** Called when loading ends and the indexes and foreign keys are being rebuilt, then when the tables are vacuumed and analysed. */
  onPhase?: (phase: 'indexes' | 'vacuum') => void;
  /** "Today" for the generator (default 2026-11-01). */
  referenceDate?: Date;
  /** Citizens per chunk; default 20,000 (about 13 MB of COPY text, outside the JS heap). */
  chunkCitizens?: number;
}

export interface SeedTotals {
  citizens: number;
  households: number;
  cards: number;
  births: number;
}

const DEFAULT_CHUNK_CITIZENS = 20_000;
const PIECE_BYTES = 64 * 1024;
/** Households generated between two turns of the event loop while a chunk is being written. */
const HOUSEHOLDS_PER_TURN = 256;
const DATABASES = Object.keys(TABLES_BY_DATABASE) as DatabaseName[];
const ALL_TABLES = DATABASES.flatMap((database) => TABLES_BY_DATABASE[database]) as TableName[];
/** Tables whose ids the generator numbers itself. */
const NUMBERED_TABLES: ReadonlyArray<readonly [DatabaseName, TableName]> = [
  ['nationalId', 'the_can_cuoc'],
  ['birthRegistry', 'dang_ky_khai_sinh'],
];

/**
 * COPY text of a chunk of households, per table, UTF-8 encoded straight into ~64 KB buffers.
 * Encoding each line into a buffer as it is made is the cheapest path found: joining strings would first
 * build a rope of every line and then flatten it, costing more than generating the rows, and JS strings
 * of Vietnamese text take two bytes per character where UTF-8 takes about 1.1 (and lives off the JS heap).
 */
class ChunkBuffer {
  readonly pieces = {} as Record<TableName, Buffer[]>;
  private readonly current = {} as Record<TableName, Buffer | null>;
  private readonly used = {} as Record<TableName, number>;
  citizens = 0;
  rows = 0;

  constructor() {
    for (const table of ALL_TABLES) {
      this.pieces[table] = [];
      this.current[table] = null;
      this.used[table] = 0;
    }
  }

  add(batch: PopulationBatch): void {
    this.citizens += batch.cong_dan.length;
    for (const table of ALL_TABLES) {
      const rows = batch[table] as ReadonlyArray<RowOf<typeof table>>;
      if (rows.length === 0) continue;
      this.rows += rows.length;
      // One household's lines of a table in one write: a few hundred bytes per call into the buffer.
      let text = copyLine(table, rows[0]);
      for (let i = 1; i < rows.length; i++) text += copyLine(table, rows[i]);
      this.write(table, text);
    }
  }

  private write(table: TableName, text: string): void {
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8, so this much room always suffices.
    const worstCase = text.length * 3;
    if (worstCase > PIECE_BYTES) {
      this.closePiece(table);
      this.pieces[table].push(Buffer.from(text, 'utf8'));
      return;
    }
    if (this.used[table] + worstCase > PIECE_BYTES) this.closePiece(table);
    const buffer = (this.current[table] ??= Buffer.allocUnsafe(PIECE_BYTES));
    this.used[table] += buffer.write(text, this.used[table], 'utf8');
  }

  private closePiece(table: TableName): void {
    const buffer = this.current[table];
    if (buffer && this.used[table] > 0) this.pieces[table].push(buffer.subarray(0, this.used[table]));
    this.current[table] = null;
    this.used[table] = 0;
  }

  /** Closes the open pieces; call once before writing. */
  seal(): this {
    for (const table of ALL_TABLES) this.closePiece(table);
    return this;
  }
}

/**
 * Tables filled from the loaded rows rather than by the generator, once all chunks are in, with the
 * statement that fills them: the register of personal codes holds every citizen's code (a foreign key
 * from cong_dan requires it). They are emptied, stripped and rebuilt like the loaded tables.
 */
const DERIVED_TABLES: Partial<Record<DatabaseName, Record<string, string>>> = {
  residents: {
    so_dinh_danh: `INSERT INTO so_dinh_danh (so_dinh_danh, so_dinh_danh_hien_hanh, trang_thai, ngay_cap)
                   SELECT so_dinh_danh, so_dinh_danh, 'HIEU_LUC', ngay_tao FROM cong_dan`,
  },
};

interface Constraint {
  table: string;
  name: string;
  definition: string;
}

/** What the load removes and puts back: foreign keys from or to the tables, their keys, and their other indexes. */
interface DeferredSchema {
  foreignKeys: Constraint[];
  keys: Constraint[];
  indexes: { name: string; definition: string }[];
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const addConstraint = (c: Constraint) => `ALTER TABLE ${c.table} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.definition}`;

/** Every table a load empties and fills in one database: the generator's, then the derived ones. */
export const tablesLoaded = (database: DatabaseName) => [...TABLES_BY_DATABASE[database], ...Object.keys(DERIVED_TABLES[database] ?? {})];

async function beginLoad(client: PoolClient, database: DatabaseName): Promise<DeferredSchema> {
  const tables = tablesLoaded(database);
  await client.query('BEGIN');
  // Index builds at the end sort millions of keys, and a parallel build shares this among its workers:
  // 8 million keys of 12 characters take about 400 MB, and spilling them to temporary files costs more
  // than the sort. (The embedded PostgreSQL has 1GB already; this is for a database of the ministry's.)
  await client.query(`SET LOCAL maintenance_work_mem = '1GB'`);
  // Nobody may write between the emptiness check and the TRUNCATE.
  await client.query(`LOCK TABLE ${tables.join(', ')} IN ACCESS EXCLUSIVE MODE`);
  for (const table of tables) {
    const { rows } = await client.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${table}) AS any`);
    if (rows[0].any) {
      throw new Error(`seedPopulation needs empty tables, but ${table} (${database}) already has rows; truncate the agency tables first.`);
    }
  }
  // Foreign keys from or to the tables, then their primary keys and UNIQUE constraints (a UNIQUE
  // constraint never depends on the primary key, and keys are dropped only after the foreign keys on them).
  const { rows: constraints } = await client.query<Constraint & { kind: string }>(
    `SELECT c.contype AS kind, c.conrelid::regclass::text AS table, c.conname AS name, pg_get_constraintdef(c.oid) AS definition
       FROM pg_constraint c
      WHERE (c.contype = 'f' AND (c.conrelid = ANY ($1::regclass[]) OR c.confrelid = ANY ($1::regclass[])))
         OR (c.contype IN ('p', 'u') AND c.conrelid = ANY ($1::regclass[]))
      ORDER BY c.contype = 'f' DESC, c.contype, c.conname`,
    [tables],
  );
  const foreignKeys = constraints.filter((c) => c.kind === 'f');
  const keys = constraints.filter((c) => c.kind !== 'f');
  // Indexes that do not implement a constraint.
  const { rows: indexes } = await client.query<{ name: string; definition: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i
      WHERE i.indrelid = ANY ($1::regclass[])
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
      ORDER BY 1`,
    [tables],
  );
  for (const constraint of constraints) await client.query(`ALTER TABLE ${constraint.table} DROP CONSTRAINT ${quoteIdent(constraint.name)}`);
  for (const index of indexes) await client.query(`DROP INDEX ${index.name}`);
  // Truncating in this transaction is what allows COPY ... FREEZE.
  await client.query(`TRUNCATE ${tables.join(', ')}`);
  return { foreignKeys, keys, indexes };
}

async function finishLoad(client: PoolClient, database: DatabaseName, deferred: DeferredSchema): Promise<void> {
  for (const fill of Object.values(DERIVED_TABLES[database] ?? {})) await client.query(fill);
  for (const key of deferred.keys) await client.query(addConstraint(key));
  for (const index of deferred.indexes) await client.query(index.definition);
  for (const fk of deferred.foreignKeys) await client.query(addConstraint(fk));
  for (const [owner, table] of NUMBERED_TABLES) {
    if (owner !== database) continue;
    // The next default id follows the largest id the generator used.
    await client.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT COALESCE(max(id), 0) + 1 FROM ${table}), false)`);
  }
}

async function copyTable(client: PoolClient, table: TableName, pieces: Buffer[]): Promise<void> {
  if (pieces.length === 0) return;
  const stream = client.query(copyFrom(`${copyStatement(table)} WITH (FREEZE)`));
  await pipeline(Readable.from(pieces, { objectMode: false }), stream);
}

/** Writes one chunk: per database its tables in FK order; the databases in parallel. */
async function writeChunk(clients: Record<DatabaseName, PoolClient>, chunk: ChunkBuffer): Promise<void> {
  await settleAll(
    DATABASES.map(async (database) => {
      for (const table of TABLES_BY_DATABASE[database]) await copyTable(clients[database], table, chunk.pieces[table]);
    }),
  );
}

/** Like Promise.all, but waits for every operation before rethrowing the first failure (no client is still busy). */
async function settleAll<T>(operations: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(operations);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

export async function seedPopulation(pools: SeedPools, options: SeedOptions): Promise<SeedTotals> {
  const chunkCitizens = Math.max(1, options.chunkCitizens ?? DEFAULT_CHUNK_CITIZENS);
  const totals: SeedTotals = { citizens: 0, households: 0, cards: 0, births: 0 };
  const clients = {} as Record<DatabaseName, PoolClient>;
  let failed = false;
  try {
    for (const database of DATABASES) clients[database] = await pools[database].connect();
    const deferred = await settleAll(DATABASES.map((database) => beginLoad(clients[database], database)));

    let written = 0;
    let rowsWritten = 0;
    let inFlight: Promise<void> | null = null;
    const send = (chunk: ChunkBuffer): Promise<void> => {
      const { citizens, rows } = chunk;
      const writing = writeChunk(clients, chunk.seal()).then(() => {
        written += citizens;
        rowsWritten += rows;
        options.onProgress?.({ citizens: written, rows: rowsWritten, total: options.citizens });
      });
      // Awaited before the next chunk is sent; until then this keeps Node from calling a failure unhandled.
      writing.catch(() => undefined);
      return writing;
    };

    let chunk = new ChunkBuffer();
    for (const batch of generatePopulation({ citizens: options.citizens, seed: options.seed, referenceDate: options.referenceDate })) {
      chunk.add(batch);
      totals.citizens += batch.cong_dan.length;
      totals.households += batch.ho_gia_dinh.length;
      totals.cards += batch.the_can_cuoc.length;
      totals.births += batch.dang_ky_khai_sinh.length;
      if (inFlight && totals.households % HOUSEHOLDS_PER_TURN === 0) await nextTurn();
      if (chunk.citizens >= chunkCitizens) {
        if (inFlight) await inFlight;
        inFlight = send(chunk);
        chunk = new ChunkBuffer();
      }
    }
    if (inFlight) await inFlight;
    if (chunk.citizens > 0) await send(chunk);

    options.onPhase?.('indexes');
    await settleAll(DATABASES.map((database, i) => finishLoad(clients[database], database, deferred[i])));
    await settleAll(DATABASES.map((database) => clients[database].query('COMMIT')));
    options.onPhase?.('vacuum');
    // VACUUM too, not only ANALYZE: every table just took millions of inserts, which wakes autovacuum for
    // each of them within the minute. It then competed with the first requests (measured: the first round of
    // a benchmark after seeding 8 million ran alongside 35 s of autovacuum). The COPY FREEZE tables are
    // marked all-frozen already and cost little; the register, filled by INSERT … SELECT, gets its
    // visibility map here, which its index-only scans need.
    await settleAll(DATABASES.map((database) => clients[database].query(`VACUUM (ANALYZE) ${tablesLoaded(database).join(', ')}`)));
    return totals;
  } catch (error) {
    failed = true;
    // Undo everything (schema changes included) where the connection still works; a broken one is destroyed below.
    await Promise.allSettled(Object.values(clients).map((client) => client.query('ROLLBACK')));
    throw error;
  } finally {
    for (const client of Object.values(clients)) client.release(failed);
  }
}
