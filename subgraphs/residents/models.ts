import type { Prisma } from '../../prisma/residents/generated/client';
import type { CodeDiscrepancy } from '../../lib/personal-code';
import { CODE_STATUS } from './codes';

/**
 * What the residents resolvers pass around: Prisma rows with the relations one statement fetches.
 * A citizen is always loaded with its residence registrations and household memberships (with the
 * household), joined into one SQL statement, so the whole residents part of a citizen costs one statement.
 */
export const CITIZEN_INCLUDE = {
  residences: { orderBy: { from: 'desc' } },
  // Only cancelled codes: the register's partial index covers exactly these (one row per re-issue, usually none).
  codeHistory: { where: { status: CODE_STATUS.encode('CANCELLED') }, orderBy: { cancelledAt: 'desc' } },
  memberships: { orderBy: { from: 'desc' }, include: { household: true } },
} satisfies Prisma.CitizenInclude;

export type CitizenRecord = Prisma.CitizenGetPayload<{ include: typeof CITIZEN_INCLUDE }>;

/** A household with its current members and their records, again one statement. */
export const HOUSEHOLD_INCLUDE = {
  members: { where: { to: null }, include: { citizen: { include: CITIZEN_INCLUDE } } },
} satisfies Prisma.HouseholdInclude;

export type HouseholdWithMembers = Prisma.HouseholdGetPayload<{ include: typeof HOUSEHOLD_INCLUDE }>;
export type HouseholdRecord = Prisma.HouseholdGetPayload<object> & Partial<Pick<HouseholdWithMembers, 'members'>>;

export type MembershipRecord = Prisma.HouseholdMemberGetPayload<object> & { household?: HouseholdRecord };

export type CodeRegistrationRecord = Prisma.PersonalCodeRegistrationGetPayload<object>;

export type ResidenceRecord = Prisma.ResidenceRegistrationGetPayload<object>;

export interface AddressRecord {
  provinceCode: string;
  district: string;
  ward: string;
  street: string;
}

export interface PersonalCodeCheckRecord {
  provinceCode: string;
  provinceName: string | null;
  registeredAbroad: boolean;
  sex: 'MALE' | 'FEMALE';
  birthYear: number;
  consistent: boolean;
  discrepancies: string[];
  discrepancyDetails: CodeDiscrepancy[];
}

export interface CitizenEdgeRecord {
  cursor: string;
  node: CitizenRecord;
}

export interface CitizenConnectionRecord {
  edges: CitizenEdgeRecord[];
  /** `persons`: whose code the end cursor encodes (for the audit record; not served). */
  pageInfo: { hasNextPage: boolean; endCursor: string | null; persons: string[] };
}
