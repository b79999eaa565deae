import crypto from 'node:crypto';
import type { Prisma } from '../../prisma/residents/generated/client';
import { notBefore, notInFuture, requiredText } from '../../lib/graphql/arguments';
import { conflict, inputError, notFound } from '../../lib/graphql/errors';
import { formatDate as day } from '../../lib/graphql/scalars';
import { beginWrite, RetryWrite, type LogChange } from '../../lib/write-transaction';
import { lockCitizen, type LockedCitizen } from './citizen-lock';
import { RELATIONSHIP } from './codes';
import type { Context } from './context';
import type {
  HouseholdRelationship,
  MutationChangeHouseholdHeadArgs,
  MutationCreateHouseholdArgs,
  MutationJoinHouseholdArgs,
  MutationLeaveHouseholdArgs,
} from './generated/graphql';
import type { CitizenRecord, HouseholdWithMembers } from './models';
import { addressArgument, notBeforeBirth } from './write-arguments';

type Tx = Prisma.TransactionClient;

/**
 * Households (ho_gia_dinh) and their members (thanh_vien_ho). History is kept by closing membership rows
 * (den_ngay) and opening new ones, never by deleting or rewriting them. A citizen belongs to at most one
 * household at a time. Locks are taken in one order everywhere: the household row, then citizens by code.
 */
const HOUSEHOLD_NUMBER_LENGTH = 20;
const HEAD = RELATIONSHIP.encode('HEAD');

interface LockedHousehold {
  number: string;
  headCode: string;
  establishedOn: Date;
}

async function lockHousehold(tx: Tx, number: string, argument: string): Promise<LockedHousehold> {
  const rows = await tx.$queryRaw<LockedHousehold[]>`
    SELECT so_ho AS "number", so_dinh_danh_chu_ho AS "headCode", ngay_lap AS "establishedOn"
      FROM ho_gia_dinh WHERE so_ho = ${number} FOR UPDATE`;
  if (!rows[0]) throw notFound('HOUSEHOLD_NOT_FOUND', { number }, { argument });
  return rows[0];
}

const currentMembership = (tx: Tx, personalCode: string) => tx.householdMember.findFirst({ where: { personalCode, to: null } });

/** A membership cannot start before the citizen's previous one ended (history does not overlap). */
async function notBeforePreviousMembership(tx: Tx, personalCode: string, date: Date, argument: string): Promise<void> {
  const previous = await tx.householdMember.findFirst({ where: { personalCode, to: { not: null } }, orderBy: { to: 'desc' } });
  if (previous?.to) notBefore(date, previous.to, argument, 'DATE_BEFORE_PREVIOUS_MEMBERSHIP', 'PREVIOUS_MEMBERSHIP_END');
}

async function refuseIfMember(tx: Tx, citizen: LockedCitizen, argument: string): Promise<void> {
  const membership = await currentMembership(tx, citizen.personalCode);
  if (membership) {
    throw conflict(
      'ALREADY_IN_HOUSEHOLD',
      { code: citizen.personalCode, number: membership.householdNumber },
      { argument, householdNumber: membership.householdNumber },
    );
  }
}

function notHead(relationship: HouseholdRelationship, argument: string, why: 'HEAD_ONE_PER_HOUSEHOLD' | 'HEAD_NO_LONGER_HEAD'): string {
  if (relationship === 'HEAD') {
    throw inputError(why, { argument }, { argument, reason: 'RELATIONSHIP_HEAD_NOT_ALLOWED' });
  }
  return RELATIONSHIP.encode(relationship);
}

/** HK + province + 9 random digits (like the agency's numbers): unguessable, not sequential. */
function newHouseholdNumber(provinceCode: string): string {
  return `HK${provinceCode}${String(crypto.randomInt(0, 1_000_000_000)).padStart(9, '0')}`;
}

async function reloaded(ctx: Context, number: string): Promise<HouseholdWithMembers> {
  return (await ctx.loaders.household.load(number))!;
}

/** What a change of an existing household's members names besides the household: a relationship other than head, from a day. */
interface MemberChange {
  relationship: [HouseholdRelationship, argument: string, why: 'HEAD_ONE_PER_HOUSEHOLD' | 'HEAD_NO_LONGER_HEAD'];
  date: [Date, argument: string];
}

/**
 * A change of an existing household's members (joining it, changing its head), in the order every write
 * keeps: the actor, the arguments, then the write kit's transaction with the household row locked first; the
 * household as committed is what the mutation returns.
 */
