/**
 * The deterministic synthetic population: generatePopulation yields one household at a time, with its rows
 * for every table of the three agency databases.
 *
 * Streaming. The generator never holds more than the current household. What it keeps between households
 * is O(1): the PRNG state, counters (card ids, birth ids, registration numbers per province and year),
 * a 4 MB array of per-prefix counters for the personal codes (unique-numbers.ts explains why that
 * replaces a set of all codes), and a small ring of recent households that newcomers may have lived in
 * before. So 8 million citizens take the same memory as 2,000; the consumer decides what to keep.
 *
 * Determinism. Everything is drawn from one seeded PRNG in a fixed order, so the same seed and size give
 * byte-identical rows; a longer population with the same seed begins with the same households (only the
 * last household of the shorter one is cut to fit its exact size).
 */
import { personalCodePrefix, type Sex } from '../../lib/personal-code';
import { bloodGroup, ethnicity, religion } from './attributes';
import { issueCards } from './cards';
import { addYears, dayFromDate, formatDay, fullYearsBetween, yearOfDay } from './dates';
import {
  address, addressInWard, birthRegistrar, migrationDestination, otherProvince, placeOfBirth, placeOfOrigin,
  PROVINCE_WEIGHTS, type Address,
} from './geography';
import { BIRTH_REGISTRY_START, composeHousehold, type ExternalParent, type Member, type Parent } from './household';
import { familyName, foreignName, middleAndGivenName, NICKNAMES } from './names';
import { Random } from './random';
import type {
  CongDanRow, DangKyCuTruRow, DangKyKhaiSinhRow, HouseholdRelationship, PopulationBatch, ResidenceKind, ResidenceStatus, ThanhVienHoRow,
} from './rows';
import { PersonalCodeAllocator, UniqueNumberSequence } from './unique-numbers';

export interface PopulationOptions {
  /** Exactly this many cong_dan rows are generated. */
  citizens: number;
  seed: string;
  /** "Today" for ages, card validity and recent events. Default 2026-11-01. */
  referenceDate?: Date;
}

export const DEFAULT_REFERENCE_DATE = new Date(Date.UTC(2026, 10, 1));
/** The largest household (members at the reference date). */
export const MAX_HOUSEHOLD_SIZE = 8;
/**
 * Share of people born before 2000 whose code disagrees with their record (wrong YY or G: a legacy
 * data-entry error), so the graph's consistency flag has cases to show. ≈ 0.2 % of all citizens.
 * People with a birth registration (born 2000 on) are never affected: their codes come from the registry.
 */
const CODE_ERROR_SHARE_BEFORE_2000 = 0.0032;
const RECENT_HOUSEHOLDS = 256;
const YEAR = 365;

export function* generatePopulation(options: PopulationOptions): Generator<PopulationBatch, void, undefined> {
  const { citizens, seed } = options;
  if (!Number.isSafeInteger(citizens) || citizens < 0) throw new RangeError(`citizens must be a non-negative integer; got ${citizens}.`);
  if (typeof seed !== 'string') throw new TypeError('seed must be a string.');
  const generator = new PopulationGenerator(seed, dayFromDate(options.referenceDate ?? DEFAULT_REFERENCE_DATE));
  let remaining = citizens;
  while (remaining > 0) {
    const batch = generator.household(Math.min(MAX_HOUSEHOLD_SIZE, remaining));
    remaining -= batch.cong_dan.length;
    yield batch;
  }
}

/** A member once named and coded. */
interface Person {
  member: Member;
  code: string;
  name: string;
  familyName: string;
  ethnicity: string;
  religion: string | null;
  origin: string;
  birthProvince: string;
}

interface PastHousehold {
  so_ho: string;
  address: Address;
  established: number;
  headBirth: number;
}

function membership(code: string, so_ho: string, relationship: HouseholdRelationship, from: number, to: number | null): ThanhVienHoRow {
  return { so_ho, so_dinh_danh: code, quan_he_chu_ho: relationship, tu_ngay: formatDay(from), den_ngay: to === null ? null : formatDay(to) };
}

function registration(code: string, kind: ResidenceKind, at: Address, from: number, to: number | null, status: ResidenceStatus): DangKyCuTruRow {
  return {
    so_dinh_danh: code,
    loai_cu_tru: kind,
    ma_tinh: at.ma_tinh,
    quan_huyen: at.quan_huyen,
    phuong_xa: at.phuong_xa,
    dia_chi_chi_tiet: at.dia_chi_chi_tiet,
    tu_ngay: formatDay(from),
    den_ngay: to === null ? null : formatDay(to),
    trang_thai: status,
  };
}

