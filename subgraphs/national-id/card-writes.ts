import type { Prisma } from '../../prisma/national-id/generated/client';
import { lockName } from '../../lib/advisory-lock';
import { conflict, inputError, notFound, unavailable, type DomainError } from '../../lib/graphql/errors';
import { notBefore, notInFuture, requiredText } from '../../lib/graphql/arguments';
import { formatDate } from '../../lib/graphql/scalars';
import type { ResidentSummary } from '../../lib/residents-service';
import { AgencyUnreachableError } from '../../lib/service-client';
import { beginWrite, type Write } from '../../lib/write-transaction';
import type {
  IdentityCardKind,
  IdentityCardResolvers,
  IdentityCardStatus,
  IssueIdentityCardInput,
  MutationResolvers,
  ReplaceIdentityCardInput,
  ReportIdentityCardLostInput,
  RevokeIdentityCardInput,
} from './generated/graphql';
import { CARD_KIND, CARD_STATUS } from './codes';
import type { Context } from './context';
import type { IdentityCardRecord } from './models';
import { cardExpiry } from './card-expiry';
import type { Logger } from '../../lib/log';

/**
 * Identity card writes: issue, replace, report lost, revoke (schema.graphql, `type Mutation`).
 *
 * Each write: the actor first (nothing is read without one); then the input's own checks; then, for a
 * write that gives a card, the Resident Information Center confirms the holder (exists, alive, the code
 * in force) through a service call made before the transaction, so no database connection waits on
 * another agency; then one transaction that serialises on the holder, reads the holder's cards, decides,
 * writes the cards and the change log together. A refusal at any step writes nothing.
 */
type Tx = Prisma.TransactionClient;
/** How a card shows today: resolvers.ts's effectiveStatus, passed in so the rule stays in one place. */
export type StatusOf = (card: IdentityCardRecord) => IdentityCardStatus;

const TABLE = 'the_can_cuoc';
const VALID = CARD_STATUS.encode('VALID');
/** The kind of card issued today: only chip cards (CCCD gắn chip) since 2021. */
const ISSUED_KIND = CARD_KIND.encode('CHIP_ID');
/** The noi_cap column's length (the_can_cuoc.noi_cap VARCHAR(255)). */
const AUTHORITY_MAX = 255;
/** Free-text reasons are kept in the change log (JSONB); bounded all the same. */
const REASON_MAX = 500;

/** A new card's kind: the one issued today, asked for or not. */
function issuedKind(kind: IdentityCardKind | null | undefined): typeof ISSUED_KIND {
  if (kind == null || kind === 'CHIP_ID') return ISSUED_KIND;
  throw inputError(kind === 'LEGACY_ID' ? 'CARD_KIND_LEGACY' : 'CARD_KIND_NO_CHIP', {}, { argument: 'input.kind', reason: 'CARD_KIND_NOT_ISSUED' });
}

/** The Resident Information Center could not be asked: a refusal the client may retry, with nothing written. */
function residentsUnavailable(error: AgencyUnreachableError, log: Logger): DomainError {
  log.warn({ err: error, agency: error.agency.id }, 'holder check failed: the Resident Information Center could not be reached');
  return unavailable('HOLDER_NOT_CONFIRMED', { agency: error.agency.id }, { agency: error.agency.title });
}

/**
 * The holder as the Resident Information Center knows them, with every code they have held: a card filed
 * under a cancelled code of theirs is still their card (at most one valid card per person, whatever code
 * it was issued under). This is ResidentsService.lookup's question plus `personalCodes`, asked through
 * the same service client (signed credential, caller's actor and request id, same error mapping).
 */
interface Holder extends ResidentSummary {
  personalCodes: string[];
}

const HOLDER = /* GraphQL */ `
  query CardHolder($codes: [PersonalCode!]!) {
    citizens(personalCodes: $codes) { personalCode personalCodes fullName dateOfBirth sex dateOfDeath }
  }
`;

