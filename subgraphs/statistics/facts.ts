import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Agency } from '../../lib/agencies';
import { sqlLiteral } from '../../lib/code-table';
import { copyTextValue, copyValue } from '../../lib/copy-text';
import { codeDiscrepancies } from '../../lib/personal-code';
import { CARD_STATUS } from '../national-id/codes';
import { RELATIONSHIP, RESIDENCE_KIND, RESIDENCE_STATUS } from '../residents/codes';
import type { Pseudonymiser } from './pseudonyms';

/**
 * The facts of the read model, one definition per store table: which source rows it is made from (a SELECT on the
 * agency's database, every value in PostgreSQL's text form) and how each of its columns is made from such a row.
 * One definition serves both ways the refresh writes facts:
 *  - a refresh replaces the facts of a few hundred persons or registrations: the rows with these keys, read by an
 *    ordinary query (`readByKeys`), then written with COPY (`writeRows`);
 *  - a rebuild from scratch streams a whole table (`copyAll`): COPY (SELECT …) TO STDOUT on the agency, each line
 *    turned into the store's line here, COPY … FROM STDIN into the store, the three at once. No row becomes a
 *    JavaScript object and no page is a statement of its own: the agency and the store each work on their own
 *    core while this process only splits lines, computes the pseudonyms a few thousand at a time and joins lines.
 * Both ways read the same text (COPY's, and the query's with no type parsing, escaped as COPY does), so a fact comes
 * out the same whichever way it was written.
 */
/**
 * A source row as COPY text fields: each value escaped, \N for null. That is what COPY TO gives, split at its tabs,
 * so a value that only passes through is never unescaped and escaped again; a refresh's query rows are escaped once.
 */
export type SourceRow = readonly string[];

/** How a column of the store is made from a source row. */
export type Column =
  /** The pseudonym of the id (null: null), as the store's bytea. */
  | { pid: (row: SourceRow) => string | null }
  /** The record key of the id. */
  | { rk: (row: SourceRow) => string }
  /** The column's COPY text. */
  | { text: (row: SourceRow) => string };

export interface Fact {
  /** The store's table, and its columns in the order made. */
  table: string;
  columns: readonly (readonly [string, Column])[];
  source: Agency['id'];
  /** Every source row: SELECT … FROM …, no WHERE. */
  select: string;
  /** The source column a refresh selects rows by, and its type. */
  key: { column: string; type: string };
}

/** Source field i as it is: for a value that passes through. */
const field = (i: number) => (row: SourceRow) => row[i];
/** Source value i (null for null), escapes undone: for a value the refresh computes with. */
export const value = (row: SourceRow, i: number): string | null => copyTextValue(row[i]);
/** Source value i, which the SELECT never leaves null. */
const at = (i: number) => (row: SourceRow) => value(row, i) as string;

export const PERSONS: Fact = {
  table: 'st_dan_so',
  source: 'residents',
  select: 'SELECT so_dinh_danh, gioi_tinh, ngay_sinh, ngay_mat, dan_toc, ton_giao FROM cong_dan',
  key: { column: 'so_dinh_danh', type: 'char(12)' },
  columns: [
    ['pid', { pid: at(0) }],
    ['rk', { rk: at(0) }],
    ['gioi_tinh', { text: field(1) }],
    ['ngay_sinh', { text: field(2) }],
    // The province of the code: its first three digits.
    ['ma_tinh_ma', { text: (row) => copyValue(at(0)(row).slice(0, 3)) }],
    ['ngay_mat', { text: field(3) }],
    ['dan_toc', { text: field(4) }],
    ['ton_giao', { text: field(5) }],
    ['ma_lech', { text: (row) => (codeDisagrees(at(0)(row), at(1)(row), at(2)(row)) ? 't' : 'f') }],
  ],
};

export const RESIDENCES: Fact = {
  table: 'st_cu_tru',
  source: 'residents',
  // A kind the code table does not know is null, which the store refuses: the rebuild fails rather than guess.
  // A registration that ended without an end date recorded counts for no day at all.
  select: `SELECT so_dinh_danh,
                  CASE loai_cu_tru WHEN ${sqlLiteral(RESIDENCE_KIND, RESIDENCE_KIND.encode('PERMANENT'))} THEN 'P'
                                   WHEN ${sqlLiteral(RESIDENCE_KIND, RESIDENCE_KIND.encode('TEMPORARY'))} THEN 'T' END,
                  ma_tinh, quan_huyen, tu_ngay,
                  CASE WHEN den_ngay IS NULL AND trang_thai <> ${sqlLiteral(RESIDENCE_STATUS, RESIDENCE_STATUS.encode('ACTIVE'))} THEN tu_ngay ELSE den_ngay END
             FROM dang_ky_cu_tru`,
  key: { column: 'so_dinh_danh', type: 'char(12)' },
  columns: [
    ['pid', { pid: at(0) }],
    ['loai', { text: field(1) }],
    ['ma_tinh', { text: field(2) }],
    ['quan_huyen', { text: field(3) }],
    ['tu_ngay', { text: field(4) }],
    ['den_ngay', { text: field(5) }],
  ],
};

