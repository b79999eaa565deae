import type { ApolloServerPlugin } from '@apollo/server';
import type { Pool } from 'pg';
import type { AuditEntry, AuditSink } from '../access/audit-entry';
import { isRole } from '../access/principal';
import { serialRun } from './serial-run';

/**
 * Writes are recorded by the agency that commits them, through an outbox: the agency's change log
 * (cg_nhat_ky_thay_doi, lib/change-log.ts), written in the write's own transaction, is the list of WRITE
 * records the audit store must get. A shipper per subgraph appends one WRITE record per unshipped entry to
 * the audit store (changeRef "<agency>:<id>", which the store records at most once) and then marks the
 * entries shipped (cg_nhat_ky_da_chuyen). So a write is recorded whatever happens to its response: a
 * mutation that selected nothing personal, a gateway that timed out while the write committed, a client that
 * never retried. If the process dies between the two steps the next run ships the entries again and the
 * store skips them (audit_append, change_ref unique): at least once into the store, exactly once in it.
 *
 * When: right after each mutation's response is ready (outboxPlugin; the write has committed by then), and
 * every AUDIT_OUTBOX_INTERVAL_MS for whatever that missed (a process stopped in between, a write by the
 * subgraph's background work, an audit store that was down).
 */

/** The classifications a change-log action touched; BASIC_IDENTITY for any other. */
export const CLASSES_OF_ACTION: Readonly<Record<string, readonly string[]>> = {
  REGISTER_PERMANENT_RESIDENCE: ['RESIDENCE'],
  REGISTER_TEMPORARY_RESIDENCE: ['RESIDENCE'],
  MOVE_OUT: ['RESIDENCE'],
  CREATE_HOUSEHOLD: ['RELATIONSHIPS', 'RESIDENCE'],
  JOIN_HOUSEHOLD: ['RELATIONSHIPS'],
  LEAVE_HOUSEHOLD: ['RELATIONSHIPS'],
  CHANGE_HOUSEHOLD_HEAD: ['RELATIONSHIPS'],
  REISSUE_PERSONAL_CODE: ['BASIC_IDENTITY', 'SENSITIVE'],
  RECORD_DEATH: ['BASIC_IDENTITY', 'SENSITIVE'],
  CREATE_CITIZEN_AT_BIRTH: ['BASIC_IDENTITY', 'RELATIONSHIPS'],
  REGISTER_BIRTH: ['BASIC_IDENTITY', 'RELATIONSHIPS'],
  HOLD_BIRTH_FOR_REVIEW: ['BASIC_IDENTITY', 'RELATIONSHIPS'],
  ASSIGN_PERSONAL_CODE: ['BASIC_IDENTITY', 'RELATIONSHIPS'],
};
export const classesOfAction = (action: string): string[] => [...(CLASSES_OF_ACTION[action] ?? ['BASIC_IDENTITY'])];

interface ChangeRow {
  id: string;
  nguoi_thuc_hien: string;
  ma_yeu_cau: string;
  thao_tac: string;
  so_dinh_danh: string | null;
  vai_tro: string;
  muc_dich: string | null;
  co_quan_goi: string | null;
  so_ho_so: string | null;
}

/** The WRITE record of a change-log entry of `agency`. */
export function changeEntry(agency: string, row: ChangeRow): AuditEntry {
  return {
    requestId: row.ma_yeu_cau,
    subject: row.nguoi_thuc_hien,
    role: row.vai_tro as AuditEntry['role'],
    callerAgency: row.co_quan_goi,
    purpose: row.muc_dich,
    caseReference: row.so_ho_so,
    agency,
    action: 'WRITE',
    operation: row.thao_tac,
    persons: row.so_dinh_danh ? [row.so_dinh_danh.trim()] : [],
    classes: classesOfAction(row.thao_tac),
    outcome: 'OK',
    changeRef: `${agency}:${row.id}`,
  };
}

export interface OutboxShipperOptions {
  agency: string;
  /** The agency's database. */
  pool: Pick<Pool, 'query'>;
  /** The audit writer. */
  sink: AuditSink;
  /** How often to ship what is left (ms); 0: only when flushed. */
  intervalMs: number;
  /** Entries per audit transaction. */
  batch?: number;
  log?: (message: string, error: unknown) => void;
}

export interface OutboxShipper {
  /** Ships every unshipped entry now; resolves with how many were shipped. */
  flush(): Promise<number>;
  start(): void;
  /** Stops the timer and ships what is left. */
  stop(): Promise<void>;
}

const UNSHIPPED = `
  SELECT n.id::text AS id, n.nguoi_thuc_hien, n.ma_yeu_cau, n.thao_tac, n.so_dinh_danh, n.vai_tro, n.muc_dich, n.co_quan_goi, n.so_ho_so
    FROM cg_nhat_ky_thay_doi n
   WHERE n.vai_tro IS NOT NULL AND n.id > $1
     AND NOT EXISTS (SELECT 1 FROM cg_nhat_ky_da_chuyen c WHERE c.id = n.id)
   ORDER BY n.id LIMIT $2`;

export function createOutboxShipper(options: OutboxShipperOptions): OutboxShipper {
  const { agency, pool, sink } = options;
  const batch = options.batch ?? 500;

  const once = async (): Promise<number> => {
    let shipped = 0;
    let after = '0';
    for (;;) {
      const { rows } = await pool.query<ChangeRow>(UNSHIPPED, [after, batch]);
      if (rows.length === 0) return shipped;
      after = rows[rows.length - 1].id;
      const good = rows.filter((row) => {
        if (isRole(row.vai_tro)) return true;
        options.log?.(`change-log entry ${row.id} has no valid role (${row.vai_tro}); not shipped`, null);
        return false;
      });
      if (good.length > 0) {
        await sink.record(good.map((row) => changeEntry(agency, row)));
        await pool.query('INSERT INTO cg_nhat_ky_da_chuyen (id) SELECT unnest($1::bigint[]) ON CONFLICT (id) DO NOTHING', [good.map((r) => r.id)]);
        shipped += good.length;
      }
      if (rows.length < batch) return shipped;
    }
  };
  // One run at a time, in order: a flush during a run waits for it, then looks again (it may have missed
  // the entry whose commit triggered the flush).
  const runs = serialRun(once, {
    intervalMs: options.intervalMs,
    log: options.log,
    failure: { timed: 'could not ship change-log entries to the audit store', last: 'could not ship the last change-log entries to the audit store' },
  });
  return { flush: runs.run, start: runs.start, stop: runs.stop };
}

/**
 * Ships the outbox once a mutation's response is ready (its transaction has committed), before the response
 * leaves: the WRITE record is in the audit store when the client hears of the write. A failure is logged, not
 * answered with an error: the write is done, and the timer ships it later.
 */
export function outboxPlugin(shipper: OutboxShipper, log: (message: string, error: unknown) => void): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ operation }) {
          if (operation?.operation !== 'mutation') return;
          await shipper.flush().catch((error) => log('could not ship the change-log entries of a mutation to the audit store', error));
        },
      };
    },
  };
}
