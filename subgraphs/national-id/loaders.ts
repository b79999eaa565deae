import type DataLoader from 'dataloader';
import { loader, manyEach } from '../../lib/loaders';
import type { NationalIdDatabase } from './context';
import type { IdentityCardRecord } from './models';

/** Per-request loaders of the national-id subgraph (batching rules: lib/loaders.ts). */
export interface NationalIdLoaders {
  /** Every card of each citizen, newest first: one statement per batch, whichever card fields are asked. */
  cardsOfCitizen: DataLoader<string, IdentityCardRecord[]>;
}

export function createLoaders(db: NationalIdDatabase): NationalIdLoaders {
  return {
    cardsOfCitizen: loader(async (codes) => {
      const rows = await db.prisma.identityCard.findMany({
        where: { personalCode: { in: [...codes] } },
        orderBy: [{ issuedOn: 'desc' }, { id: 'desc' }],
      });
      return manyEach(codes, rows, (row) => [row.personalCode]);
    }),
  };
}
