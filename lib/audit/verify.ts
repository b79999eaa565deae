import type { Pool } from 'pg';
import { chainHash, GENESIS_HASH, RECORD_COLUMNS, rowToRecord, type AuditRecord, type RecordRow } from './chain';

/** One thing wrong with the chain, at the record where it shows. */
export interface ChainProblem {
  seq: number;
  kind: 'CHANGED' | 'MISSING' | 'OUT_OF_ORDER' | 'BROKEN_LINK' | 'HEAD_MISMATCH';
  message: string;
}

export interface ChainReport {
  intact: boolean;
  records: number;
  /** The last record's seq and hash: publish or keep these elsewhere to detect a rewritten chain later. */
  last: { seq: number; hash: string } | null;
  problems: ChainProblem[];
}

/** Records read per query: the walk holds one page in memory, whatever the size of the log. */
const PAGE = 5000;
/** Beyond this many broken links, stop looking up where each one points (each look-up scans the table). */
const MAX_LOOKUPS = 20;

/**
 * Walks the whole chain in seq order and reports every record that is not what the writer wrote:
 * - CHANGED: the record's content no longer hashes to its stored hash (a field was edited);
 * - MISSING: a gap in seq (records deleted; the next record's prev_hash names a record that is not there),
 *   or records missing from the end (the chain head names a later record than the last one present);
 * - OUT_OF_ORDER: a record's prev_hash is the hash of another record present, not of its predecessor
 *   (records moved: their seq values exchanged or renumbered);
 * - BROKEN_LINK: a record's prev_hash is nobody's hash although no seq is missing (the record before it
 *   was rewritten together with its hash, or deleted and the rest renumbered);
 * - HEAD_MISMATCH: the chain head disagrees with the last record (rewritten end, or records appended
 *   without the head).
 * A rewrite of the chain from some record to the end, every hash recomputed, is only detectable against a
 * copy of an earlier `last` kept elsewhere: pass it as `anchor`.
 */
export async function verifyAuditChain(pool: Pool, options: { anchor?: { seq: number; hash: string } } = {}): Promise<ChainReport> {
  const problems: ChainProblem[] = [];
  let previous: AuditRecord | null = null;
  let records = 0;
  let lookups = 0;
  const whoseHash = async (hash: string): Promise<number | null> => {
    if (lookups >= MAX_LOOKUPS) return null;
    lookups += 1;
    const { rows } = await pool.query<{ seq: string }>('SELECT seq::text AS seq FROM audit_log WHERE hash = $1 ORDER BY seq LIMIT 1', [hash]);
    return rows.length > 0 ? Number(rows[0].seq) : null;
  };
  let anchorSeen = false;

  for (;;) {
    const { rows } = await pool.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT ${PAGE}`, [
      previous?.seq ?? 0,
    ]);
    for (const row of rows) {
      const record = rowToRecord(row);
      records += 1;
      const at = `record #${record.seq}`;
      if (chainHash(record.prevHash, record) !== record.hash) {
        problems.push({ seq: record.seq, kind: 'CHANGED', message: `${at}: changed: its content no longer matches its hash` });
      }
      const expectedSeq = (previous?.seq ?? 0) + 1;
      const expectedPrev = previous?.hash ?? GENESIS_HASH;
      if (record.seq > expectedSeq) {
        const range = record.seq - 1 === expectedSeq ? `#${expectedSeq} is` : `#${expectedSeq}–#${record.seq - 1} are`;
        problems.push({
          seq: record.seq,
          kind: 'MISSING',
          message: `${at}: ${range} missing (deleted) before it${record.prevHash === expectedPrev ? '' : ', so its prev_hash names a record that is not there'}`,
        });
      } else if (record.prevHash !== expectedPrev) {
        const owner = record.prevHash === GENESIS_HASH ? 0 : await whoseHash(record.prevHash);
        const before = previous ? `#${previous.seq}` : 'the start of the chain';
        if (owner !== null && owner !== record.seq) {
          problems.push({
            seq: record.seq,
            kind: 'OUT_OF_ORDER',
            message: `${at}: out of order: it follows ${owner === 0 ? 'the start of the chain' : `record #${owner}`} in the chain, not ${before}`,
          });
        } else {
          problems.push({
            seq: record.seq,
            kind: 'BROKEN_LINK',
            message: `${at}: does not follow ${before}: its prev_hash matches no record (the record before it was rewritten or deleted)`,
          });
        }
      }
      if (options.anchor && record.seq === options.anchor.seq) {
        anchorSeen = true;
        if (record.hash !== options.anchor.hash) {
          problems.push({ seq: record.seq, kind: 'HEAD_MISMATCH', message: `${at}: its hash is not the anchored one (the chain was rewritten up to here)` });
        }
      }
      previous = record;
    }
    if (rows.length < PAGE) break;
  }

  const head = await pool.query<{ seq: string; hash: string }>('SELECT seq::text AS seq, hash FROM audit_chain_head');
  const headSeq = head.rows.length === 1 ? Number(head.rows[0].seq) : null;
  const lastSeq = previous?.seq ?? 0;
  if (headSeq === null) {
    problems.push({ seq: lastSeq, kind: 'HEAD_MISMATCH', message: 'the chain head is missing' });
  } else if (headSeq > lastSeq) {
    const range = headSeq === lastSeq + 1 ? `#${headSeq} is` : `#${lastSeq + 1}–#${headSeq} are`;
    problems.push({ seq: lastSeq + 1, kind: 'MISSING', message: `record ${range} missing (deleted from the end): the chain head names record #${headSeq}` });
  } else if (headSeq < lastSeq) {
    problems.push({ seq: headSeq + 1, kind: 'HEAD_MISMATCH', message: `record #${headSeq + 1}–#${lastSeq}: not appended by the writer (the chain head names record #${headSeq})` });
  } else if (previous && head.rows[0].hash !== previous.hash) {
    problems.push({ seq: lastSeq, kind: 'HEAD_MISMATCH', message: `record #${lastSeq}: its hash is not the one the chain head names (rewritten)` });
  }
  if (options.anchor && !anchorSeen) {
    problems.push({ seq: options.anchor.seq, kind: 'MISSING', message: `record #${options.anchor.seq}: the anchored record is not in the log` });
  }
  return { intact: problems.length === 0, records, last: previous ? { seq: previous.seq, hash: previous.hash } : null, problems };
}