const household = (row: SourceRow) => `household:${at(0)(row)}`;

export const HOUSEHOLDS: Fact = {
  table: 'st_ho',
  source: 'residents',
  select: 'SELECT so_ho, ma_tinh, ngay_lap FROM ho_gia_dinh',
  key: { column: 'so_ho', type: 'text' },
  columns: [
    ['hid', { pid: household }],
    ['rk', { rk: household }],
    ['ma_tinh', { text: field(1) }],
    ['ngay_lap', { text: field(2) }],
  ],
};

/** Every membership a household had. */
export const MEMBERS: Fact = {
  table: 'st_thanh_vien_ho',
  source: 'residents',
  select: `SELECT so_ho, so_dinh_danh, quan_he_chu_ho = ${sqlLiteral(RELATIONSHIP, RELATIONSHIP.encode('HEAD'))}, tu_ngay, den_ngay FROM thanh_vien_ho`,
  key: { column: 'so_ho', type: 'text' },
  columns: [
    ['hid', { pid: household }],
    ['pid', { pid: at(1) }],
    ['chu_ho', { text: field(2) }],
    ['tu_ngay', { text: field(3) }],
    ['den_ngay', { text: field(4) }],
  ],
};

const card = (row: SourceRow) => `card:${at(0)(row)}`;

/**
 * Cards, each under its holder's code in force: `current` maps a re-issued code to the code in force (codes not in
 * it are in force; a holder the residents do not know keeps the pseudonym of the code on the card).
 */
export function cards(current: ReadonlyMap<string, string>): Fact {
  return {
    table: 'st_the',
    source: 'national-id',
    // Since when the status holds: a replaced card since its replacement was issued, an expired one since its
    // expiry date; otherwise since the row last changed (the best the agency records).
    select: `SELECT t.id, t.so_dinh_danh, t.loai_the, t.ngay_cap, t.ngay_het_han, t.trang_thai,
                    CASE t.trang_thai
                      WHEN ${sqlLiteral(CARD_STATUS, CARD_STATUS.encode('REPLACED'))} THEN coalesce(r.ngay_cap, (t.ngay_cap_nhat AT TIME ZONE 'UTC')::date)
                      WHEN ${sqlLiteral(CARD_STATUS, CARD_STATUS.encode('EXPIRED'))} THEN least(t.ngay_het_han, (t.ngay_cap_nhat AT TIME ZONE 'UTC')::date)
                      ELSE (t.ngay_cap_nhat AT TIME ZONE 'UTC')::date END
               FROM the_can_cuoc t LEFT JOIN the_can_cuoc r ON r.id = t.id_the_thay_the`,
    key: { column: 't.so_dinh_danh', type: 'char(12)' },
    columns: [
      ['cid', { pid: card }],
      ['rk', { rk: card }],
      ['pid', { pid: (row) => current.get(at(1)(row)) ?? at(1)(row) }],
      ['loai', { text: field(2) }],
      ['ngay_cap', { text: field(3) }],
      ['ngay_het_han', { text: field(4) }],
      ['trang_thai', { text: field(5) }],
      ['ngay_trang_thai', { text: field(6) }],
    ],
  };
}

/** The id of a card's row (`card:<id>`), whose pseudonym is its `cid`. */
export const cardId = card;

const birth = (row: SourceRow) => `birth:${at(0)(row)}`;

export const BIRTHS: Fact = {
  table: 'st_khai_sinh',
  source: 'birth-registry',
  select: 'SELECT so_dang_ky, ngay_dang_ky, ma_tinh_dang_ky, gioi_tinh_tre, ngay_sinh_tre, so_dinh_danh_tre FROM dang_ky_khai_sinh',
  key: { column: 'so_dang_ky', type: 'text' },
  columns: [
    ['rid', { pid: birth }],
    ['rk', { rk: birth }],
    ['child_pid', { pid: (row) => value(row, 5) }],
    ['ngay_sinh', { text: field(4) }],
    ['ngay_dang_ky', { text: field(1) }],
    ['ma_tinh', { text: field(2) }],
    ['gioi_tinh', { text: field(3) }],
  ],
};

/** Whether the code's sex and century digit or birth year digits disagree with the record (data quality). */
function codeDisagrees(code: string, sex: string, born: string): boolean {
  try {
    return codeDiscrepancies(code, { sex: sex === '1' ? 'MALE' : 'FEMALE', dateOfBirth: new Date(`${born}T00:00:00Z`) }).length > 0;
  } catch {
    return true; // not a well-formed code at all
  }
}