/** A living holder may be given a card; any holder's card may be reported lost or revoked. */
async function confirmHolder(ctx: Context, personalCode: string, options: { living: boolean }): Promise<Holder> {
  let person: Holder | null;
  try {
    const data = await ctx.services.residents.client.request<{ citizens: (Holder | null)[] }>(HOLDER, { codes: [personalCode] }, ctx.caller);
    person = data.citizens[0] ?? null;
  } catch (error) {
    if (error instanceof AgencyUnreachableError) throw residentsUnavailable(error, ctx.log);
    throw error;
  }
  const argument = 'input.personalCode';
  if (!person) throw notFound('CITIZEN_NOT_FOUND', { code: personalCode }, { argument });
  if (person.personalCode !== personalCode) {
    throw conflict(
      'CARD_HOLDER_CODE_CANCELLED',
      { code: personalCode, current: person.personalCode },
      { reason: 'PERSONAL_CODE_CANCELLED', argument, currentPersonalCode: person.personalCode },
    );
  }
  if (options.living && person.dateOfDeath !== null) {
    throw conflict('CITIZEN_DECEASED_NO_CARD', { code: personalCode, died: person.dateOfDeath }, { reason: 'CITIZEN_DECEASED', argument });
  }
  return person;
}

/**
 * Starts a write about one holder: takes a transaction-scoped advisory lock on the holder's code in force,
 * then reads their cards under every code they have held. National-id has no citizen row to lock
 * (SELECT ... FOR UPDATE), and a holder's first card has no card row to lock either, so the lock is on the
 * code itself: every card write names the code in force (confirmHolder), so concurrent writes about the
 * same person queue here, and each one (READ COMMITTED, a fresh snapshot per statement) reads the cards as
 * the previous one committed them. Writes about different people do not wait for each other (a hash
 * collision only makes two people share a queue). The unique partial index on valid cards per code
 * (migration 20261127200000_card_writes) is the database's last guard if anything gets past this: the
 * write kit then runs the write again, which sees the other writer's card and refuses (CARD_ALREADY_VALID).
 */
async function lockHolderCards(tx: Tx, holder: Holder): Promise<IdentityCardRecord[]> {
  await lockName(tx, holder.personalCode);
  const codes = [...new Set([holder.personalCode, ...holder.personalCodes])];
  return tx.identityCard.findMany({ where: { personalCode: { in: codes } }, orderBy: [{ issuedOn: 'desc' }, { id: 'desc' }] });
}

/** The valid card, or the refusal a write that needs one gets. */
function validCard(cards: IdentityCardRecord[], statusOf: StatusOf, personalCode: string): IdentityCardRecord {
  const card = cards.find((c) => statusOf(c) === 'VALID');
  if (!card) throw conflict('NO_VALID_CARD', { code: personalCode }, { argument: 'input.personalCode' });
  return card;
}

/** A new card is not dated before any card the holder already has (the card history stays in order). */
function afterPreviousCards(issuedOn: Date, cards: IdentityCardRecord[]): void {
  const latest = cards[0];
  if (latest) notBefore(issuedOn, latest.issuedOn, 'input.issuedOn', 'ISSUED_BEFORE_PREVIOUS_CARD', 'PREVIOUS_CARD_ISSUE', { number: latest.number });
}

interface NewCard {
  holder: Holder;
  personalCode: string;
  issuedOn: Date;
  issuingAuthority: string;
  dateOfBirth: Date;
}

/** Checks of a new card's input that need no database: kind, date, authority. */
function newCardInput(input: IssueIdentityCardInput | ReplaceIdentityCardInput): { kind: typeof ISSUED_KIND; issuedOn: Date; issuingAuthority: string } {
  return {
    kind: issuedKind(input.kind),
    issuedOn: notInFuture(input.issuedOn, 'input.issuedOn'),
    issuingAuthority: requiredText(input.issuingAuthority, 'input.issuingAuthority', AUTHORITY_MAX),
  };
}