class PopulationGenerator {
  private readonly rng: Random;
  private readonly codes: PersonalCodeAllocator;
  private readonly cmndNumbers: UniqueNumberSequence;
  private readonly householdNumbers: UniqueNumberSequence;
  private cardId = 0;
  private birthId = 0;
  /** Registration numbers run per province and year, as in the registry's books. */
  private readonly birthSequence = new Map<number, number>();
  private readonly recent: PastHousehold[] = [];
  private recentNext = 0;
  private readonly numbering = {
    nextCardId: () => ++this.cardId,
    nextCmndNumber: () => this.cmndNumbers.next(),
  };

  constructor(
    seed: string,
    private readonly ref: number,
  ) {
    this.rng = new Random(`population:${seed}`);
    this.codes = new PersonalCodeAllocator(seed);
    this.cmndNumbers = new UniqueNumberSequence(seed, 'cmnd', 9);
    this.householdNumbers = new UniqueNumberSequence(seed, 'so-ho', 9);
  }

  household(budget: number): PopulationBatch {
    const { rng, ref } = this;
    const province = rng.weighted(PROVINCE_WEIGHTS);
    const home = address(rng, province);
    const shape = composeHousehold(rng, ref, budget);
    const people = this.identify(shape.members, province);

    const so_ho = `HK${province}${this.householdNumbers.next()}`;
    const batch: PopulationBatch = {
      cong_dan: people.map((p) => this.citizenRow(p)),
      ho_gia_dinh: [
        {
          so_ho,
          so_dinh_danh_chu_ho: people[0].code,
          ...home,
          ngay_lap: formatDay(shape.established),
        },
      ],
      thanh_vien_ho: [],
      dang_ky_cu_tru: [],
      the_can_cuoc: [],
      dang_ky_khai_sinh: [],
    };

    for (const person of people) {
      this.residence(batch, person, so_ho, home);
      batch.the_can_cuoc.push(
        ...issueCards(rng, ref, { code: person.code, birth: person.member.birth, death: person.member.death, provinceCode: province }, this.numbering),
      );
      if (person.member.registeredOn !== null) batch.dang_ky_khai_sinh.push(this.birthRow(person, people, home));
    }

    this.remember({ so_ho, address: home, established: shape.established, headBirth: shape.members[0].birth });
    return batch;
  }

  /**
   * Names, ethnicity, origin and code for every member. Parents are handled before their children
   * (by generation), because a child takes the father's family name (the mother's if the father is
   * unknown or foreign), his ethnicity and his place of origin.
   */
  private identify(members: Member[], province: string): Person[] {
    const { rng } = this;
    const householdEthnicity = ethnicity(rng, province);
    const householdReligion = religion(rng, province, householdEthnicity);
    const byMember = new Map<Member, Person>();
    const order = members.map((m, i) => i).sort((a, b) => members[a].generation - members[b].generation || a - b);

    for (const index of order) {
      const member = members[index];
      const role = member.role;
      const birthProvince =
        role === 'CON' || role === 'CHAU'
          ? rng.chance(0.93) ? province : otherProvince(rng, province)
          : role === 'ANH_CHI_EM' && byMember.has(members[0])
            ? rng.chance(0.85) ? byMember.get(members[0])!.birthProvince : otherProvince(rng, province)
            : rng.chance(0.7) ? province : otherProvince(rng, province);

      const father = member.father?.kind === 'member' ? byMember.get(member.father) : undefined;
      const mother = member.mother?.kind === 'member' ? byMember.get(member.mother) : undefined;
      const ethnicityName =
        father?.ethnicity ??
        mother?.ethnicity ??
        (role === 'VO' || role === 'CHONG' || role === 'KHAC'
          ? rng.chance(0.88) ? householdEthnicity : ethnicity(rng, birthProvince)
          : householdEthnicity);

      // Families mostly share a faith; people who married in may keep their own.
      const joinedByMarriage = role === 'VO' || role === 'CHONG' || role === 'KHAC';
      const faith = joinedByMarriage && rng.chance(0.15) ? religion(rng, birthProvince, ethnicityName) : householdReligion;
      const family = this.familyNameFor(member, father, mother, ethnicityName, birthProvince);
      const name = `${family} ${middleAndGivenName(rng, member.sex, yearOfDay(member.birth), ethnicityName)}`;
      const origin = father?.origin ?? placeOfOrigin(rng, birthProvince);
      const code = this.codes.issue(this.codePrefix(member, birthProvince));
      byMember.set(member, { member, code, name, familyName: family, ethnicity: ethnicityName, religion: faith, origin, birthProvince });
    }
    return members.map((m) => byMember.get(m)!);
  }

