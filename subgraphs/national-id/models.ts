import type { Prisma } from '../../prisma/national-id/generated/client';

/** A citizen as this subgraph knows them: only the key; the cards hang off it through loaders. */
export interface CitizenReference {
  personalCode: string;
}

export type IdentityCardRecord = Prisma.IdentityCardGetPayload<object>;
