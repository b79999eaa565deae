/**
 * Who lives together: the shape of one household (hộ gia đình) before anyone has a name or a code.
 *
 * A household is built around its head: maybe a spouse, their children (born while the mother was
 * 18–42), sometimes an adult child's spouse and their children (the head's grandchildren), grandchildren
 * left with their grandparents while the parents work elsewhere, the head's elderly parents, or a sibling.
 * Parents are links (a member of the household, or someone outside it known only by name), so birth
 * registrations can name the parents and children can inherit the father's family name.
 *
 * All dates are day numbers (dates.ts). The caller gives a size budget (≤ 8, smaller for the last
 * household so the population has exactly the requested number of citizens); members are added in order
 * of importance and nobody is added whose parent link would point at a member that was left out.
 */
import type { Sex } from '../../lib/personal-code';
import { addYears, dayFromCivil, fullYearsBetween, yearOfDay } from './dates';
import { FOREIGN_NATIONALITIES } from './names';
import type { Random } from './random';
import { weightedTable } from './random';
import type { HouseholdRelationship, MaritalStatusCode } from './rows';

/** A parent who is not a member of the household: named in birth registrations, never a citizen row. */
export interface ExternalParent {
  kind: 'external';
  sex: Sex;
  /** 'VN', or for a few parents a foreign nationality (ISO 3166 alpha-2, as quoc_tich stores it). */
  nationality: string;
  /** Filled lazily by the namer. */
  familyName?: string;
  fullName?: string;
}

export interface Member {
  kind: 'member';
  role: HouseholdRelationship;
  sex: Sex;
  birth: number;
  /** 0 the head's parents, 1 the head's generation, 2 children, 3 grandchildren: the naming order. */
  generation: number;
  father: Parent | null;
  mother: Parent | null;
  spouse: Member | null;
  marital: MaritalStatusCode;
  /** Membership start (thanh_vien_ho.tu_ngay) and start of the current permanent residence. */
  joined: number;
  /** Date of the birth registration, for people born on or after 2000-01-01; null before. */
  registeredOn: number | null;
  death: number | null;
}

export type Parent = Member | ExternalParent;

export interface HouseholdShape {
  members: Member[]; // members[0] is the head
  established: number;
}

/** People born from this day on have a birth registration (and must have consistent codes). */
export const BIRTH_REGISTRY_START = dayFromCivil(2000, 1, 1);
/** No household book in the demo is older than this. */
const EARLIEST_HOUSEHOLD = dayFromCivil(1980, 1, 1);
const YEAR = 365;
/** Share of children of a single parent whose other parent is a foreigner (named in the birth registration). */
const FOREIGN_PARENT_SHARE = 0.05;

const HEAD_AGE = weightedTable<readonly [number, number]>([
  [[19, 24], 4], [[25, 29], 8], [[30, 39], 21], [[40, 49], 23], [[50, 59], 21], [[60, 69], 14], [[70, 79], 7], [[80, 95], 1],
]);
/** Husband's age minus wife's age, in years. */
const HUSBAND_OLDER_BY = weightedTable<number>([[-3, 1], [-1, 3], [0, 5], [1, 6], [2, 7], [3, 6], [4, 5], [5, 4], [6, 3], [8, 2], [11, 1]]);

function childrenWanted(rng: Random, motherBirthYear: number): number {
  if (motherBirthYear < 1955) return rng.weighted(KIDS_BEFORE_1955);
  if (motherBirthYear < 1970) return rng.weighted(KIDS_1955_1969);
  if (motherBirthYear < 1985) return rng.weighted(KIDS_1970_1984);
  return rng.weighted(KIDS_FROM_1985);
}
const KIDS_BEFORE_1955 = weightedTable<number>([[1, 1], [2, 2], [3, 3], [4, 3], [5, 3], [6, 2]]);
const KIDS_1955_1969 = weightedTable<number>([[0, 1], [1, 2], [2, 5], [3, 5], [4, 2], [5, 1]]);
const KIDS_1970_1984 = weightedTable<number>([[0, 1], [1, 3], [2, 8], [3, 3], [4, 1]]);
const KIDS_FROM_1985 = weightedTable<number>([[0, 2], [1, 4], [2, 7], [3, 2]]);

