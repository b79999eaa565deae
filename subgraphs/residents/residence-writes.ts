import { recordChange } from '../../lib/change-log';
import { notBefore, notInFuture, today } from '../../lib/graphql/arguments';
import { conflict, inputError, notFound } from '../../lib/graphql/errors';
import { lockCitizen } from './citizen-lock';
import type { Context } from './context';
import type {
  MutationMoveOutArgs,
  MutationRegisterPermanentResidenceArgs,
  MutationRegisterTemporaryResidenceArgs,
} from './generated/graphql';
import type { CitizenRecord } from './models';
import { actorOf, addressArgument, day, inTransaction, notBeforeBirth } from './write-support';

/**
 * Residence registrations (dang_ky_cu_tru): permanent (THUONG_TRU) and temporary (TAM_TRU). Nothing is
 * deleted: a registration that ends gets den_ngay and a status (DA_CHUYEN_DI when the citizen moved out).
 * Each write locks the citizen's row first, so writes about one citizen run one after the other.
 */
const TABLE = 'dang_ky_cu_tru';

async function reloaded(ctx: Context, personalCode: string): Promise<CitizenRecord> {
  return (await ctx.loaders.citizen.load(personalCode))!;
}

/** A new permanent residence; the one in force, if any, ends (moved out) the day the new one starts. */
export async function registerPermanentResidence(args: MutationRegisterPermanentResidenceArgs, ctx: Context): Promise<CitizenRecord> {
  const caller = actorOf(ctx);
  const address = addressArgument(args.address, 'address');
  const from = notInFuture(args.from, 'from');
  await inTransaction(ctx, async (tx) => {
    const citizen = await lockCitizen(tx, args.personalCode, 'personalCode');
    notBeforeBirth(from, citizen, 'from');
    const current = await tx.residenceRegistration.findMany({
      where: { personalCode: citizen.personalCode, kind: 'THUONG_TRU', status: 'HIEU_LUC' },
    });
    for (const registration of current) {
      notBefore(from, registration.from, 'from', 'DATE_BEFORE_CURRENT_RESIDENCE', 'CURRENT_RESIDENCE_START');
    }
    if (current.length > 0) {
      await tx.residenceRegistration.updateMany({
        where: { id: { in: current.map((r) => r.id) } },
        data: { status: 'DA_CHUYEN_DI', to: from },
      });
    }
    const created = await tx.residenceRegistration.create({
      data: { personalCode: citizen.personalCode, kind: 'THUONG_TRU', ...address, from, status: 'HIEU_LUC' },
    });
    await recordChange(tx, caller, {
      action: 'REGISTER_PERMANENT_RESIDENCE',
      table: TABLE,
      key: String(created.id),
      personalCode: citizen.personalCode,
      details: { address, from: day(from), ended: current.map((r) => ({ id: String(r.id), status: 'DA_CHUYEN_DI', to: day(from) })) },
    });
  });
  return reloaded(ctx, args.personalCode);
}

/** A temporary residence, besides any others and the permanent one; `to` is the end of its term, if known. */
export async function registerTemporaryResidence(args: MutationRegisterTemporaryResidenceArgs, ctx: Context): Promise<CitizenRecord> {
  const caller = actorOf(ctx);
  const address = addressArgument(args.address, 'address');
  const from = notInFuture(args.from, 'from');
  const to = args.to ?? null;
  if (to) {
    if (to.getTime() <= from.getTime()) {
      throw inputError('END_NOT_AFTER_START', { to: day(to), from: day(from) }, { argument: 'to' });
    }
    notBefore(to, today(), 'to', 'END_IN_PAST', 'TODAY_ENDED');
  }
  await inTransaction(ctx, async (tx) => {
    const citizen = await lockCitizen(tx, args.personalCode, 'personalCode');
    notBeforeBirth(from, citizen, 'from');
    const created = await tx.residenceRegistration.create({
      data: { personalCode: citizen.personalCode, kind: 'TAM_TRU', ...address, from, to, status: 'HIEU_LUC' },
    });
    await recordChange(tx, caller, {
      action: 'REGISTER_TEMPORARY_RESIDENCE',
      table: TABLE,
      key: String(created.id),
      personalCode: citizen.personalCode,
      details: { address, from: day(from), to: to && day(to) },
    });
  });
  return reloaded(ctx, args.personalCode);
}

/** Ends one active registration of the citizen: moved out on `on`. Allowed after death (deregistration). */
export async function moveOut(args: MutationMoveOutArgs, ctx: Context): Promise<CitizenRecord> {
  const caller = actorOf(ctx);
  if (!/^[1-9][0-9]{0,17}$/.test(args.residenceId)) {
    throw inputError('RESIDENCE_ID_FORMAT', { id: args.residenceId.slice(0, 40) }, { argument: 'residenceId' });
  }
  const id = BigInt(args.residenceId);
  const on = notInFuture(args.on, 'on');
  await inTransaction(ctx, async (tx) => {
    const citizen = await lockCitizen(tx, args.personalCode, 'personalCode', { living: false });
    const registration = await tx.residenceRegistration.findFirst({ where: { id, personalCode: citizen.personalCode } });
    if (!registration) {
      throw notFound('RESIDENCE_NOT_FOUND', { code: citizen.personalCode, id: args.residenceId }, { argument: 'residenceId' });
    }
    if (registration.status !== 'HIEU_LUC') {
      throw conflict('RESIDENCE_NOT_ACTIVE', { id: args.residenceId }, { argument: 'residenceId' });
    }
    notBefore(on, registration.from, 'on', 'DATE_BEFORE_START', 'REGISTRATION_START');
    await tx.residenceRegistration.update({ where: { id }, data: { status: 'DA_CHUYEN_DI', to: on } });
    await recordChange(tx, caller, {
      action: 'MOVE_OUT',
      table: TABLE,
      key: String(id),
      personalCode: citizen.personalCode,
      details: {
        kind: registration.kind,
        before: { status: registration.status, to: registration.to && day(registration.to) },
        after: { status: 'DA_CHUYEN_DI', to: day(on) },
      },
    });
  });
  return reloaded(ctx, args.personalCode);
}
