import crypto from 'node:crypto';
import type { Prisma } from '../../prisma/birth-registry/generated/client';
import type { Caller } from '../../lib/caller';
import type { Principal } from '../../lib/access/principal';
import { lockName } from '../../lib/advisory-lock';
import { conflict, inputError, notFound, unavailable } from '../../lib/graphql/errors';
import { countryCodeArgument, notInFuture, provinceCodeArgument, requiredText, today } from '../../lib/graphql/arguments';
import { formatDate } from '../../lib/graphql/scalars';
import type { ResidentSummary } from '../../lib/residents-service';
import { AgencyUnreachableError } from '../../lib/service-client';
import { beginWrite, isBusyRefusal, type LogChange } from '../../lib/write-transaction';
import { CHILD_SEX, REQUEST_STATUS } from './codes';
import type { Context } from './context';
import type { RegisterBirthInput, ParentInput } from './generated/graphql';
import type { BirthOutcome, BirthRecord } from './models';
import { nextRegistrationNumber } from './registration-numbers';

/**
 * registerBirth: a birth registration in the birth registry and, for the child, a personal code and core
 * record in the Resident Information Center, exactly once, across two agencies and two databases.
 *
 * There is no transaction spanning both databases, so the write is split in steps that are each safe to
 * repeat, with the birth registry's own row as the record of where it stands (the outbox pattern):
 *
 *   1. Check everything that can be checked before writing (input, then the parents named by code, with
 *      residents). A refusal here writes nothing anywhere.
 *   2. One birth-registry transaction records the registration (without a code yet) and the request under
 *      the client's idempotency key, state CHO_CAP_SO ("waiting for the code"); or, when the child looks
 *      already registered, only the request, state CHO_XEM_XET ("held for review").
 *   3. Residents is asked for the code, by the registration's number. Residents issues the code, creates the
 *      record and remembers the number in one transaction of its own (the number is UNIQUE there), so
 *      asking again returns the same code: never a second child, never a second code.
 *   4. A second birth-registry transaction writes the code onto the registration: state HOAN_TAT.
 *
 * A failure between the steps leaves the request in CHO_CAP_SO, never an orphan: if residents was
 * unreachable (step 3), the answer is PENDING_PERSONAL_CODE; if residents committed but its answer was
 * lost, the code exists there and step 3 run again returns it. Step 3 and 4 are run again by a retry with
 * the same idempotency key and by the subgraph's background completion (birth-completion.ts), until done.
 * The request's fingerprint makes sure a key is only ever used for one birth.
 */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,100}$/;
/** A father may die before the birth of his child, up to this many months before. */
const POSTHUMOUS_MONTHS = 10;

interface ParentData {
  personalCode: string | null;
  name: string | null;
  nationality: string | null;
}

/** The request as validated and stored (cg_yeu_cau_khai_sinh.du_lieu); its JSON is fingerprinted. */
export interface BirthRequestData {
  registrationProvince: string;
  registeringAuthority: string;
  placeOfBirth: string;
  childName: string;
  childSex: 'MALE' | 'FEMALE';
  childDateOfBirth: string;
  ethnicity: string;
  nationality: string;
  father: ParentData | null;
  mother: ParentData | null;
}

function parentArgument(parent: ParentInput | null | undefined, argument: string): ParentData | null {
  if (!parent) return null;
  if (parent.personalCode) return { personalCode: parent.personalCode, name: null, nationality: null };
  if (!parent.name || !parent.nationality) {
    throw inputError('PARENT_IDENTITY_REQUIRED', { argument }, { argument });
  }
  return {
    personalCode: null,
    name: requiredText(parent.name, `${argument}.name`, 150),
    nationality: countryCodeArgument(parent.nationality, `${argument}.nationality`),
  };
}

