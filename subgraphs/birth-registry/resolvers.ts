import { DateScalar, PersonalCodeScalar } from '../../lib/graphql/scalars';
import { decode, SEX_CODES as SEX } from '../../lib/code-table';
import { provinceName } from '../../lib/provinces';
import type { Resolvers } from './generated/graphql';
import type { BirthRecord, CitizenReference } from './models';


const reference = (personalCode: string | null): CitizenReference | null => (personalCode ? { personalCode } : null);

const ownBirth = (births: BirthRecord[], personalCode: string) => births.find((birth) => birth.childCode === personalCode) ?? null;

export const resolvers: Resolvers = {
  PersonalCode: PersonalCodeScalar,
  Date: DateScalar,

  Query: {
    birthRegistration: (_root, { registrationNumber }, ctx) => ctx.loaders.byNumber.load(registrationNumber.trim()),
  },

  Citizen: {
    // Any well-formed code is a citizen here; one the registry never saw has no birth and no children.
    __resolveReference: (ref) => ({ personalCode: ref.personalCode }),
    birthRegistration: async (citizen, _args, ctx) => ownBirth(await ctx.loaders.birthsNaming.load(citizen.personalCode), citizen.personalCode),
    parents: async (citizen, _args, ctx) => {
      const birth = ownBirth(await ctx.loaders.birthsNaming.load(citizen.personalCode), citizen.personalCode);
      return [birth?.fatherCode ?? null, birth?.motherCode ?? null].map(reference).filter((p): p is CitizenReference => p !== null);
    },
    children: async (citizen, _args, ctx) =>
      (await ctx.loaders.birthsNaming.load(citizen.personalCode))
        .filter((birth) => birth.childCode !== null && (birth.fatherCode === citizen.personalCode || birth.motherCode === citizen.personalCode))
        .map((birth) => ({ personalCode: birth.childCode! })),
  },

  BirthRegistration: {
    __resolveReference: (ref, ctx) => ctx.loaders.byNumber.load(ref.registrationNumber),
    registrationProvinceCode: (birth) => birth.registrationProvince,
    registrationProvinceName: (birth) => provinceName(birth.registrationProvince),
    childSex: (birth) => decode(SEX, birth.childSex, 'dang_ky_khai_sinh.gioi_tinh_tre'),
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