/** Probability that a child of this age still lives with the parents. */
function staysHome(rng: Random, age: number): boolean {
  if (age < 18) return true;
  if (age < 25) return rng.chance(0.75);
  if (age < 30) return rng.chance(0.45);
  return rng.chance(0.15);
}

function probabilityMarried(age: number): number {
  if (age < 25) return 0.3;
  if (age < 30) return 0.65;
  if (age < 60) return 0.86;
  if (age < 70) return 0.75;
  return 0.55;
}

export function composeHousehold(rng: Random, ref: number, budget: number): HouseholdShape {
  const members: Member[] = [];
  const room = () => budget - members.length;

  const registration = (birth: number): number | null =>
    birth >= BIRTH_REGISTRY_START ? birth + rng.int(0, Math.min(60, ref - birth)) : null;
  const add = (role: HouseholdRelationship, sex: Sex, birth: number, generation: number, father: Parent | null, mother: Parent | null): Member => {
    const member: Member = {
      kind: 'member', role, sex, birth, generation, father, mother, spouse: null, marital: 1, joined: 0,
      registeredOn: registration(birth), death: null,
    };
    members.push(member);
    return member;
  };
  const external = (sex: Sex, foreignShare = 0): ExternalParent => ({
    kind: 'external', sex, nationality: rng.chance(foreignShare) ? rng.weighted(FOREIGN_NATIONALITIES) : 'VN',
  });
  /** A birth date for someone who is `age` at the reference date. */
  const bornAged = (age: number): number => addYears(ref, -age) - rng.int(1, 364);

  // The head.
  const [minAge, maxAge] = rng.weighted(HEAD_AGE);
  const headAge = rng.int(minAge, maxAge);
  const head = add('CHU_HO', rng.chance(0.7) ? 'MALE' : 'FEMALE', bornAged(headAge), 1, null, null);
  const earliest = Math.max(addYears(head.birth, 18), EARLIEST_HOUSEHOLD);
  const established = Math.min(ref - 1, earliest + rng.int(0, Math.max(0, Math.min(12 * YEAR, ref - 1 - earliest))));
  head.joined = established;

  // A spouse, or the reason there is none.
  let husband: Member | null = null;
  let wife: Member | null = null;
  if (room() > 0 && rng.chance(probabilityMarried(headAge))) {
    const gap = rng.weighted(HUSBAND_OLDER_BY);
    const otherSex: Sex = head.sex === 'MALE' ? 'FEMALE' : 'MALE';
    let birth = addYears(head.birth, head.sex === 'MALE' ? gap : -gap) + rng.int(-150, 150);
    const youngest = addYears(ref, -18) - 1;
    if (birth > youngest) birth = youngest - rng.int(0, 400);
    const spouse = add(head.sex === 'MALE' ? 'VO' : 'CHONG', otherSex, birth, 1, null, null);
    spouse.joined = Math.min(ref, Math.max(established, addYears(spouse.birth, 18)) + (rng.chance(0.3) ? rng.int(0, 3 * YEAR) : 0));
    head.spouse = spouse;
    spouse.spouse = head;
    head.marital = 2;
    spouse.marital = 2;
    [husband, wife] = head.sex === 'MALE' ? [head, spouse] : [spouse, head];
  } else if (headAge < 28) {
    head.marital = rng.chance(0.92) ? 1 : 3;
  } else if (headAge >= 60) {
    head.marital = rng.weighted(OLD_UNMARRIED);
  } else {
    head.marital = rng.weighted(MIDDLE_UNMARRIED);
  }

  // The head's (or couple's) children.
  const hasChildren = head.marital !== 1 || (head.sex === 'FEMALE' && headAge >= 22 && rng.chance(0.15));
  if (hasChildren && room() > 0) {
    // The mother is the wife, the head herself, or someone outside the household (an ex-wife, a late wife).
    const motherBirth = wife ? wife.birth : head.sex === 'FEMALE' ? head.birth : addYears(head.birth, rng.int(-1, 6));
    const father: Parent | null = husband ?? (head.marital === 1 && rng.chance(0.3) ? null : external('MALE', FOREIGN_PARENT_SHARE));
    const mother: Parent = wife ?? (head.sex === 'FEMALE' ? head : external('FEMALE', FOREIGN_PARENT_SHARE / 2));
    const wanted = childrenWanted(rng, yearOfDay(motherBirth));
    let birth = addYears(motherBirth, rng.int(19, 30)) + rng.int(0, 364);
    const lastPossible = Math.min(ref, addYears(motherBirth, 42));
    for (let i = 0; i < wanted && birth <= lastPossible; i++) {
      if (room() > 0 && staysHome(rng, fullYearsBetween(birth, ref))) {
        const child = add('CON', rng.chance(0.515) ? 'MALE' : 'FEMALE', birth, 2, father, mother);
        child.joined = Math.max(established, child.registeredOn ?? birth);
      }
      birth += rng.int(450, 5 * YEAR);
    }
  }

  // One adult child may live here with a spouse (recorded as KHAC) and their own children.
  const adultChild = members.find((m) => m.role === 'CON' && fullYearsBetween(m.birth, ref) >= 22);
  if (adultChild && room() >= 2 && rng.chance(0.3)) {
    const gap = rng.weighted(HUSBAND_OLDER_BY);
    const birth = Math.min(addYears(adultChild.birth, adultChild.sex === 'MALE' ? gap : -gap), addYears(ref, -18) - 1);
    const inLaw = add('KHAC', adultChild.sex === 'MALE' ? 'FEMALE' : 'MALE', birth, 2, null, null);
    inLaw.joined = Math.min(ref, Math.max(established, addYears(Math.max(inLaw.birth, adultChild.birth), 20) + rng.int(0, 4 * YEAR)));
    adultChild.spouse = inLaw;
    inLaw.spouse = adultChild;
    adultChild.marital = 2;
    inLaw.marital = 2;
    const [father, mother] = adultChild.sex === 'MALE' ? [adultChild, inLaw] : [inLaw, adultChild];
    let grandBirth = Math.max(inLaw.joined, addYears(mother.birth, 19)) + rng.int(0, 3 * YEAR);
    const lastPossible = Math.min(ref, addYears(mother.birth, 42));
    const wanted = rng.int(0, 3);
    for (let i = 0; i < wanted && grandBirth <= lastPossible && room() > 0; i++) {
      const grandchild = add('CHAU', rng.chance(0.515) ? 'MALE' : 'FEMALE', grandBirth, 3, father, mother);
      grandchild.joined = Math.max(established, grandchild.registeredOn ?? grandBirth);
      grandBirth += rng.int(450, 5 * YEAR);
    }
  } else if (headAge >= 45 && room() > 0 && rng.chance(0.08)) {
    // Grandchildren left with the grandparents while their parents work in the city or abroad.
    const from = Math.max(addYears(ref, -15), addYears(head.birth, 40));
    const count = Math.min(room(), rng.int(1, 2));
    const father = external('MALE');
    const mother = external('FEMALE');
    for (let i = 0; i < count && from <= ref; i++) {
      const grandchild = add('CHAU', rng.chance(0.515) ? 'MALE' : 'FEMALE', rng.dayBetween(from, ref), 3, father, mother);
      grandchild.joined = Math.max(established, grandchild.registeredOn ?? grandchild.birth);
    }
  }

  // The head's elderly parents.
  const oldest = addYears(ref, -96);
  let headMother: Parent = external('FEMALE');
  let headFather: Parent = external('MALE');
  if (headAge >= 25 && headAge <= 60 && room() > 0 && rng.chance(0.13)) {
    const motherBirth = addYears(head.birth, -rng.int(19, 36)) - rng.int(0, 364);
    const fatherBirth = addYears(motherBirth, -rng.int(0, 6)) - rng.int(0, 364);
    const both = room() >= 2 && fatherBirth >= oldest && motherBirth >= oldest && rng.chance(0.4);
    const onlyMother = !both && motherBirth >= oldest && (fatherBirth < oldest || rng.chance(0.65));
    const moveIn = () => Math.min(ref, established + rng.int(0, Math.max(0, ref - established)));
    if (both || !onlyMother) {
      if (fatherBirth >= oldest) {
        const father = add('CHA', 'MALE', fatherBirth, 0, null, null);
        father.joined = moveIn();
        father.marital = both ? 2 : rng.chance(0.85) ? 4 : 3;
        headFather = father;
      }
    }
    if (both || onlyMother) {
      const mother = add('ME', 'FEMALE', motherBirth, 0, null, null);
      mother.joined = both && headFather.kind === 'member' ? headFather.joined : moveIn();
      mother.marital = both ? 2 : rng.chance(0.85) ? 4 : 3;
      headMother = mother;
      if (both && headFather.kind === 'member') {
        headFather.spouse = mother;
        mother.spouse = headFather;
      }
    }
  }
  head.father = headFather;
  head.mother = headMother;

  // A brother or sister of the head, not married, sharing the head's parents.
  if (room() > 0 && rng.chance(0.04)) {
    const motherBirth = headMother.kind === 'member' ? headMother.birth : addYears(head.birth, -rng.int(20, 35));
    const birth = addYears(head.birth, rng.chance(0.5) ? rng.int(1, 10) : -rng.int(1, 10)) + rng.int(0, 300);
    const fertile = birth >= addYears(motherBirth, 18) && birth <= addYears(motherBirth, 42);
    if (fertile && birth <= addYears(ref, -16) && birth >= oldest) {
      const sibling = add('ANH_CHI_EM', rng.chance(0.5) ? 'MALE' : 'FEMALE', birth, 1, headFather, headMother);
      sibling.joined = Math.max(established, sibling.registeredOn ?? sibling.birth);
      sibling.marital = rng.chance(0.8) ? 1 : 3;
    }
  }

  // Spouses, in-laws and elders came from elsewhere: their parents are outside the household.
  for (const member of members) {
    if (member.father === null && member.mother === null && member !== head) {
      member.father = external('MALE');
      member.mother = external('FEMALE');
    }
  }

  chooseDeaths(rng, ref, members);
  return { members, established };
}

