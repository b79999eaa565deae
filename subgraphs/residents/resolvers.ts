import { DateScalar, PersonalCodeScalar } from '../../lib/graphql/scalars';
import { boundedList } from '../../lib/graphql/arguments';
import { codeDiscrepancies, parsePersonalCode } from '../../lib/personal-code';
import { provinceName } from '../../lib/provinces';
import type { Resolvers } from './generated/graphql';
import { CODE_CANCELLATION_REASON, MARITAL_STATUS, RELATIONSHIP, RESIDENCE_KIND, RESIDENCE_STATUS, SEX } from './codes';
import type { CitizenRecord, HouseholdRecord, MembershipRecord } from './models';
import { searchCitizens } from './search';
import { citizenStatistics } from './statistics';
import { auditLog, myAccessLog } from './access-log';
import { createCitizenAtBirth, recordDeath, reissuePersonalCode } from './code-writes';
import { moveOut, registerPermanentResidence, registerTemporaryResidence } from './residence-writes';
import { changeHouseholdHead, createHousehold, joinHousehold, leaveHousehold } from './household-writes';

const MAX_CITIZENS = 100;

const isCurrent = (row: { to: Date | null }) => row.to === null;
const ACTIVE = RESIDENCE_STATUS.encode('ACTIVE');
const activeResidences = (citizen: CitizenRecord, kind: 'PERMANENT' | 'TEMPORARY') =>
  citizen.residences.filter((r) => r.kind === RESIDENCE_KIND.encode(kind) && r.status === ACTIVE);

/** Head first, then by when they joined: the order a household register lists its members. */
const HEAD = RELATIONSHIP.encode('HEAD');
const headFirst = (a: MembershipRecord, b: MembershipRecord) =>
  Number(b.relationship === HEAD) - Number(a.relationship === HEAD) || a.from.getTime() - b.from.getTime();

export const resolvers: Resolvers = {
  PersonalCode: PersonalCodeScalar,
  Date: DateScalar,

  Query: {
    citizen: (_root, { personalCode }, ctx) => ctx.loaders.citizen.load(personalCode),
    citizens: (_root, { personalCodes }, ctx) =>
      Promise.all(boundedList(personalCodes, MAX_CITIZENS, 'personalCodes').map((code) => ctx.loaders.citizen.load(code))),
    household: (_root, { number }, ctx) => ctx.loaders.household.load(number),
    searchCitizens: (_root, args, ctx) => searchCitizens(args, ctx),
    citizenStatistics: (_root, { groupBy }, ctx) => citizenStatistics(groupBy, ctx),
    myAccessLog: (_root, args, ctx) => myAccessLog(args, ctx),
    auditLog: (_root, args, ctx) => auditLog(args, ctx),
  },

  Mutation: {
    // Personal codes and death (code-writes.ts).
    reissuePersonalCode: (_root, { input }, ctx) => reissuePersonalCode(input, ctx),
    recordDeath: (_root, { input }, ctx) => recordDeath(input, ctx),
    createCitizenAtBirth: (_root, { input }, ctx) => createCitizenAtBirth(input, ctx),
    // Residence and households (residence-writes.ts, household-writes.ts).
    registerPermanentResidence: (_root, args, ctx) => registerPermanentResidence(args, ctx),
    registerTemporaryResidence: (_root, args, ctx) => registerTemporaryResidence(args, ctx),
    moveOut: (_root, args, ctx) => moveOut(args, ctx),
    createHousehold: (_root, args, ctx) => createHousehold(args, ctx),
    joinHousehold: (_root, args, ctx) => joinHousehold(args, ctx),
    leaveHousehold: (_root, args, ctx) => leaveHousehold(args, ctx),
    changeHouseholdHead: (_root, args, ctx) => changeHouseholdHead(args, ctx),
  },

  Citizen: {
    __resolveReference: (reference, ctx) => ctx.loaders.citizen.load(reference.personalCode),
    sex: (citizen) => SEX.decode(citizen.sex),
    maritalStatus: (citizen) => MARITAL_STATUS.decode(citizen.maritalStatus),
    deceased: (citizen) => citizen.dateOfDeath !== null,
    personalCodeCheck: (citizen) => {
      const parts = parsePersonalCode(citizen.personalCode);
      const discrepancies = codeDiscrepancies(citizen.personalCode, {
        sex: SEX.decode(citizen.sex),
        dateOfBirth: citizen.dateOfBirth,
      });
      return {
        provinceCode: parts.provinceCode,
        provinceName: parts.registeredAbroad ? null : provinceName(parts.provinceCode),
        registeredAbroad: parts.registeredAbroad,
        sex: parts.sex,
        birthYear: parts.birthYear,
        consistent: discrepancies.length === 0,
        discrepancies: discrepancies.map((discrepancy) => discrepancy.message),
        discrepancyDetails: discrepancies,
      };
    },
    personalCodes: (citizen) => [citizen.personalCode, ...citizen.codeHistory.map((former) => former.code)],
    formerPersonalCodes: (citizen) => citizen.codeHistory,
    permanentResidence: (citizen) => activeResidences(citizen, 'PERMANENT')[0] ?? null,
    temporaryResidences: (citizen) => activeResidences(citizen, 'TEMPORARY'),
    residenceHistory: (citizen) => citizen.residences,
    household: (citizen) => citizen.memberships.find(isCurrent) ?? null,
    householdHistory: (citizen) => citizen.memberships,
  },

  FormerPersonalCode: {
    cancelledOn: (former) => former.cancelledAt!,
    reason: (former) => CODE_CANCELLATION_REASON.decode(former.cancellationReason),
    legalDocument: (former) => former.legalDocument ?? '',
    replacedBy: (former) => former.currentCode,
  },

  Residence: {
    id: (residence) => residence.id.toString(),
    kind: (residence) => RESIDENCE_KIND.decode(residence.kind),
    status: (residence) => RESIDENCE_STATUS.decode(residence.status),
    address: (residence) => residence,
  },

  Address: {
    provinceName: (address) => provinceName(address.provinceCode),
  },

  Household: {
    __resolveReference: (reference, ctx) => ctx.loaders.household.load(reference.number),
    address: (household) => household,
    head: async (household, _args, ctx) => (await ctx.loaders.citizen.load(household.headCode))!,
    members: async (household: HouseholdRecord, _args, ctx) => {
      const members = household.members ?? (await ctx.loaders.household.load(household.number))?.members ?? [];
      return [...members].sort(headFirst);
    },
  },

  HouseholdMembership: {
    household: async (membership, _args, ctx) =>
      membership.household ?? (await ctx.loaders.household.load(membership.householdNumber))!,
    citizen: async (membership, _args, ctx) => (await ctx.loaders.citizen.load(membership.personalCode))!,
    relationshipToHead: (membership) => RELATIONSHIP.decode(membership.relationship),
  },
};