async function createCard(tx: Tx, card: NewCard, now: Date): Promise<IdentityCardRecord> {
  return tx.identityCard.create({
    data: {
      // A chip card's number is the holder's personal code.
      number: card.personalCode,
      kind: ISSUED_KIND,
      personalCode: card.personalCode,
      issuedOn: card.issuedOn,
      expiresOn: cardExpiry(card.dateOfBirth, card.issuedOn),
      issuingAuthority: card.issuingAuthority,
      status: VALID,
      updatedAt: now,
    },
  });
}

const cardDetails = (card: IdentityCardRecord) => ({
  number: card.number,
  kind: card.kind,
  issuedOn: formatDate(card.issuedOn),
  expiresOn: card.expiresOn ? formatDate(card.expiresOn) : null,
  issuingAuthority: card.issuingAuthority,
});

async function confirmNewCard(ctx: Context, input: IssueIdentityCardInput | ReplaceIdentityCardInput): Promise<NewCard> {
  const checked = newCardInput(input);
  const holder = await confirmHolder(ctx, input.personalCode, { living: true });
  const dateOfBirth = new Date(`${holder.dateOfBirth}T00:00:00Z`);
  notBefore(checked.issuedOn, dateOfBirth, 'input.issuedOn', 'ISSUED_BEFORE_BIRTH', 'HOLDER_BIRTH');
  return { holder, personalCode: input.personalCode, issuedOn: checked.issuedOn, issuingAuthority: checked.issuingAuthority, dateOfBirth };
}

/**
 * The card a write returns, knowing its holder as the card fields expect it (the codes they held, their
 * death); nothing this request loaded before the write is reused after it (the write kit cleared the loaders).
 */
function written(holder: Holder, card: IdentityCardRecord): IdentityCardRecord {
  return { ...card, holder: { personalCode: holder.personalCode, personalCodes: holder.personalCodes, dateOfDeath: holder.dateOfDeath } };
}

/**
 * A write about the holder's valid card that only changes its status (reported lost, revoked): the card
 * leaves the valid state and the change log says from what to what, and why.
 */
async function endValidCard(
  ctx: Context,
  write: Write<Tx>,
  holder: Holder,
  statusOf: StatusOf,
  change: { to: 'LOST' | 'REVOKED'; action: string; details: Record<string, unknown>; check?: (card: IdentityCardRecord) => void },
): Promise<IdentityCardRecord> {
  const ended = await write.transaction(async (tx, logChange) => {
    const old = validCard(await lockHolderCards(tx, holder), statusOf, holder.personalCode);
    change.check?.(old);
    const to = CARD_STATUS.encode(change.to);
    const updated = await tx.identityCard.update({ where: { id: old.id }, data: { status: to, updatedAt: new Date() } });
    await logChange({
      action: change.action,
      table: TABLE,
      key: String(old.id),
      personalCode: holder.personalCode,
      details: { number: old.number, kind: old.kind, from: old.status, to, ...change.details },
    });
    return updated;
  });
  return written(holder, ended);
}