const OLD_UNMARRIED = weightedTable<MaritalStatusCode>([[4, 70], [3, 15], [1, 15]]);
const MIDDLE_UNMARRIED = weightedTable<MaritalStatusCode>([[1, 40], [3, 40], [4, 20]]);

/**
 * A few members (never the head: the household would need a new head) died in the last five years.
 * Nobody dies before their youngest child in the household was born or before joining it; a surviving
 * spouse becomes widowed. Their rows stay (records are never deleted), with ngay_mat set.
 */
function chooseDeaths(rng: Random, ref: number, members: Member[]): void {
  for (let i = 1; i < members.length; i++) {
    const member = members[i];
    const age = fullYearsBetween(member.birth, ref);
    const p = age >= 80 ? 0.08 : age >= 70 ? 0.035 : age >= 60 ? 0.01 : 0.001;
    if (!rng.chance(p)) continue;
    let earliest = Math.max(member.birth + 1, member.joined + 1, addYears(ref, -5));
    for (const other of members) {
      if (other.father === member || other.mother === member) earliest = Math.max(earliest, other.birth + 1);
    }
    if (earliest > ref - 1) continue;
    member.death = rng.dayBetween(earliest, ref - 1);
    if (member.spouse && member.spouse.death === null) member.spouse.marital = 4;
  }
}
