import type { Prisma } from '../../prisma/birth-registry/generated/client';

export type { CitizenReference } from '../../lib/citizen-reference';

export type BirthRecord = Prisma.BirthRegistrationGetPayload<object>;

/** A parent as a registration names them: by code, or by name and nationality. */
export interface ParentRecord {
  personalCode: string | null;
  name: string | null;
  nationality: string | null;
}

/** What registerBirth answers (schema: BirthRegistrationResult). */
export interface BirthOutcome {
  status: 'REGISTERED' | 'PENDING_PERSONAL_CODE' | 'HELD_FOR_REVIEW';
  registration: BirthRecord | null;
  possibleDuplicateOf: BirthRecord | null;
}
