import { requireService } from '../../lib/caller';
import { lockName } from '../../lib/advisory-lock';
import { conflict, inputError } from '../../lib/graphql/errors';
import { countryCodeArgument, notBefore, notInFuture, provinceCodeArgument, requiredText } from '../../lib/graphql/arguments';
import { formatDate } from '../../lib/graphql/scalars';
import { parsePersonalCode } from '../../lib/personal-code';
import { beginWrite } from '../../lib/write-transaction';
import type { CitizenAtBirthInput, RecordDeathInput, ReissuePersonalCodeInput } from './generated/graphql';
import type { Context } from './context';
import type { CitizenRecord } from './models';
import { CODE_CANCELLATION_REASON, CODE_STATUS, RESIDENCE_STATUS, SEX } from './codes';
import { issuePersonalCode } from './code-issuance';
import { changeCitizen, lockCitizen } from './citizen-lock';

/**
 * The residents subgraph's writes about a person's code and life: the birth registry's request for a
 * newborn's code and record, a code's cancellation and re-issue, and death. Each runs in one transaction,
 * starts by locking the person's row (citizen-lock.ts) and records who did it (lib/change-log.ts).
 */
/** The record as the graph returns it, after the transaction committed (the write kit cleared the loaders). */
async function reload(ctx: Context, personalCode: string): Promise<CitizenRecord> {
  return (await ctx.loaders.citizen.load(personalCode))!;
}

export async function createCitizenAtBirth(input: CitizenAtBirthInput, ctx: Context): Promise<CitizenRecord> {
  requireService(ctx.caller, ['birth-registry']);
  const write = beginWrite(ctx, 'residents');
  const birthKey = requiredText(input.birthRegistrationNumber, 'input.birthRegistrationNumber', 100);
  const provinceCode = provinceCodeArgument(input.provinceCode, 'input.provinceCode');
  const dateOfBirth = notInFuture(input.dateOfBirth, 'input.dateOfBirth');
  const record = {
    fullName: requiredText(input.fullName, 'input.fullName', 150),
    sex: SEX.encode(input.sex),
    dateOfBirth,
    ethnicity: requiredText(input.ethnicity, 'input.ethnicity', 50),
    nationality: countryCodeArgument(input.nationality, 'input.nationality'),
    placeOfOrigin: input.placeOfOrigin ? requiredText(input.placeOfOrigin, 'input.placeOfOrigin', 255) : null,
  };
  const code = await write.transaction(async (tx, logChange) => {
    // Retries of one registration queue here, and the second finds what the first created.
    await lockName(tx, `birth:${birthKey}`);
    const existing = await tx.personalCodeRegistration.findUnique({ where: { birthKey }, select: { currentCode: true } });
    if (existing) return existing.currentCode;
    const issued = await issuePersonalCode(tx, { provinceCode, sex: input.sex, dateOfBirth }, { actor: write.by.actor, birthKey });
    await tx.citizen.create({ data: { personalCode: issued, ...record } });
    await logChange({
      action: 'CREATE_CITIZEN_AT_BIRTH',
      table: 'cong_dan',
      key: issued,
      personalCode: issued,
      details: { birthRegistrationNumber: birthKey, provinceCode, sex: input.sex, dateOfBirth: formatDate(dateOfBirth) },
    });
    return issued;
  });
  return reload(ctx, code);
}

const CANCELLED = CODE_STATUS.encode('CANCELLED');