async function changeHousehold(
  ctx: Context,
  householdNumber: string,
  change: MemberChange,
  work: (tx: Tx, household: LockedHousehold, checked: { relationship: string; date: Date }, logChange: LogChange) => Promise<void>,
): Promise<HouseholdWithMembers> {
  const write = beginWrite(ctx, 'residents');
  const number = requiredText(householdNumber, 'householdNumber', HOUSEHOLD_NUMBER_LENGTH);
  const checked = { relationship: notHead(...change.relationship), date: notInFuture(...change.date) };
  await write.transaction(async (tx, logChange) => work(tx, await lockHousehold(tx, number, 'householdNumber'), checked, logChange));
  return reloaded(ctx, number);
}

export async function createHousehold(args: MutationCreateHouseholdArgs, ctx: Context): Promise<HouseholdWithMembers> {
  const write = beginWrite(ctx, 'residents');
  const address = addressArgument(args.address, 'address');
  const establishedOn = notInFuture(args.establishedOn, 'establishedOn');
  const number = await write.transaction(async (tx, logChange) => {
    const head = await lockCitizen(tx, args.headPersonalCode, 'headPersonalCode');
    notBeforeBirth(establishedOn, head, 'establishedOn');
    await refuseIfMember(tx, head, 'headPersonalCode');
    await notBeforePreviousMembership(tx, head.personalCode, establishedOn, 'establishedOn');
    let number: string | null = null;
    for (let attempt = 0; attempt < 10 && number === null; attempt++) {
      const candidate = newHouseholdNumber(address.provinceCode);
      const inserted = await tx.$executeRaw`
        INSERT INTO ho_gia_dinh (so_ho, so_dinh_danh_chu_ho, ma_tinh, quan_huyen, phuong_xa, dia_chi_chi_tiet, ngay_lap)
        VALUES (${candidate}, ${head.personalCode}, ${address.provinceCode}, ${address.district}, ${address.ward}, ${address.street}, ${establishedOn})
        ON CONFLICT (so_ho) DO NOTHING`;
      if (inserted === 1) number = candidate;
    }
    if (number === null) throw new Error('No free household number after 10 random draws.');
    const member = await tx.householdMember.create({
      data: { householdNumber: number, personalCode: head.personalCode, relationship: HEAD, from: establishedOn },
    });
    await logChange({
      action: 'CREATE_HOUSEHOLD',
      table: 'ho_gia_dinh',
      key: number,
      personalCode: head.personalCode,
      details: { address, establishedOn: day(establishedOn), headMembership: String(member.id) },
    });
    return number;
  });
  return reloaded(ctx, number);
}

export async function joinHousehold(args: MutationJoinHouseholdArgs, ctx: Context): Promise<HouseholdWithMembers> {
  const change: MemberChange = { relationship: [args.relationshipToHead, 'relationshipToHead', 'HEAD_ONE_PER_HOUSEHOLD'], date: [args.from, 'from'] };
  return changeHousehold(ctx, args.householdNumber, change, async (tx, household, { relationship, date: from }, logChange) => {
    const { number } = household;
    const citizen = await lockCitizen(tx, args.personalCode, 'personalCode');
    const members = await tx.householdMember.count({ where: { householdNumber: number, to: null } });
    if (members === 0) {
      throw conflict('HOUSEHOLD_DISSOLVED', { number }, { argument: 'householdNumber' });
    }
    await refuseIfMember(tx, citizen, 'personalCode');
    notBeforeBirth(from, citizen, 'from');
    notBefore(from, household.establishedOn, 'from', 'DATE_BEFORE_ESTABLISHED', 'HOUSEHOLD_ESTABLISHED');
    await notBeforePreviousMembership(tx, citizen.personalCode, from, 'from');
    const member = await tx.householdMember.create({
      data: { householdNumber: number, personalCode: citizen.personalCode, relationship, from },
    });
    await logChange({
      action: 'JOIN_HOUSEHOLD',
      table: 'thanh_vien_ho',
      key: String(member.id),
      personalCode: citizen.personalCode,
      details: { householdNumber: number, relationship, from: day(from) },
    });
  });
}

