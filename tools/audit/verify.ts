import type { Pool } from 'pg';
import { chainHash, GENESIS_HASH, RECORD_COLUMNS, rowToRecord, type AuditRecord, type RecordRow } from '../../lib/audit/chain';
import type { Checkpoint } from '../../lib/audit/checkpoint';

/** One thing wrong with the chain, at the record where it shows. */
export interface ChainProblem {
  seq: number;
  kind:
    | 'CHANGED'
    | 'MISSING'
    | 'OUT_OF_ORDER'
    | 'BROKEN_LINK'
    | 'HEAD_MISMATCH'
    | 'FORMAT'
    | 'TIME_BACKWARDS'
    | 'BACKDATED'
    | 'CHECKPOINT_MISMATCH'
    | 'TRUNCATED'
    | 'FORGED_CHECKPOINT'
    | 'UNRECORDED_WRITE';
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
 * - FORMAT: a format-1 record after format-2 ones (format 1 is only ever older), or a format-1 record whose
 *   persons column is not its (hashed) personal code;
 * - TIME_BACKWARDS: a format-2 record dated before its predecessor (the store never dates one so).
 * A rewrite of the chain from some record to the end, every hash recomputed, is only detectable against
 * something kept outside the database: the signed checkpoints of the head (lib/audit/checkpoint.ts; pass the
 * verified ones as `checkpoints`), or a copy of an earlier `last` (`anchor`). Against checkpoints:
 * - CHECKPOINT_MISMATCH: the record at a checkpoint's seq has another hash, or is missing (the chain was
 *   rewritten or records deleted and the rest re-chained);
 * - TRUNCATED: the chain head is behind the latest checkpoint (records deleted from the end, head moved back);
 * - BACKDATED: a record dated before the checkpoint that precedes it in the chain (it was inserted later).
 */
export interface VerifyOptions {
  anchor?: { seq: number; hash: string };
  /** Checkpoints whose signatures were verified (verifyCheckpointFile). */
  checkpoints?: readonly Checkpoint[];
}

export async function verifyAuditChain(pool: Pool, options: VerifyOptions = {}): Promise<ChainReport> {
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
  // Checkpoints by seq (one per seq: they agree, or the file has a problem of its own), ascending.
  const checkpointed = new Map<number, Checkpoint>();
  for (const c of options.checkpoints ?? []) if (!checkpointed.has(c.seq)) checkpointed.set(c.seq, c);
  const checkpoints = [...checkpointed.values()].sort((a, b) => a.seq - b.seq);
  const seenCheckpoints = new Set<number>();
  let preceding = -1; // index in checkpoints of the last one with seq < the current record's
  let formatTwoSeen = false;

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
      if (record.format === 1) {
        const expected = record.personalCode === null ? [] : [record.personalCode];
        if (JSON.stringify(record.persons) !== JSON.stringify(expected)) {
          problems.push({ seq: record.seq, kind: 'CHANGED', message: `${at}: changed: its persons are not its (hashed) personal code` });
        }
        if (formatTwoSeen) {
          problems.push({ seq: record.seq, kind: 'FORMAT', message: `${at}: a format-1 record after format-2 records: not written by the store's append function` });
        }
      } else {
        formatTwoSeen = true;
        if (previous && previous.format !== 1 && record.at.getTime() < previous.at.getTime()) {
          problems.push({
            seq: record.seq,
            kind: 'TIME_BACKWARDS',
            message: `${at}: dated ${record.at.toISOString()}, before #${previous.seq} (${previous.at.toISOString()}): times go backwards (inserted or re-dated)`,
          });
        }
      }
      while (preceding + 1 < checkpoints.length && checkpoints[preceding + 1].seq < record.seq) preceding += 1;
      const before = preceding >= 0 ? checkpoints[preceding] : null;
      if (before?.at && record.at.getTime() < Date.parse(before.at)) {
        problems.push({
          seq: record.seq,
          kind: 'BACKDATED',
          message: `${at}: dated ${record.at.toISOString()}, before the checkpoint of #${before.seq} (${before.at}, signed ${before.signedAt}) that precedes it: backdated, inserted after that checkpoint`,
        });
      }
      const checkpoint = checkpointed.get(record.seq);
      if (checkpoint) {
        seenCheckpoints.add(record.seq);
        if (checkpoint.hash !== record.hash) {
          problems.push({
            seq: record.seq,
            kind: 'CHECKPOINT_MISMATCH',
            message: `${at}: its hash is not the one checkpointed at ${checkpoint.signedAt}: the chain was rewritten up to here (records deleted, inserted or changed, and re-chained)`,
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
  const latest = checkpoints[checkpoints.length - 1];
  if (latest && headSeq !== null && headSeq < latest.seq) {
    problems.push({
      seq: headSeq + 1,
      kind: 'TRUNCATED',
      message: `the chain head names record #${headSeq}, behind the checkpoint of #${latest.seq} signed at ${latest.signedAt}: records #${headSeq + 1}–#${latest.seq} were removed and the head moved back (truncated)`,
    });
  }
  for (const c of checkpoints) {
    if (c.seq === 0 || seenCheckpoints.has(c.seq) || (headSeq !== null && c.seq > headSeq)) continue;
    problems.push({ seq: c.seq, kind: 'CHECKPOINT_MISMATCH', message: `record #${c.seq}, checkpointed at ${c.signedAt}, is missing` });
  }
  if (options.anchor && !anchorSeen) {
    problems.push({ seq: options.anchor.seq, kind: 'MISSING', message: `record #${options.anchor.seq}: the anchored record is not in the log` });
  }
  return { intact: problems.length === 0, records, last: previous ? { seq: previous.seq, hash: previous.hash } : null, problems };
}

/**
 * The check audit:verify runs with --agency-databases: every change-log entry that needs a WRITE record (one
 * with a role) older than `graceMs` has one in the audit store (change_ref "<agency>:<id>"). Reported as
 * UNRECORDED_WRITE, naming the agency and the entry.
 */
export async function findUnrecordedWrites(
  audit: Pick<Pool, 'query'>,
  agencies: readonly { agency: string; pool: Pick<Pool, 'query'> }[],
  options: { graceMs?: number; limit?: number } = {},
): Promise<ChainProblem[]> {
  const problems: ChainProblem[] = [];
  const limit = options.limit ?? 100;
  for (const { agency, pool } of agencies) {
    let after = '0';
    for (;;) {
      const { rows } = await pool.query<{ id: string; thao_tac: string; ma_yeu_cau: string }>(
        `SELECT id::text AS id, thao_tac, ma_yeu_cau FROM cg_nhat_ky_thay_doi
          WHERE vai_tro IS NOT NULL AND id > $1 AND thoi_diem < now() - make_interval(secs => $2::double precision / 1000)
          ORDER BY id LIMIT 5000`,
        [after, options.graceMs ?? 0],
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1].id;
      const refs = rows.map((r) => `${agency}:${r.id}`);
      const found = new Set(
        (await audit.query<{ change_ref: string }>('SELECT change_ref FROM audit_log WHERE change_ref = ANY($1::text[])', [refs])).rows.map((r) => r.change_ref),
      );
      for (const row of rows) {
        if (found.has(`${agency}:${row.id}`) || problems.length >= limit) continue;
        problems.push({
          seq: 0,
          kind: 'UNRECORDED_WRITE',
          message: `${agency} change-log entry ${row.id} (${row.thao_tac}, request ${row.ma_yeu_cau}): no WRITE record in the audit store`,
        });
      }
      if (rows.length < 5000) break;
    }
  }
  return problems;
}
