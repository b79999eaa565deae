import type DataLoader from 'dataloader';
import { loader, oneEach } from '../../lib/loaders';
import type { ResidentsDatabase } from './context';
import { CODE_STATUS } from './codes';
import { CITIZEN_INCLUDE, HOUSEHOLD_INCLUDE, type CitizenRecord, type HouseholdWithMembers } from './models';

/** Per-request loaders of the residents subgraph (batching rules: lib/loaders.ts). */
export interface ResidentsLoaders {
  /** Citizen core record with residences and memberships: one statement per batch. */
  citizen: DataLoader<string, CitizenRecord | null>;
  /** Household with its current members' full records: one statement per batch. */
  household: DataLoader<string, HouseholdWithMembers | null>;
}

export function createLoaders(db: ResidentsDatabase): ResidentsLoaders {
  const citizen = loader<string, CitizenRecord | null>(async (codes) => {
    const rows = await db.prisma.citizen.findMany({
      relationLoadStrategy: 'join',
      where: { personalCode: { in: [...codes] } },
      include: CITIZEN_INCLUDE,
    });
    const found = new Map(rows.map((row) => [row.personalCode, row]));
    const missing = codes.filter((code) => !found.has(code));
    if (missing.length > 0) {
      // A code no record has may be a cancelled one: the register leads to the person under the code in
      // force. One more statement, only for a batch with such codes (or with codes no one has).
      const moved = await db.prisma.citizen.findMany({
        relationLoadStrategy: 'join',
        where: { codeHistory: { some: { code: { in: missing }, status: CODE_STATUS.encode('CANCELLED') } } },
        include: CITIZEN_INCLUDE,
      });
      for (const row of moved) for (const former of row.codeHistory) found.set(former.code, row);
    }
    return codes.map((code) => found.get(code) ?? null);
  });

  const household = loader<string, HouseholdWithMembers | null>(async (numbers) => {
    const rows = await db.prisma.household.findMany({
      relationLoadStrategy: 'join',
      where: { number: { in: [...numbers] } },
      include: HOUSEHOLD_INCLUDE,
    });
    // The members' records came with the household: later lookups of those citizens cost nothing.
    for (const row of rows) for (const member of row.members) citizen.prime(member.citizen.personalCode, member.citizen);
    return oneEach(numbers, rows, (row) => row.number);
  });

  return { citizen, household };
}

/** Loads citizens found by another query into the loader, so their fields are not fetched again. */
export function primeCitizens(loaders: ResidentsLoaders, rows: readonly CitizenRecord[]): void {
  for (const row of rows) loaders.citizen.prime(row.personalCode, row);
}
