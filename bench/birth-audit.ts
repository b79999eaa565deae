import type { openPools } from '../tools/databases';

/**
 * After W6: did any birth end up registered twice, or any code or citizen exist without its registration?
 * Looks at exactly what this run's registrar (its x-actor) did, in both agencies' databases.
 */
export interface BirthAudit {
  /** registerBirth requests the birth registry recorded (each idempotency key once). */
  requests: number;
  registered: number;
  pending: number;
  heldForReview: number;
  /** Personal codes residents issued for these births, and citizens created. */
  codesIssued: number;
  citizensCreated: number;
  /** Registrations that share a child with another, codes without a registration carrying them, births with more than one code. */
  duplicates: number;
  orphanCodes: number;
}

export async function auditBirths(pools: ReturnType<typeof openPools>, actor: string): Promise<BirthAudit> {
  const { rows: requests } = await pools.birthRegistry.query<{ status: string; number: string | null; child: string | null }>(
    `SELECT r.trang_thai AS status, d.so_dang_ky AS number, d.so_dinh_danh_tre AS child
       FROM cg_yeu_cau_khai_sinh r LEFT JOIN dang_ky_khai_sinh d ON d.id = r.id_dang_ky WHERE r.nguoi_thuc_hien = $1`,
    [actor],
  );
  const { rows: codes } = await pools.residents.query<{ code: string; birth: string | null; citizen: boolean }>(
    `SELECT r.so_dinh_danh AS code, r.khoa_khai_sinh AS birth, c.so_dinh_danh IS NOT NULL AS citizen
       FROM so_dinh_danh r LEFT JOIN cong_dan c ON c.so_dinh_danh = r.so_dinh_danh_hien_hanh WHERE r.nguoi_cap = $1`,
    [actor],
  );
  const children = requests.map((r) => r.child).filter((c): c is string => c !== null);
  const registrationByNumber = new Map(requests.filter((r) => r.number).map((r) => [r.number!, r.child]));
  const birthsWithCodes = new Map<string, number>();
  for (const code of codes) if (code.birth) birthsWithCodes.set(code.birth, (birthsWithCodes.get(code.birth) ?? 0) + 1);
  // A code is an orphan when no registration carries it (a pending one may still receive it: counted apart).
  const orphanCodes = codes.filter((c) => !c.birth || (registrationByNumber.get(c.birth) !== c.code && registrationByNumber.get(c.birth) !== null)).length;
  const duplicates =
    children.length - new Set(children).size + [...birthsWithCodes.values()].reduce((extra, n) => extra + (n - 1), 0) + orphanCodes;
  return {
    requests: requests.length,
    registered: requests.filter((r) => r.status === 'HOAN_TAT').length,
    pending: requests.filter((r) => r.status === 'CHO_CAP_SO').length,
    heldForReview: requests.filter((r) => r.status === 'CHO_XEM_XET').length,
    codesIssued: codes.length,
    citizensCreated: codes.filter((c) => c.citizen).length,
    duplicates,
    orphanCodes,
  };
}