export function validateBirthInput(input: RegisterBirthInput): BirthRequestData {
  return {
    registrationProvince: provinceCodeArgument(input.registrationProvinceCode, 'input.registrationProvinceCode'),
    registeringAuthority: requiredText(input.registeringAuthority, 'input.registeringAuthority', 255),
    placeOfBirth: requiredText(input.placeOfBirth, 'input.placeOfBirth', 255),
    childName: requiredText(input.childName, 'input.childName', 150),
    childSex: input.childSex,
    childDateOfBirth: formatDate(notInFuture(input.childDateOfBirth, 'input.childDateOfBirth')),
    ethnicity: requiredText(input.ethnicity, 'input.ethnicity', 50),
    nationality: input.nationality ? countryCodeArgument(input.nationality, 'input.nationality') : 'VN',
    father: parentArgument(input.father, 'input.father'),
    mother: parentArgument(input.mother, 'input.mother'),
  };
}

function idempotencyKeyArgument(value: string): string {
  if (!IDEMPOTENCY_KEY.test(value)) {
    throw inputError('IDEMPOTENCY_KEY_FORMAT', {}, { argument: 'input.idempotencyKey' });
  }
  return value;
}

const addMonths = (date: Date, months: number) => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, date.getUTCDate()));

/** Parents named by code: they exist, under their code in force, were born before the child and alive at the birth. */
async function checkParents(data: BirthRequestData, ctx: Context): Promise<void> {
  const named = (['father', 'mother'] as const).filter((role) => data[role]?.personalCode);
  if (named.length === 0) return;
  let found: Map<string, ResidentSummary | null>;
  try {
    found = await ctx.services.residents.lookup(
      named.map((role) => data[role]!.personalCode!),
      ctx.caller,
    );
  } catch (error) {
    if (error instanceof AgencyUnreachableError) {
      throw unavailable('PARENTS_NOT_CONFIRMED', { agency: error.agency.id }, { agency: error.agency.title });
    }
    throw error;
  }
  const born = new Date(`${data.childDateOfBirth}T00:00:00Z`);
  for (const role of named) {
    const parent = data[role]!;
    const argument = `input.${role}.personalCode`;
    const person = found.get(parent.personalCode!);
    if (!person) throw notFound('PARENT_NOT_FOUND', { code: parent.personalCode!, role }, { argument });
    if (person.personalCode !== parent.personalCode) {
      throw conflict(
        'PARENT_CODE_CANCELLED',
        { code: parent.personalCode!, role, current: person.personalCode },
        { reason: 'PERSONAL_CODE_CANCELLED', argument, currentPersonalCode: person.personalCode },
      );
    }
    if (person.dateOfBirth >= data.childDateOfBirth) {
      throw inputError('DATE_BEFORE_PARENT_BIRTH', { date: data.childDateOfBirth, role, parentDate: person.dateOfBirth }, { argument: 'input.childDateOfBirth' });
    }
    if (person.dateOfDeath) {
      const died = new Date(`${person.dateOfDeath}T00:00:00Z`);
      const latestBirth = role === 'mother' ? died : addMonths(died, POSTHUMOUS_MONTHS);
      if (born > latestBirth) {
        throw conflict('PARENT_DECEASED', { code: parent.personalCode!, role, died: person.dateOfDeath }, { argument });
      }
    }
    parent.name = person.fullName;
    parent.nationality = 'VN';
  }
}

const fingerprintOf = (data: BirthRequestData) => crypto.createHash('sha256').update(JSON.stringify(data)).digest('hex');

/** A registration already recorded for the same child: same date of birth and name, same mother (by code or name). */
async function possibleDuplicate(tx: Prisma.TransactionClient, data: BirthRequestData): Promise<BirthRecord | null> {
  const mother = data.mother;
  const candidates = await tx.$queryRaw<{ id: bigint }[]>`
    SELECT id FROM dang_ky_khai_sinh
     WHERE ngay_sinh_tre = ${data.childDateOfBirth}::date AND lower(ho_ten_tre) = lower(${data.childName})
       AND (${mother?.personalCode ?? null}::char(12) IS NOT NULL AND so_dinh_danh_me = ${mother?.personalCode ?? null}::char(12)
            OR ${mother?.name ?? null}::text IS NOT NULL AND lower(ho_ten_me) = lower(${mother?.name ?? null}::text)
            OR ${mother === null} AND so_dinh_danh_me IS NULL AND ho_ten_me IS NULL)
     ORDER BY id LIMIT 1`;
  return candidates[0] ? tx.birthRegistration.findUnique({ where: { id: candidates[0].id } }) : null;
}

