import type { Pool } from 'pg';
import { seedPopulation } from '../tools/demo-data/seed';
import { seedAgencyHooks } from '../tools/demo-data/agency-seeds';
import type { Agency } from '../lib/agencies';

/**
 * Seeds the demo population into empty databases; a database that already has citizens is left alone. Says how
 * many seconds the seeding took, or null when there was nothing to seed.
 */
export async function ensureSeeded(
  pools: { residents: Pool; nationalId: Pool; birthRegistry: Pool; byAgency: Record<Agency['id'], Pool> },
  options: { citizens: number; seed: string; log: (line: string) => void },
): Promise<{ seededSeconds: number | null }> {
  const seededSeconds = await seedPopulationOnce(pools, options);
  // Agencies added later have their own hooks, run whether or not the population was there already.
  await seedAgencyHooks(pools.byAgency, options.log);
  return { seededSeconds };
}

async function seedPopulationOnce(
  pools: { residents: Pool; nationalId: Pool; birthRegistry: Pool },
  options: { citizens: number; seed: string; log: (line: string) => void },
): Promise<number | null> {
  const existing = Number((await pools.residents.query('SELECT count(*) AS n FROM cong_dan')).rows[0].n);
  if (existing > 0) {
    options.log(`${existing.toLocaleString('en')} citizens already in the databases; not seeding.`);
    return null;
  }
  if (options.citizens === 0) return null;
  const started = Date.now();
  options.log(`seeding ${options.citizens.toLocaleString('en')} synthetic citizens (seed "${options.seed}")…`);
  const progress = new ProgressBar(options.citizens);
  const totals = await seedPopulation(pools, {
    citizens: options.citizens,
    seed: options.seed,
    onProgress: (p) => progress.update(p.citizens, p.rows),
    onPhase: (phase) => progress.phase(phase === 'indexes' ? 'building indexes and checking foreign keys' : 'vacuuming and gathering statistics'),
  });
  progress.done();
  const seconds = (Date.now() - started) / 1000;
  options.log(
    `seeded ${totals.citizens} citizens, ${totals.households} households, ${totals.cards} identity cards, ` +
      `${totals.births} birth registrations in ${seconds.toFixed(1)} s`,
  );
  return seconds;
}

/** Size on disk of each agency database, for the seeding report. */
export async function databaseSizes(pools: Record<'residents' | 'nationalId' | 'birthRegistry', Pool>): Promise<Record<string, string>> {
  const sizes: Record<string, string> = {};
  for (const name of ['residents', 'nationalId', 'birthRegistry'] as const) {
    const pool = pools[name];
    sizes[name] = (await pool.query<{ size: string }>('SELECT pg_size_pretty(pg_database_size(current_database())) AS size')).rows[0].size;
  }
  return sizes;
}

/**
 * One line, redrawn in place on a terminal (a line every 10% elsewhere): progress, citizens and rows
 * per second, and the time left at the current rate.
 */
class ProgressBar {
  private readonly started = Date.now();
  private lastPrintedTenth = -1;
  private readonly tty = Boolean(process.stdout.isTTY);

  constructor(private readonly total: number) {}

  update(citizens: number, rows: number): void {
    const seconds = (Date.now() - this.started) / 1000;
    const fraction = citizens / this.total;
    const rate = citizens / Math.max(seconds, 0.001);
    const left = rate > 0 ? (this.total - citizens) / rate : 0;
    const width = 30;
    const bar = '█'.repeat(Math.round(fraction * width)).padEnd(width, '░');
    const line =
      `  ${bar} ${(fraction * 100).toFixed(1).padStart(5)}%  ${citizens.toLocaleString('en')} citizens  ` +
      `${Math.round(rows / Math.max(seconds, 0.001)).toLocaleString('en')} rows/s  ${Math.round(rate).toLocaleString('en')} citizens/s  ` +
      `${formatDuration(left)} left`;
    if (this.tty) {
      process.stdout.write(`\r${line}`);
    } else if (Math.floor(fraction * 10) > this.lastPrintedTenth) {
      this.lastPrintedTenth = Math.floor(fraction * 10);
      console.log(line);
    }
  }

  /** Each phase and when it began: the final line says how long each took. */
  private readonly phases: { name: string; at: number }[] = [{ name: 'loading', at: this.started }];

  phase(description: string): void {
    if (this.tty) process.stdout.write('\n');
    this.phases.push({ name: description, at: Date.now() });
    console.log(`  ${description} (${formatDuration((Date.now() - this.started) / 1000)} so far)…`);
  }

  done(): void {
    const end = Date.now();
    const took = this.phases.map((p, i) => `${p.name} ${formatDuration(((this.phases[i + 1]?.at ?? end) - p.at) / 1000)}`);
    console.log(`  done in ${formatDuration((end - this.started) / 1000)}: ${took.join(', ')}`);
  }
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
}

/**
 * A citizen worth showing: living, born 2000–2010, with a valid identity card, whose birth registration
 * names two parents who are citizens, in a household.
 */
export async function exampleCitizen(pools: { residents: Pool; nationalId: Pool; birthRegistry: Pool }): Promise<string | null> {
  const { rows: births } = await pools.birthRegistry.query<{ code: string }>(
    `SELECT so_dinh_danh_tre AS code FROM dang_ky_khai_sinh
      WHERE so_dinh_danh_tre IS NOT NULL AND so_dinh_danh_cha IS NOT NULL AND so_dinh_danh_me IS NOT NULL
        AND ngay_sinh_tre BETWEEN '2000-01-01' AND '2010-12-31'
      ORDER BY so_dang_ky LIMIT 500`,
  );
  const { rows: carded } = await pools.nationalId.query<{ code: string }>(
    `SELECT so_dinh_danh AS code FROM the_can_cuoc
      WHERE so_dinh_danh = ANY($1) AND trang_thai = 'CON_HIEU_LUC' AND (ngay_het_han IS NULL OR ngay_het_han > now())`,
    [births.map((birth) => birth.code)],
  );
  const { rows } = await pools.residents.query<{ code: string }>(
    `SELECT c.so_dinh_danh AS code
       FROM cong_dan c JOIN thanh_vien_ho t ON t.so_dinh_danh = c.so_dinh_danh AND t.den_ngay IS NULL
      WHERE c.so_dinh_danh = ANY($1) AND c.ngay_mat IS NULL
      ORDER BY c.so_dinh_danh LIMIT 1`,
    [carded.map((card) => card.code)],
  );
  return rows[0]?.code ?? null;
}