/** The store's COPY text of the facts made from these source rows: column by column, each column's pseudonyms in one call. */
export function factLines(fact: Fact, rows: readonly SourceRow[], pseudonyms: Pseudonymiser): string {
  const made = fact.columns.map(([, column]): string[] => {
    if ('text' in column) return rows.map(column.text);
    if ('rk' in column) return pseudonyms.recordKeys(rows.map(column.rk)).map(String);
    const ids = rows.map(column.pid);
    const present = ids.filter((id): id is string => id !== null);
    const hex = pseudonyms.pidsHex(present);
    let next = 0;
    // bytea's hex input, its backslash escaped for COPY text.
    return ids.map((id) => (id === null ? '\\N' : `\\\\x${hex[next++]}`));
  });
  let text = '';
  for (let i = 0; i < rows.length; i++) {
    text += made[0][i];
    for (let c = 1; c < made.length; c++) text += '\t' + made[c][i];
    text += '\n';
  }
  return text;
}

/** COPY into the fact's table; `freeze` (a table emptied in this transaction) writes its rows already frozen. */
const copyInto = (fact: Fact, freeze = false) => `COPY ${fact.table} (${fact.columns.map(([name]) => name).join(', ')}) FROM STDIN${freeze ? ' WITH (FREEZE)' : ''}`;

/** The source rows whose key is one of these, as COPY would give them. */
export async function readByKeys(source: Pool, fact: Fact, keys: readonly string[]): Promise<SourceRow[]> {
  if (keys.length === 0) return [];
  const { rows } = await source.query<(string | null)[]>({
    text: `${fact.select} WHERE ${fact.key.column} = ANY($1::${fact.key.type}[])`,
    values: [keys],
    rowMode: 'array',
    // Every value as PostgreSQL wrote it, as COPY gives it: no Date, no number.
    types: { getTypeParser: (() => (value: string) => value) as never },
  });
  return rows.map((row) => row.map(copyValue));
}

/** Writes the facts of these source rows into the store (in the caller's transaction). */
export async function writeRows(client: PoolClient, fact: Fact, rows: readonly SourceRow[], pseudonyms: Pseudonymiser): Promise<void> {
  if (rows.length === 0) return;
  await pipeline(Readable.from([Buffer.from(factLines(fact, rows, pseudonyms))]), client.query(copyFrom(copyInto(fact))));
}

/** Bytes of COPY text turned into facts at a time: a few thousand rows, so each pseudonym call is worth its overhead. */
const BATCH_BYTES = 256 * 1024;
const NEWLINE = 0x0a;

/**
 * COPY text lines in, the store's lines out. A chunk may end in the middle of a line (or of a character): the bytes
 * after its last newline wait for the next chunk. A newline byte never occurs inside a UTF-8 character, and COPY
 * escapes the ones inside values, so every newline ends a row.
 */
class FactLines extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  rows = 0;

  constructor(
    private readonly fact: Fact,
    private readonly pseudonyms: Pseudonymiser,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < BATCH_BYTES) return done();
    this.convert(false, done);
  }

  override _flush(done: TransformCallback): void {
    this.convert(true, done);
  }

  private convert(last: boolean, done: TransformCallback): void {
    try {
      const bytes = Buffer.concat(this.pending, this.pendingBytes);
      const end = last ? bytes.length : bytes.lastIndexOf(NEWLINE) + 1;
      if (last && end > 0 && bytes[end - 1] !== NEWLINE) throw new Error(`${this.fact.table}: the source's COPY text ended in the middle of a line`);
      const rest = bytes.subarray(end);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
      if (end === 0) return done();
      const rows = bytes
        .toString('utf8', 0, end - 1)
        .split('\n')
        .map((line) => line.split('\t'));
      this.rows += rows.length;
      done(null, Buffer.from(factLines(this.fact, rows, this.pseudonyms)));
    } catch (error) {
      done(error as Error);
    }
  }
}

/**
 * Every source row of the fact, streamed into the store (in the caller's transaction, on its connection), into a
 * table the transaction has emptied (TRUNCATE): the rows are written frozen, visible to all once it commits, so that
 * the index builds and the cube counting that read them next do not each set hint bits on, and write again, every
 * page. Says how many rows were written.
 */
export async function copyAll(client: PoolClient, sources: Record<Agency['id'], Pool>, fact: Fact, pseudonyms: Pseudonymiser): Promise<number> {
  const source = await sources[fact.source].connect();
  let failed: Error | undefined;
  try {
    const lines = new FactLines(fact, pseudonyms);
    await pipeline(source.query(copyTo(`COPY (${fact.select}) TO STDOUT`)), lines, client.query(copyFrom(copyInto(fact, true))));
    return lines.rows;
  } catch (error) {
    failed = error as Error;
    throw error;
  } finally {
    // A connection whose COPY broke off is not given back to the pool for reuse.
    source.release(failed);
  }
}
