import { DateScalar, PersonalCodeScalar, validatePersonalCode } from '../../lib/graphql/scalars';
import { inputError } from '../../lib/graphql/errors';
import type { IdentityCardStatus, Resolvers } from './generated/graphql';
import { CARD_KIND, CARD_STATUS } from './codes';
import type { CitizenReference, IdentityCardRecord } from './models';
import type { Context } from './context';
import { codesOf } from '../../lib/citizen-reference';
import { loadUnderCodes } from '../../lib/loaders';
import { cardMutations, cardWriteFields } from './card-writes';

const LEGACY_ID = /^\d{9}$/;
const LEGACY_CARD = CARD_KIND.encode('LEGACY_ID');

/**
 * A card recorded as valid whose expiry date has passed is expired, and one whose holder has died is no
 * longer valid, whatever the record still says.
 */
function effectiveStatus(card: IdentityCardRecord, today = new Date()): IdentityCardStatus {
  const recorded = CARD_STATUS.decode(card.status);
  if (recorded !== 'VALID') return recorded;
  if (card.holder?.dateOfDeath) return 'HOLDER_DECEASED';
  return card.expiresOn && card.expiresOn < today ? 'EXPIRED' : recorded;
}

const newestFirst = (a: IdentityCardRecord, b: IdentityCardRecord) =>
  b.issuedOn.getTime() - a.issuedOn.getTime() || Number(b.id - a.id);

/** All the person's cards, under every code they have held, each knowing its holder. */
async function cardsOf(citizen: CitizenReference, ctx: Context): Promise<IdentityCardRecord[]> {
  const cards = await loadUnderCodes(ctx.loaders.cardsOfCitizen, codesOf(citizen), newestFirst);
  return cards.map((card) => ({ ...card, holder: citizen }));
}

function cardNumberArgument(number: string): string {
  const trimmed = number.trim();
  if (LEGACY_ID.test(trimmed)) return trimmed;
  if (/^\d{12}$/.test(trimmed)) return validatePersonalCode(trimmed);
  throw inputError('CARD_NUMBER_FORMAT', { value: number.slice(0, 20) }, { argument: 'number' });
}

export const resolvers: Resolvers = {
  PersonalCode: PersonalCodeScalar,
  Date: DateScalar,

  Query: {
    citizenByIdentityCard: async (_root, { number }, ctx) => {
      const card = await ctx.db.prisma.identityCard.findFirst({
        where: { number: cardNumberArgument(number) },
        select: { personalCode: true },
      });
      return card ? { personalCode: card.personalCode } : null;
    },
  },

  Citizen: {
    // Any well-formed code is a citizen here; one with no cards simply has none. The representation
    // carries what the card fields require from residents (lib/citizen-reference.ts).
    __resolveReference: (reference) => reference,
    identityCard: async (citizen, _args, ctx) => (await cardsOf(citizen, ctx)).find((card) => effectiveStatus(card) === 'VALID') ?? null,
    identityCards: (citizen, _args, ctx) => cardsOf(citizen, ctx),
    // A CMND keeps its number through renewals and replacements: each number once, newest card first.
    legacyIdNumbers: async (citizen, _args, ctx) => [
      ...new Set((await cardsOf(citizen, ctx)).filter((card) => card.kind === LEGACY_CARD).map((card) => card.number)),
    ],
  },

  Mutation: cardMutations(effectiveStatus),

  IdentityCard: {
    ...cardWriteFields,
    kind: (card) => CARD_KIND.decode(card.kind),
    status: (card) => effectiveStatus(card),
    issuingAuthority: (card) => card.issuingAuthority,
    // The replacement is the same citizen's card, already loaded with the others.
    replacedBy: async (card, _args, ctx) => {
      if (card.replacedById === null) return null;
      // The replacement is among the holder's cards, possibly under a newer code of theirs.
      const cards = await cardsOf(card.holder ?? { personalCode: card.personalCode }, ctx);
      return cards.find((other) => other.id === card.replacedById) ?? null;
    },
  },
};
