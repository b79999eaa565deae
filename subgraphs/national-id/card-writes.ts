import { Prisma } from '../../prisma/national-id/generated/client';
import { requireActor } from '../../lib/caller';
import { lockName } from '../../lib/advisory-lock';
import { recordChange } from '../../lib/change-log';
import { conflict, inputError, notFound, unavailable, type DomainError } from '../../lib/graphql/errors';
import { notBefore, notInFuture, requiredText } from '../../lib/graphql/arguments';
import { formatDate } from '../../lib/graphql/scalars';
import type { ResidentSummary } from '../../lib/residents-service';
import { AgencyUnreachableError } from '../../lib/service-client';
import { writeTransaction } from '../../lib/write-transaction';
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
const VALID = 'CON_HIEU_LUC';
/** The noi_cap column's length (the_can_cuoc.noi_cap VARCHAR(255)). */
const AUTHORITY_MAX = 255;
/** Free-text reasons are kept in the change log (JSONB); bounded all the same. */
const REASON_MAX = 500;

/** The kinds of card issued today: only chip cards (CCCD gắn chip) since 2021. */
function issuedKind(kind: IdentityCardKind | null | undefined): 'CCCD_CHIP' {
  if (kind == null || kind === 'CHIP_ID') return 'CCCD_CHIP';
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
 * (migration 20261127200000_card_writes) is the database's last guard if anything gets past this.
 */
async function lockHolderCards(tx: Tx, holder: Holder): Promise<IdentityCardRecord[]> {
  await lockName(tx, holder.personalCode);
  const codes = [...new Set([holder.personalCode, ...holder.personalCodes])];
  return tx.identityCard.findMany({ where: { personalCode: { in: codes } }, orderBy: [{ issuedOn: 'desc' }, { id: 'desc' }] });
}

/** Writes run as the actor, with the request id the gateway sent. */
function actingCaller(ctx: Context) {
  return { ...ctx.caller, actor: requireActor(ctx.caller) };
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

/** The index guard fired: another writer made a valid card first. */
function uniqueValidCard<T>(personalCode: string) {
  return (error: unknown): T => {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw conflict('CARD_ALREADY_VALID', { code: personalCode }, { argument: 'input.personalCode' });
    }
    throw error;
  };
}

interface NewCard {
  holder: Holder;
  personalCode: string;
  issuedOn: Date;
  issuingAuthority: string;
  dateOfBirth: Date;
}

/** Checks of a new card's input that need no database: kind, date, authority. */
function newCardInput(input: IssueIdentityCardInput | ReplaceIdentityCardInput): { kind: 'CCCD_CHIP'; issuedOn: Date; issuingAuthority: string } {
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
      kind: 'CCCD_CHIP',
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
 * death); nothing this request loaded before the write is reused after it.
 */
function written(ctx: Context, holder: Holder, card: IdentityCardRecord): IdentityCardRecord {
  for (const code of new Set([holder.personalCode, ...holder.personalCodes])) ctx.loaders.cardsOfCitizen.clear(code);
  return { ...card, holder: { personalCode: holder.personalCode, personalCodes: holder.personalCodes, dateOfDeath: holder.dateOfDeath } };
}

export function cardMutations(statusOf: StatusOf): MutationResolvers {
  return {
    issueIdentityCard: async (_root, { input }, ctx) => {
      const caller = actingCaller(ctx);
      const card = await confirmNewCard(ctx, input);
      const issued = await writeTransaction(ctx.db, 'national-id', async (tx: Tx) => {
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
        for (const expired of cards.filter((c) => c.status === VALID)) {
          await tx.identityCard.update({ where: { id: expired.id }, data: { status: 'HET_HAN', updatedAt: now } });
          await recordChange(tx, caller, {
            action: 'EXPIRE_CARD',
            table: TABLE,
            key: String(expired.id),
            personalCode: card.personalCode,
            details: { number: expired.number, from: expired.status, to: 'HET_HAN', expiresOn: expired.expiresOn && formatDate(expired.expiresOn) },
          });
        }
        const created = await createCard(tx, card, now);
        await recordChange(tx, caller, {
          action: 'ISSUE_CARD',
          table: TABLE,
          key: String(created.id),
          personalCode: card.personalCode,
          details: cardDetails(created),
        });
        return created;
      }).catch(uniqueValidCard<IdentityCardRecord>(card.personalCode));
      return written(ctx, card.holder, issued);
    },

    replaceIdentityCard: async (_root, { input }, ctx) => {
      const caller = actingCaller(ctx);
      const reason = input.reason == null ? null : requiredText(input.reason, 'input.reason', REASON_MAX);
      const card = await confirmNewCard(ctx, input);
      const issued = await writeTransaction(ctx.db, 'national-id', async (tx: Tx) => {
        const cards = await lockHolderCards(tx, card.holder);
        const old = validCard(cards, statusOf, card.personalCode);
        afterPreviousCards(card.issuedOn, cards);
        const now = new Date();
        // The old card leaves the valid state before the new one enters it (the unique index on valid
        // cards holds at every statement), then points at its successor, all in this transaction.
        await tx.identityCard.update({ where: { id: old.id }, data: { status: 'DA_THAY_THE', updatedAt: now } });
        const created = await createCard(tx, card, now);
        await tx.identityCard.update({ where: { id: old.id }, data: { replacedById: created.id } });
        await recordChange(tx, caller, {
          action: 'REPLACE_CARD',
          table: TABLE,
          key: String(old.id),
          personalCode: card.personalCode,
          details: { number: old.number, kind: old.kind, from: old.status, to: 'DA_THAY_THE', replacedBy: String(created.id), reason },
        });
        await recordChange(tx, caller, {
          action: 'ISSUE_CARD',
          table: TABLE,
          key: String(created.id),
          personalCode: card.personalCode,
          details: { ...cardDetails(created), replaces: String(old.id) },
        });
        return created;
      }).catch(uniqueValidCard<IdentityCardRecord>(card.personalCode));
      return written(ctx, card.holder, issued);
    },

    reportIdentityCardLost: async (_root, { input }: { input: ReportIdentityCardLostInput }, ctx) => {
      const caller = actingCaller(ctx);
      const lostOn = input.lostOn == null ? null : notInFuture(input.lostOn, 'input.lostOn');
      const holder = await confirmHolder(ctx, input.personalCode, { living: false });
      const lost = await writeTransaction(ctx.db, 'national-id', async (tx: Tx) => {
        const old = validCard(await lockHolderCards(tx, holder), statusOf, input.personalCode);
        if (lostOn) notBefore(lostOn, old.issuedOn, 'input.lostOn', 'LOST_BEFORE_ISSUE', 'CARD_ISSUE');
        const updated = await tx.identityCard.update({ where: { id: old.id }, data: { status: 'MAT', updatedAt: new Date() } });
        await recordChange(tx, caller, {
          action: 'REPORT_CARD_LOST',
          table: TABLE,
          key: String(old.id),
          personalCode: input.personalCode,
          details: { number: old.number, kind: old.kind, from: old.status, to: 'MAT', lostOn: lostOn && formatDate(lostOn) },
        });
        return updated;
      });
      return written(ctx, holder, lost);
    },

    revokeIdentityCard: async (_root, { input }: { input: RevokeIdentityCardInput }, ctx) => {
      const caller = actingCaller(ctx);
      const reason = requiredText(input.reason, 'input.reason', REASON_MAX);
      // A deceased holder's card is exactly one to revoke: only existence and the code in force are checked.
      const holder = await confirmHolder(ctx, input.personalCode, { living: false });
      const revoked = await writeTransaction(ctx.db, 'national-id', async (tx: Tx) => {
        const old = validCard(await lockHolderCards(tx, holder), statusOf, input.personalCode);
        const updated = await tx.identityCard.update({ where: { id: old.id }, data: { status: 'THU_HOI', updatedAt: new Date() } });
        await recordChange(tx, caller, {
          action: 'REVOKE_CARD',
          table: TABLE,
          key: String(old.id),
          personalCode: input.personalCode,
          details: { number: old.number, kind: old.kind, from: old.status, to: 'THU_HOI', reason },
        });
        return updated;
      });
      return written(ctx, holder, revoked);
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
