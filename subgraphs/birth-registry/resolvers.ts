import { DateScalar, PersonalCodeScalar } from '../../lib/graphql/scalars';
import { provinceName } from '../../lib/provinces';
import type { Resolvers } from './generated/graphql';
import type { BirthRecord, CitizenReference } from './models';
import type { Context } from './context';
import { codesOf } from '../../lib/citizen-reference';
import { loadUnderCodes } from '../../lib/loaders';
import { registerBirth } from './birth-writes';
import { CHILD_SEX } from './codes';


const reference = (personalCode: string | null): CitizenReference | null => (personalCode ? { personalCode } : null);

const oldestFirst = (a: BirthRecord, b: BirthRecord) => a.childDateOfBirth.getTime() - b.childDateOfBirth.getTime() || Number(a.id - b.id);

/** Every registration naming the person under any code they have held (lib/citizen-reference.ts). */
const birthsNaming = (citizen: CitizenReference, ctx: Context) => loadUnderCodes(ctx.loaders.birthsNaming, codesOf(citizen), oldestFirst);

async function ownBirth(citizen: CitizenReference, ctx: Context): Promise<BirthRecord | null> {
  const codes = codesOf(citizen);
  return (await birthsNaming(citizen, ctx)).find((birth) => birth.childCode !== null && codes.includes(birth.childCode)) ?? null;
}

export const resolvers: Resolvers = {
  PersonalCode: PersonalCodeScalar,
  Date: DateScalar,

  Query: {
    birthRegistration: (_root, { registrationNumber }, ctx) => ctx.loaders.byNumber.load(registrationNumber.trim()),
  },

  Mutation: {
    registerBirth: (_root, { input }, ctx) => registerBirth(input, ctx),
  },

  Citizen: {
    // Any well-formed code is a citizen here; one the registry never saw has no birth and no children.
    // The representation carries every code the person has held.
    __resolveReference: (ref) => ref,
    birthRegistration: (citizen, _args, ctx) => ownBirth(citizen, ctx),
    parents: async (citizen, _args, ctx) => {
      const birth = await ownBirth(citizen, ctx);
      return [birth?.fatherCode ?? null, birth?.motherCode ?? null].map(reference).filter((p): p is CitizenReference => p !== null);
    },
    children: async (citizen, _args, ctx) => {
      const codes = codesOf(citizen);
      const named = (code: string | null) => code !== null && codes.includes(code);
      return (await birthsNaming(citizen, ctx))
        .filter((birth) => birth.childCode !== null && (named(birth.fatherCode) || named(birth.motherCode)))
        .map((birth) => ({ personalCode: birth.childCode! }));
    },
  },

  BirthRegistration: {
    __resolveReference: (ref, ctx) => ctx.loaders.byNumber.load(ref.registrationNumber),
    registrationProvinceCode: (birth) => birth.registrationProvince,
    registrationProvinceName: (birth) => provinceName(birth.registrationProvince),
    childSex: (birth) => CHILD_SEX.decode(birth.childSex),
    child: (birth) => reference(birth.childCode),
    father: (birth) =>
      birth.fatherCode || birth.fatherName ? { personalCode: birth.fatherCode, name: birth.fatherName, nationality: birth.fatherNationality } : null,
    mother: (birth) =>
      birth.motherCode || birth.motherName ? { personalCode: birth.motherCode, name: birth.motherName, nationality: birth.motherNationality } : null,
  },

  Parent: {
    citizen: (parent) => reference(parent.personalCode),
  },
};
