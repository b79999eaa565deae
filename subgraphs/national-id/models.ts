import type { Prisma } from '../../prisma/national-id/generated/client';

import type { CitizenReference } from '../../lib/citizen-reference';

export type { CitizenReference };

/** A card row, with its holder as the gateway described them when the card was reached through its holder. */
export type IdentityCardRecord = Prisma.IdentityCardGetPayload<object> & { holder?: CitizenReference };