/** Leaves the current household; the head only as its last member, which dissolves the household. */
export async function leaveHousehold(args: MutationLeaveHouseholdArgs, ctx: Context): Promise<CitizenRecord> {
  const write = beginWrite(ctx, 'residents');
  const on = notInFuture(args.on, 'on');
  await write.transaction(async (tx, logChange) => {
    // The household is locked before the citizen (the order every household write keeps); which household
    // is read first without a lock, and checked again once both are locked.
    const seen = await currentMembership(tx, args.personalCode);
    if (seen) await lockHousehold(tx, seen.householdNumber, 'personalCode');
    const citizen = await lockCitizen(tx, args.personalCode, 'personalCode', { living: false });
    const membership = await currentMembership(tx, citizen.personalCode);
    if (!membership) {
      if (seen) throw new RetryWrite();
      throw conflict('NOT_IN_HOUSEHOLD', { code: citizen.personalCode }, { argument: 'personalCode' });
    }
    if (membership.householdNumber !== seen?.householdNumber) throw new RetryWrite();
    const others = await tx.householdMember.count({
      where: { householdNumber: membership.householdNumber, to: null, personalCode: { not: citizen.personalCode } },
    });
    if (membership.relationship === HEAD && others > 0) {
      throw conflict(
        'HEAD_CANNOT_LEAVE',
        { code: citizen.personalCode, number: membership.householdNumber, others },
        { argument: 'personalCode', householdNumber: membership.householdNumber },
      );
    }
    notBefore(on, membership.from, 'on', 'DATE_BEFORE_START', 'MEMBERSHIP_START');
    await tx.householdMember.update({ where: { id: membership.id }, data: { to: on } });
    await logChange({
      action: others === 0 ? 'DISSOLVE_HOUSEHOLD' : 'LEAVE_HOUSEHOLD',
      table: 'thanh_vien_ho',
      key: String(membership.id),
      personalCode: citizen.personalCode,
      details: { householdNumber: membership.householdNumber, relationship: membership.relationship, to: day(on) },
    });
  });
  return (await ctx.loaders.citizen.load(args.personalCode))!;
}

/**
 * A current member becomes head from `on`; the previous head stays a member with the relationship given.
 * Both memberships are closed on `on` and reopened, so the history shows who was head when.
 */
export async function changeHouseholdHead(args: MutationChangeHouseholdHeadArgs, ctx: Context): Promise<HouseholdWithMembers> {
  const change: MemberChange = { relationship: [args.previousHeadRelationship, 'previousHeadRelationship', 'HEAD_NO_LONGER_HEAD'], date: [args.on, 'on'] };
  return changeHousehold(ctx, args.householdNumber, change, async (tx, household, { relationship: previousRelationship, date: on }, logChange) => {
    const { number } = household;
    const newHeadCode = args.newHeadPersonalCode;
    if (newHeadCode === household.headCode) {
      throw conflict('ALREADY_HEAD', { code: newHeadCode, number }, { argument: 'newHeadPersonalCode' });
    }
    // Citizens by code: the same order as any other write that locks both.
    for (const code of [household.headCode, newHeadCode].sort()) {
      if (code === newHeadCode) await lockCitizen(tx, code, 'newHeadPersonalCode');
      else await lockCitizen(tx, code, 'householdNumber', { living: false });
    }
    const members = await tx.householdMember.findMany({ where: { householdNumber: number, to: null } });
    const newHead = members.find((m) => m.personalCode === newHeadCode);
    if (!newHead) {
      throw conflict('NOT_A_MEMBER', { code: newHeadCode, number }, { argument: 'newHeadPersonalCode' });
    }
    const oldHead = members.find((m) => m.relationship === HEAD);
    notBefore(on, newHead.from, 'on', 'DATE_BEFORE_START', 'NEW_HEAD_MEMBERSHIP_START');
    if (oldHead) notBefore(on, oldHead.from, 'on', 'DATE_BEFORE_START', 'PREVIOUS_HEAD_MEMBERSHIP_START');

    // Close before opening: at no statement are there two current heads or two current memberships.
    const closing = [newHead, ...(oldHead ? [oldHead] : [])];
    await tx.householdMember.updateMany({ where: { id: { in: closing.map((m) => m.id) } }, data: { to: on } });
    if (oldHead) {
      await tx.householdMember.create({
        data: { householdNumber: number, personalCode: oldHead.personalCode, relationship: previousRelationship, from: on },
      });
    }
    await tx.householdMember.create({ data: { householdNumber: number, personalCode: newHeadCode, relationship: HEAD, from: on } });
    await tx.household.update({ where: { number }, data: { headCode: newHeadCode } });
    for (const [personalCode, before, after] of [
      [newHeadCode, newHead.relationship, HEAD],
      ...(oldHead ? [[oldHead.personalCode, HEAD, previousRelationship]] : []),
    ]) {
      await logChange({
        action: 'CHANGE_HOUSEHOLD_HEAD',
        table: 'ho_gia_dinh',
        key: number,
        personalCode,
        details: { previousHead: household.headCode, newHead: newHeadCode, relationship: { before, after }, on: day(on) },
      });
    }
  });
}