export type Recorded = Prisma.BirthRequestGetPayload<{ include: { registration: true; possibleDuplicate: true } }>;
export const RECORDED = { registration: true, possibleDuplicate: true } as const;

const AWAITING_CODE = REQUEST_STATUS.encode('AWAITING_CODE');

export async function registerBirth(input: RegisterBirthInput, ctx: Context): Promise<BirthOutcome> {
  const write = beginWrite(ctx, 'birth-registry');
  const key = idempotencyKeyArgument(input.idempotencyKey);
  const data = validateBirthInput(input);
  const fingerprint = fingerprintOf(data);

  // A retry: answer from what was recorded, finishing it if it still waits for its code.
  const known = await ctx.db.prisma.birthRequest.findUnique({ where: { idempotencyKey: key }, include: RECORDED });
  if (known) return answerRetry(known, fingerprint, ctx);

  // Fills in the names of parents given by code; the fingerprint stays that of the client's request.
  await checkParents(data, ctx);
  const recorded = await write.transaction(async (tx, logChange): Promise<Recorded> => {
    await lockName(tx, `birth-request:${key}`);
    const raced = await tx.birthRequest.findUnique({ where: { idempotencyKey: key }, include: RECORDED });
    if (raced) return raced;
    // Two registrations of one child at the same moment queue here; the second sees the first.
    await lockName(tx, `birth-child:${data.childDateOfBirth}:${data.childName.toLowerCase()}`);
    const duplicate = await possibleDuplicate(tx, data);
    const base = { idempotencyKey: key, fingerprint, request: data as unknown as Prisma.InputJsonValue, actor: write.by.actor, requestId: ctx.caller.requestId };
    if (duplicate) {
      await logChange({
        action: 'HOLD_BIRTH_FOR_REVIEW',
        table: 'cg_yeu_cau_khai_sinh',
        key,
        details: { possibleDuplicateOf: duplicate.registrationNumber, childName: data.childName, childDateOfBirth: data.childDateOfBirth },
      });
      const status = REQUEST_STATUS.encode('HELD_FOR_REVIEW');
      return tx.birthRequest.create({ data: { ...base, status, possibleDuplicateId: duplicate.id }, include: RECORDED });
    }
    const registeredOn = today();
    const registration = await tx.birthRegistration.create({
      data: {
        registrationNumber: await nextRegistrationNumber(tx, data.registrationProvince, registeredOn.getUTCFullYear()),
        registeredOn,
        registeringAuthority: data.registeringAuthority,
        registrationProvince: data.registrationProvince,
        placeOfBirth: data.placeOfBirth,
        childName: data.childName,
        childSex: CHILD_SEX.encode(data.childSex),
        childDateOfBirth: new Date(`${data.childDateOfBirth}T00:00:00Z`),
        childCode: null,
        fatherCode: data.father?.personalCode ?? null,
        fatherName: data.father?.name ?? null,
        fatherNationality: data.father?.nationality ?? null,
        motherCode: data.mother?.personalCode ?? null,
        motherName: data.mother?.name ?? null,
        motherNationality: data.mother?.nationality ?? null,
      },
    });
    await logChange({
      action: 'REGISTER_BIRTH',
      table: 'dang_ky_khai_sinh',
      key: registration.registrationNumber,
      details: { idempotencyKey: key },
    });
    return tx.birthRequest.create({ data: { ...base, status: AWAITING_CODE, registrationId: registration.id }, include: RECORDED });
  });
  // Recorded now, or by a concurrent request with the same key: either way the same answer as a retry.
  return answerRetry(recorded, fingerprint, ctx);
}

async function answerRetry(known: Recorded, fingerprint: string, ctx: Context): Promise<BirthOutcome> {
  if (known.fingerprint !== fingerprint) {
    throw conflict('IDEMPOTENCY_KEY_REUSED', {}, { argument: 'input.idempotencyKey' });
  }
  return outcomeOf(known.status === AWAITING_CODE ? await completeBirth(known, ctx.caller, ctx) : known);
}