  private familyNameFor(member: Member, father: Person | undefined, mother: Person | undefined, ethnicityName: string, province: string): string {
    if (father) return father.familyName;
    const externalFather = member.father?.kind === 'external' ? member.father : null;
    const childYear = yearOfDay(member.birth);
    if (externalFather && externalFather.nationality === 'VN') return this.nameExternal(externalFather, ethnicityName, province, childYear).familyName!;
    if (mother) return mother.familyName;
    const externalMother = member.mother?.kind === 'external' ? member.mother : null;
    if (externalMother && externalMother.nationality === 'VN') return this.nameExternal(externalMother, ethnicityName, province, childYear).familyName!;
    return familyName(this.rng, ethnicityName, province);
  }

  /** Names a parent outside the household the first time anyone needs the name (siblings share it). */
  private nameExternal(parent: ExternalParent, ethnicityName: string, province: string, childBirthYear: number): ExternalParent {
    if (parent.fullName !== undefined) return parent;
    if (parent.nationality !== 'VN') {
      parent.fullName = foreignName(this.rng, parent.nationality, parent.sex);
      parent.familyName = parent.fullName.split(' ')[0];
    } else {
      parent.familyName = familyName(this.rng, ethnicityName, province);
      // A parent is about a generation older than the child (the name's fashion follows the birth year).
      parent.fullName = `${parent.familyName} ${middleAndGivenName(this.rng, parent.sex, childBirthYear - 28, ethnicityName)}`;
    }
    return parent;
  }

  /** PPP G YY from the birth province, sex and year, except for the deliberate legacy errors. */
  private codePrefix(member: Member, birthProvince: string): string {
    const { rng } = this;
    let sex: Sex = member.sex;
    let year = yearOfDay(member.birth);
    if (member.birth < BIRTH_REGISTRY_START && rng.chance(CODE_ERROR_SHARE_BEFORE_2000)) {
      if (rng.chance(0.6)) {
        // A mistyped year, kept within the 1900s so G stays a 1900s digit.
        year = year === 1999 ? 1998 : year === 1900 ? 1901 : year + (rng.chance(0.5) ? 1 : -1);
      } else {
        sex = sex === 'MALE' ? 'FEMALE' : 'MALE';
      }
    }
    return personalCodePrefix(birthProvince, sex, year);
  }

  private citizenRow(person: Person): CongDanRow {
    const { rng } = this;
    const m = person.member;
    return {
      so_dinh_danh: person.code,
      ho_ten: person.name,
      ten_goi_khac: rng.chance(0.015) ? rng.pick(NICKNAMES) : null,
      ngay_sinh: formatDay(m.birth),
      gioi_tinh: m.sex === 'MALE' ? 1 : 2,
      dan_toc: person.ethnicity,
      ton_giao: person.religion,
      quoc_tich: 'VN',
      que_quan: person.origin,
      nhom_mau: bloodGroup(rng),
      tinh_trang_hon_nhan: m.marital,
      ngay_mat: m.death === null ? null : formatDay(m.death),
    };
  }