export function cardMutations(statusOf: StatusOf): MutationResolvers {
  return {
    issueIdentityCard: async (_root, { input }, ctx) => {
      const write = beginWrite(ctx, 'national-id');
      const card = await confirmNewCard(ctx, input);
      const issued = await write.transaction(async (tx, logChange) => {
        const cards = await lockHolderCards(tx, card.holder);
        const valid = cards.find((c) => statusOf(c) === 'VALID');
        if (valid) {
          throw conflict(
            'CARD_ALREADY_VALID',
            { code: card.personalCode, number: valid.number, issued: formatDate(valid.issuedOn) },
            { argument: 'input.personalCode' },
          );
        }
        afterPreviousCards(card.issuedOn, cards);
        const now = new Date();
        // A card still recorded as valid whose expiry date has passed shows EXPIRED: record it so.
        const expiredStatus = CARD_STATUS.encode('EXPIRED');
        for (const expired of cards.filter((c) => c.status === VALID)) {
          await tx.identityCard.update({ where: { id: expired.id }, data: { status: expiredStatus, updatedAt: now } });
          await logChange({
            action: 'EXPIRE_CARD',
            table: TABLE,
            key: String(expired.id),
            personalCode: card.personalCode,
            details: { number: expired.number, from: expired.status, to: expiredStatus, expiresOn: expired.expiresOn && formatDate(expired.expiresOn) },
          });
        }
        const created = await createCard(tx, card, now);
        await logChange({ action: 'ISSUE_CARD', table: TABLE, key: String(created.id), personalCode: card.personalCode, details: cardDetails(created) });
        return created;
      });
      return written(card.holder, issued);
    },

    replaceIdentityCard: async (_root, { input }, ctx) => {
      const write = beginWrite(ctx, 'national-id');
      const reason = input.reason == null ? null : requiredText(input.reason, 'input.reason', REASON_MAX);
      const card = await confirmNewCard(ctx, input);
      const issued = await write.transaction(async (tx, logChange) => {
        const cards = await lockHolderCards(tx, card.holder);
        const old = validCard(cards, statusOf, card.personalCode);
        afterPreviousCards(card.issuedOn, cards);
        const now = new Date();
        // The old card leaves the valid state before the new one enters it (the unique index on valid
        // cards holds at every statement), then points at its successor, all in this transaction.
        const replaced = CARD_STATUS.encode('REPLACED');
        await tx.identityCard.update({ where: { id: old.id }, data: { status: replaced, updatedAt: now } });
        const created = await createCard(tx, card, now);
        await tx.identityCard.update({ where: { id: old.id }, data: { replacedById: created.id } });
        await logChange({
          action: 'REPLACE_CARD',
          table: TABLE,
          key: String(old.id),
          personalCode: card.personalCode,
          details: { number: old.number, kind: old.kind, from: old.status, to: replaced, replacedBy: String(created.id), reason },
        });
        await logChange({
          action: 'ISSUE_CARD',
          table: TABLE,
          key: String(created.id),
          personalCode: card.personalCode,
          details: { ...cardDetails(created), replaces: String(old.id) },
        });
        return created;
      });
      return written(card.holder, issued);
    },

    reportIdentityCardLost: async (_root, { input }: { input: ReportIdentityCardLostInput }, ctx) => {
      const write = beginWrite(ctx, 'national-id');
      const lostOn = input.lostOn == null ? null : notInFuture(input.lostOn, 'input.lostOn');
      const holder = await confirmHolder(ctx, input.personalCode, { living: false });
      return endValidCard(ctx, write, holder, statusOf, {
        to: 'LOST',
        action: 'REPORT_CARD_LOST',
        details: { lostOn: lostOn && formatDate(lostOn) },
        check: (old) => {
          if (lostOn) notBefore(lostOn, old.issuedOn, 'input.lostOn', 'LOST_BEFORE_ISSUE', 'CARD_ISSUE');
        },
      });
    },

    revokeIdentityCard: async (_root, { input }: { input: RevokeIdentityCardInput }, ctx) => {
      const write = beginWrite(ctx, 'national-id');
      const reason = requiredText(input.reason, 'input.reason', REASON_MAX);
      // A deceased holder's card is exactly one to revoke: only existence and the code in force are checked.
      const holder = await confirmHolder(ctx, input.personalCode, { living: false });
      return endValidCard(ctx, write, holder, statusOf, { to: 'REVOKED', action: 'REVOKE_CARD', details: { reason } });
    },
  };
}

/** The IdentityCard fields the writes added: the record id and the holder (a Citizen entity reference). */
export const cardWriteFields: Pick<IdentityCardResolvers, 'id' | 'holder'> = {
  id: (card) => String(card.id),
  // The person under the code in force when the write knew it; a card under a cancelled code still leads
  // to its holder (residents resolves a cancelled code to the person).
  holder: (card) => ({ personalCode: card.holder?.personalCode ?? card.personalCode }),
};
