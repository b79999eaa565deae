import type { Prisma } from '../../prisma/birth-registry/generated/client';

/** A citizen as this subgraph knows them: only the key; births hang off it through loaders. */
export interface CitizenReference {
  personalCode: string;
}

export type BirthRecord = Prisma.BirthRegistrationGetPayload<object>;

/** A parent as a registration names them: by code, or by name and nationality. */
export interface ParentRecord {
  personalCode: string | null;
  name: string | null;
  nationality: string | null;
}
