import type DataLoader from 'dataloader';
import { loader, manyEach, oneEach } from '../../lib/loaders';
import type { BirthRegistryDatabase } from './context';
import type { BirthRecord } from './models';

/** Per-request loaders of the birth-registry subgraph (batching rules: lib/loaders.ts). */
export interface BirthRegistryLoaders {
  /**
   * Every registration that names a citizen, as child, father or mother: ONE statement answers a
   * citizen's own birth, their parents and their children, for every citizen of the batch.
   */
  birthsNaming: DataLoader<string, BirthRecord[]>;
  byNumber: DataLoader<string, BirthRecord | null>;
}

export function createLoaders(db: BirthRegistryDatabase): BirthRegistryLoaders {
  return {
    birthsNaming: loader(async (codes) => {
      const keys = [...codes];
      const rows = await db.prisma.birthRegistration.findMany({
        where: { OR: [{ childCode: { in: keys } }, { fatherCode: { in: keys } }, { motherCode: { in: keys } }] },
        orderBy: [{ childDateOfBirth: 'asc' }, { id: 'asc' }],
      });
      return manyEach(codes, rows, (row) =>
        [row.childCode, row.fatherCode, row.motherCode].filter((code): code is string => code !== null),
      );
    }),
    byNumber: loader(async (numbers) => {
      const rows = await db.prisma.birthRegistration.findMany({ where: { registrationNumber: { in: [...numbers] } } });
      return oneEach(numbers, rows, (row) => row.registrationNumber);
    }),
  };
}