  /**
   * Household membership and residence registrations. Everyone has exactly one current permanent
   * residence (THUONG_TRU, HIEU_LUC) at the household's address from the day they joined; some have an
   * earlier permanent residence that ended when they moved here (with, for spouses and in-laws, the
   * membership of the household they came from); about one in ten has a current temporary residence
   * elsewhere (students, workers in the cities).
   */
  private residence(batch: PopulationBatch, person: Person, so_ho: string, home: Address): void {
    const { rng, ref } = this;
    const m = person.member;
    const code = person.code;
    const age = fullYearsBetween(m.birth, ref);

    // Where they lived before joining this household.
    const cameFromElsewhere = m.joined - m.birth > YEAR;
    const earlier = cameFromElsewhere && (m.role === 'VO' || m.role === 'CHONG' || m.role === 'KHAC') && rng.chance(0.4) ? this.earlierHousehold(m) : null;
    if (earlier) {
      const from = Math.max(earlier.established, m.registeredOn ?? m.birth);
      const relationship = addYears(earlier.headBirth, 16) < m.birth ? 'CON' : 'KHAC';
      batch.thanh_vien_ho.push(membership(code, earlier.so_ho, relationship, from, m.joined));
      batch.dang_ky_cu_tru.push(registration(code, 'THUONG_TRU', earlier.address, from, m.joined, 'DA_CHUYEN_DI'));
    } else if (cameFromElsewhere && rng.chance(m.role === 'CHU_HO' ? 0.3 : m.role === 'CHA' || m.role === 'ME' ? 0.4 : m.generation <= 1 ? 0.25 : 0.05)) {
      const place = rng.chance(0.5) ? address(rng, otherProvince(rng, home.ma_tinh)) : address(rng, home.ma_tinh);
      const from = rng.dayBetween(Math.max(m.registeredOn ?? m.birth, m.joined - 20 * YEAR), m.joined - 30);
      batch.dang_ky_cu_tru.push(registration(code, 'THUONG_TRU', place, from, m.joined, rng.chance(0.75) ? 'DA_CHUYEN_DI' : 'HET_HIEU_LUC'));
    }

    batch.thanh_vien_ho.push(membership(code, so_ho, m.role, m.joined, null));
    batch.dang_ky_cu_tru.push(registration(code, 'THUONG_TRU', home, m.joined, null, 'HIEU_LUC'));

    // Temporary residence: mostly young adults working or studying elsewhere.
    const alive = m.death === null;
    const pTemporary = age >= 18 && age <= 35 ? 0.24 : age > 35 && age <= 55 ? 0.1 : age >= 14 && age < 18 ? 0.05 : 0.02;
    if (alive && rng.chance(pTemporary)) {
      const place = rng.chance(0.65) ? address(rng, migrationDestination(rng, home.ma_tinh)) : addressInWard(rng, address(rng, home.ma_tinh));
      const from = Math.max(m.birth + 1, ref - rng.int(10, 2 * YEAR));
      batch.dang_ky_cu_tru.push(registration(code, 'TAM_TRU', place, from, null, 'HIEU_LUC'));
    } else if (alive && age >= 20 && rng.chance(0.05)) {
      const end = rng.dayBetween(Math.max(addYears(m.birth, 18), ref - 10 * YEAR), ref - 30);
      const start = Math.max(addYears(m.birth, 16), end - rng.int(180, 2 * YEAR));
      batch.dang_ky_cu_tru.push(registration(code, 'TAM_TRU', address(rng, migrationDestination(rng, home.ma_tinh)), start, end, 'HET_HIEU_LUC'));
    }
  }

  /** A household seen recently that existed long enough before this person joined the current one. */
  private earlierHousehold(m: Member): PastHousehold | null {
    if (this.recent.length === 0) return null;
    const candidate = this.rng.pick(this.recent);
    const from = Math.max(candidate.established, m.registeredOn ?? m.birth);
    return from < m.joined - 30 ? candidate : null;
  }

  private remember(household: PastHousehold): void {
    if (this.recent.length < RECENT_HOUSEHOLDS) this.recent.push(household);
    else this.recent[this.recentNext] = household;
    this.recentNext = (this.recentNext + 1) % RECENT_HOUSEHOLDS;
  }

  /**
   * The birth registration of someone born on or after 2000-01-01. It agrees with the citizen row exactly
   * (name, sex, date of birth) and with the code (registered in the code's province, in its year).
   */
  private birthRow(person: Person, people: Person[], home: Address): DangKyKhaiSinhRow {
    const { rng } = this;
    const m = person.member;
    const year = yearOfDay(m.birth);
    const province = person.birthProvince;
    const sequenceKey = Number(province) * 10_000 + year;
    const sequence = (this.birthSequence.get(sequenceKey) ?? 0) + 1;
    this.birthSequence.set(sequenceKey, sequence);
    const registeredAt = province === home.ma_tinh && (m.role === 'CON' || m.role === 'CHAU') ? home : address(rng, province);
    const parent = (p: Parent | null): [string | null, string | null, string | null] => {
      if (p === null) return [null, null, null];
      if (p.kind === 'member') {
        const known = people.find((other) => other.member === p)!;
        return [known.code, known.name, 'VN'];
      }
      const named = this.nameExternal(p, person.ethnicity, province, year);
      return [null, named.fullName!, named.nationality];
    };
    const [fatherCode, fatherName, fatherNationality] = parent(m.father);
    const [motherCode, motherName, motherNationality] = parent(m.mother);
    return {
      id: ++this.birthId,
      so_dang_ky: `${province}/${year}/${String(sequence).padStart(6, '0')}`,
      ngay_dang_ky: formatDay(m.registeredOn!),
      co_quan_dang_ky: birthRegistrar(registeredAt),
      ma_tinh_dang_ky: province,
      noi_sinh: placeOfBirth(rng, registeredAt),
      ho_ten_tre: person.name,
      gioi_tinh_tre: m.sex === 'MALE' ? 1 : 2,
      ngay_sinh_tre: formatDay(m.birth),
      so_dinh_danh_tre: person.code,
      so_dinh_danh_cha: fatherCode,
      ho_ten_cha: fatherName,
      quoc_tich_cha: fatherNationality,
      so_dinh_danh_me: motherCode,
      ho_ten_me: motherName,
      quoc_tich_me: motherNationality,
    };
  }
}
