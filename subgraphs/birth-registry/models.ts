import type { Prisma } from '../../prisma/birth-registry/generated/client';

export type { CitizenReference } from '../../lib/citizen-reference';

export type BirthRecord = Prisma.BirthRegistrationGetPayload<object>;

/** A parent as a registration names them: by code, or by name and nationality. */
export interface ParentRecord {
  personalCode: string | null;
  name: string | null;
  nationality: string | null;
}