function outcomeOf(recorded: Recorded): BirthOutcome {
  const status = REQUEST_STATUS.decode(recorded.status);
  if (status === 'HELD_FOR_REVIEW') return { status, registration: null, possibleDuplicateOf: recorded.possibleDuplicate };
  return {
    status: status === 'COMPLETED' ? 'REGISTERED' : 'PENDING_PERSONAL_CODE',
    registration: recorded.registration,
    possibleDuplicateOf: null,
  };
}

/**
 * Steps 3 and 4: the child's code from residents, then onto the registration. Safe to run any number of
 * times, concurrently too (a retry and the background completion): residents answers the same code for
 * the same registration number, and only the first write of it here changes anything.
 */
export async function completeBirth(recorded: Recorded, caller: Caller, ctx: Pick<Context, 'db' | 'services' | 'log'>): Promise<Recorded> {
  const registration = recorded.registration!;
  const data = recorded.request as unknown as BirthRequestData;
  // Residents records the registrar who registered the birth, whoever completes it (a retry, the background).
  const principal: Principal = caller.principal?.subject === recorded.actor
    ? caller.principal
    : { subject: recorded.actor, role: 'REGISTRAR', agency: 'birth-registry', personalCode: null, purpose: 'CIVIL_REGISTRATION', caseReference: null, requestId: caller.requestId };
  const onBehalf: Caller = { actor: recorded.actor, requestId: caller.requestId, service: null, principal, credentialed: true, recordedByGateway: false, permissions: null };
  let code: string;
  try {
    code = await ctx.services.residents.createCitizenAtBirth(
      {
        birthRegistrationNumber: registration.registrationNumber,
        provinceCode: data.registrationProvince,
        fullName: data.childName,
        sex: data.childSex,
        dateOfBirth: data.childDateOfBirth,
        ethnicity: data.ethnicity,
        nationality: data.nationality,
      },
      onBehalf,
    );
  } catch (error) {
    if (!(error instanceof AgencyUnreachableError)) throw error;
    // No registration number or name in the log: the request id (on the line) finds the registration.
    ctx.log.warn({ err: error, agency: error.agency.id }, 'a birth registration waits for its personal code: the Resident Information Center could not be reached');
    await ctx.db.prisma.birthRequest.update({
      where: { idempotencyKey: recorded.idempotencyKey },
      data: { attempts: { increment: 1 }, lastError: error.message.slice(0, 255), updatedAt: new Date() },
    });
    return recorded;
  }
  try {
    // Written as the registrar who registered the birth (onBehalf); background work has no loaders to clear.
    return await beginWrite({ db: ctx.db, caller: onBehalf }, 'birth-registry').transaction((tx, logChange) => assignCode(tx, logChange, recorded, code));
  } catch (error) {
    // Residents has issued the code; writing it here waits for a quieter moment (a retry, the background completion).
    if (!isBusyRefusal(error)) throw error;
    console.warn(`[birth-registry] registration ${registration.registrationNumber} waits to record its personal code: the database is busy`);
    return recorded;
  }
}

/** Step 4: the code onto the registration, once; the request then stands HOAN_TAT. */
async function assignCode(tx: Prisma.TransactionClient, logChange: LogChange, recorded: Recorded, code: string): Promise<Recorded> {
  const registration = recorded.registration!;
  const assigned = await tx.birthRegistration.updateMany({ where: { id: registration.id, childCode: null }, data: { childCode: code } });
  if (assigned.count === 1) {
    await tx.birthRequest.update({
      where: { idempotencyKey: recorded.idempotencyKey },
      data: { status: REQUEST_STATUS.encode('COMPLETED'), attempts: { increment: 1 }, lastError: null, updatedAt: new Date() },
    });
    await logChange({
      action: 'ASSIGN_PERSONAL_CODE',
      table: 'dang_ky_khai_sinh',
      key: registration.registrationNumber,
      personalCode: code,
      details: { idempotencyKey: recorded.idempotencyKey },
    });
  }
  return tx.birthRequest.findUniqueOrThrow({ where: { idempotencyKey: recorded.idempotencyKey }, include: RECORDED });
}