export async function reissuePersonalCode(input: ReissuePersonalCodeInput, ctx: Context): Promise<CitizenRecord> {
  const write = beginWrite(ctx, 'residents');
  const legalDocument = requiredText(input.legalDocument, 'input.legalDocument', 255);
  const newDateOfBirth = input.dateOfBirth ? notInFuture(input.dateOfBirth, 'input.dateOfBirth') : null;
  const oldCode = input.personalCode;
  const newCode = await write.transaction(async (tx, logChange) => {
    const citizen = await lockCitizen(tx, oldCode, 'input.personalCode');
    const oldSex = SEX.decode(citizen.sex);
    const sex = input.sex ?? oldSex;
    const dateOfBirth = newDateOfBirth ?? citizen.dateOfBirth;
    if (input.reason === 'SEX_CHANGE' && sex === oldSex) {
      throw inputError('SEX_UNCHANGED', { sex: oldSex }, { argument: 'input.sex' });
    }
    if (input.reason === 'BIRTH_YEAR_CORRECTION' && dateOfBirth.getUTCFullYear() === citizen.dateOfBirth.getUTCFullYear()) {
      throw inputError('BIRTH_YEAR_UNCHANGED', { year: citizen.dateOfBirth.getUTCFullYear() }, { argument: 'input.dateOfBirth' });
    }
    // PPP is frozen at registration: the new code keeps the province of the old one.
    const { provinceCode } = parsePersonalCode(oldCode);
    const issued = await issuePersonalCode(tx, { provinceCode, sex, dateOfBirth }, { actor: write.by.actor });
    // The record moves to the new code; residences, memberships and households follow (ON UPDATE CASCADE).
    await tx.citizen.update({
      where: { personalCode: oldCode },
      data: { personalCode: issued, sex: SEX.encode(sex), dateOfBirth, updatedAt: new Date() },
    });
    // The old code and any earlier ones now lead to the new code.
    await tx.personalCodeRegistration.update({
      where: { code: oldCode },
      data: {
        status: CANCELLED,
        currentCode: issued,
        cancelledAt: new Date(),
        cancelledBy: write.by.actor,
        cancellationReason: CODE_CANCELLATION_REASON.encode(input.reason),
        legalDocument,
      },
    });
    await tx.personalCodeRegistration.updateMany({ where: { currentCode: oldCode, status: CANCELLED }, data: { currentCode: issued } });
    await logChange({
      action: 'REISSUE_PERSONAL_CODE',
      table: 'so_dinh_danh',
      key: oldCode,
      personalCode: issued,
      details: {
        oldCode,
        newCode: issued,
        reason: input.reason,
        legalDocument,
        sex: { from: oldSex, to: sex },
        dateOfBirth: { from: formatDate(citizen.dateOfBirth), to: formatDate(dateOfBirth) },
      },
    });
    return issued;
  });
  return reload(ctx, newCode);
}

export async function recordDeath(input: RecordDeathInput, ctx: Context): Promise<CitizenRecord> {
  const write = beginWrite(ctx, 'residents');
  const deathRegistration = requiredText(input.deathRegistration, 'input.deathRegistration', 100);
  const dateOfDeath = notInFuture(input.dateOfDeath, 'input.dateOfDeath');
  return changeCitizen(ctx, write, input.personalCode, { argument: 'input.personalCode', living: false }, async (tx, citizen, logChange) => {
    if (citizen.dateOfDeath !== null) {
      throw conflict(
        'DEATH_ALREADY_RECORDED',
        { code: input.personalCode, died: formatDate(citizen.dateOfDeath) },
        { reason: 'CITIZEN_DECEASED', argument: 'input.personalCode' },
      );
    }
    notBefore(dateOfDeath, citizen.dateOfBirth, 'input.dateOfDeath', 'DATE_BEFORE_BIRTH', 'BIRTH');
    await tx.citizen.update({ where: { personalCode: input.personalCode }, data: { dateOfDeath, updatedAt: new Date() } });
    // Residence registrations in force end with the person (one registered after the date of death, a
    // late-recorded death, ends on its own first day: an end never precedes a start).
    const ended = await tx.$executeRaw`
      UPDATE dang_ky_cu_tru SET trang_thai = ${RESIDENCE_STATUS.encode('ENDED')}, den_ngay = GREATEST(tu_ngay, ${dateOfDeath}::date)
       WHERE so_dinh_danh = ${input.personalCode}::char(12) AND trang_thai = ${RESIDENCE_STATUS.encode('ACTIVE')}`;
    await logChange({
      action: 'RECORD_DEATH',
      table: 'cong_dan',
      key: input.personalCode,
      personalCode: input.personalCode,
      details: { dateOfDeath: formatDate(dateOfDeath), deathRegistration, residencesEnded: ended },
    });
  });
}
