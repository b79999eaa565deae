import { notBefore, notInFuture, today } from '../../lib/graphql/arguments';
import { conflict, inputError, notFound } from '../../lib/graphql/errors';
import { formatDate as day } from '../../lib/graphql/scalars';
import { beginWrite } from '../../lib/write-transaction';
import { changeCitizen } from './citizen-lock';
import { RESIDENCE_KIND, RESIDENCE_STATUS } from './codes';
import type { Context } from './context';
import type {
  MutationMoveOutArgs,
  MutationRegisterPermanentResidenceArgs,
  MutationRegisterTemporaryResidenceArgs,
} from './generated/graphql';
import type { CitizenRecord } from './models';
import { addressArgument, notBeforeBirth } from './write-arguments';

/**
 * Residence registrations (dang_ky_cu_tru): permanent and temporary (RESIDENCE_KIND). Nothing is deleted: a
 * registration that ends gets den_ngay and a status (MOVED_OUT when the citizen moved out). Each write locks
 * the citizen's row first (changeCitizen), so writes about one citizen run one after the other.
 */
const TABLE = 'dang_ky_cu_tru';
const PERMANENT = RESIDENCE_KIND.encode('PERMANENT');
const ACTIVE = RESIDENCE_STATUS.encode('ACTIVE');
const MOVED_OUT = RESIDENCE_STATUS.encode('MOVED_OUT');

/** A new permanent residence; the one in force, if any, ends (moved out) the day the new one starts. */
export async function registerPermanentResidence(args: MutationRegisterPermanentResidenceArgs, ctx: Context): Promise<CitizenRecord> {
  const write = beginWrite(ctx, 'residents');
  const address = addressArgument(args.address, 'address');
  const from = notInFuture(args.from, 'from');
  return changeCitizen(ctx, write, args.personalCode, {}, async (tx, citizen, logChange) => {
    notBeforeBirth(from, citizen, 'from');
    const current = await tx.residenceRegistration.findMany({ where: { personalCode: citizen.personalCode, kind: PERMANENT, status: ACTIVE } });
    for (const registration of current) {
      notBefore(from, registration.from, 'from', 'DATE_BEFORE_CURRENT_RESIDENCE', 'CURRENT_RESIDENCE_START');
    }
    if (current.length > 0) {
      await tx.residenceRegistration.updateMany({ where: { id: { in: current.map((r) => r.id) } }, data: { status: MOVED_OUT, to: from } });
    }
    const created = await tx.residenceRegistration.create({ data: { personalCode: citizen.personalCode, kind: PERMANENT, ...address, from, status: ACTIVE } });
    await logChange({
      action: 'REGISTER_PERMANENT_RESIDENCE',
      table: TABLE,
      key: String(created.id),
      personalCode: citizen.personalCode,
      details: { address, from: day(from), ended: current.map((r) => ({ id: String(r.id), status: MOVED_OUT, to: day(from) })) },
    });
  });
}

/** A temporary residence, besides any others and the permanent one; `to` is the end of its term, if known. */
export async function registerTemporaryResidence(args: MutationRegisterTemporaryResidenceArgs, ctx: Context): Promise<CitizenRecord> {
  const write = beginWrite(ctx, 'residents');
  const address = addressArgument(args.address, 'address');
  const from = notInFuture(args.from, 'from');
  const to = args.to ?? null;
  if (to) {
    if (to.getTime() <= from.getTime()) {
      throw inputError('END_NOT_AFTER_START', { to: day(to), from: day(from) }, { argument: 'to' });
    }
    notBefore(to, today(), 'to', 'END_IN_PAST', 'TODAY_ENDED');
  }
  return changeCitizen(ctx, write, args.personalCode, {}, async (tx, citizen, logChange) => {
    notBeforeBirth(from, citizen, 'from');
    const kind = RESIDENCE_KIND.encode('TEMPORARY');
    const created = await tx.residenceRegistration.create({ data: { personalCode: citizen.personalCode, kind, ...address, from, to, status: ACTIVE } });
    await logChange({
      action: 'REGISTER_TEMPORARY_RESIDENCE',
      table: TABLE,
      key: String(created.id),
      personalCode: citizen.personalCode,
      details: { address, from: day(from), to: to && day(to) },
    });
  });
}

/** Ends one active registration of the citizen: moved out on `on`. Allowed after death (deregistration). */
export async function moveOut(args: MutationMoveOutArgs, ctx: Context): Promise<CitizenRecord> {
  const write = beginWrite(ctx, 'residents');
  if (!/^[1-9][0-9]{0,17}$/.test(args.residenceId)) {
    throw inputError('RESIDENCE_ID_FORMAT', { id: args.residenceId.slice(0, 40) }, { argument: 'residenceId' });
  }
  const id = BigInt(args.residenceId);
  const on = notInFuture(args.on, 'on');
  return changeCitizen(ctx, write, args.personalCode, { living: false }, async (tx, citizen, logChange) => {
    const registration = await tx.residenceRegistration.findFirst({ where: { id, personalCode: citizen.personalCode } });
    if (!registration) {
      throw notFound('RESIDENCE_NOT_FOUND', { code: citizen.personalCode, id: args.residenceId }, { argument: 'residenceId' });
    }
    if (registration.status !== ACTIVE) {
      throw conflict('RESIDENCE_NOT_ACTIVE', { id: args.residenceId }, { argument: 'residenceId' });
    }
    notBefore(on, registration.from, 'on', 'DATE_BEFORE_START', 'REGISTRATION_START');
    await tx.residenceRegistration.update({ where: { id }, data: { status: MOVED_OUT, to: on } });
    await logChange({
      action: 'MOVE_OUT',
      table: TABLE,
      key: String(id),
      personalCode: citizen.personalCode,
      details: {
        kind: registration.kind,
        before: { status: registration.status, to: registration.to && day(registration.to) },
        after: { status: MOVED_OUT, to: day(on) },
      },
    });
  });
}
