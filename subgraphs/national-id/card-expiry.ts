/**
 * When a citizen identity card expires (Vietnam's rule for 12-digit cards, CCCD and chip cards): the
 * holder must renew the card on turning 25, 40 and 60, so a card runs until the next of those birthdays
 * after its issue date. A card issued within the two years before a milestone (from age 23, 38 or 58)
 * skips it and runs to the one after; a card issued from age 58 on never expires.
 *
 * Dates are calendar days as UTC-midnight Dates (the Date scalar's form). A holder born on 29 February
 * reaches a milestone on 28 February of a common year.
 */
const MILESTONES = [25, 40, 60] as const;
/** Issued this many years (or fewer) before a milestone, the card runs to the next one. */
const GRACE_YEARS = 2;

/** The same calendar day `years` later; 29 February becomes 28 February in a common year. */
export function addYears(date: Date, years: number): Date {
  const year = date.getUTCFullYear() + years;
  const month = date.getUTCMonth();
  const day = date.getUTCDate();
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return new Date(Date.UTC(year, month, month === 1 && day === 29 && !leap ? 28 : day));
}

/** Completed years from `from` to `to` (an age on a day). */
export function fullYearsBetween(from: Date, to: Date): number {
  let years = to.getUTCFullYear() - from.getUTCFullYear();
  const before = to.getUTCMonth() < from.getUTCMonth() || (to.getUTCMonth() === from.getUTCMonth() && to.getUTCDate() < from.getUTCDate());
  if (before) years -= 1;
  return years;
}

/**
 * The birthday (age in years) on which a card issued to a holder of `ageAtIssue` completed years expires;
 * null: it never expires. The rule itself, in one place: the service (cardExpiry below) and the demo data's
 * card histories (tools/demo-data/cards.ts, which counts in day numbers) both apply it.
 */
export function expiryMilestone(ageAtIssue: number): number | null {
  return MILESTONES.find((m) => ageAtIssue < m - GRACE_YEARS) ?? null;
}

/** The expiry date of a card issued on `issuedOn` to a holder born on `dateOfBirth`; null: no expiry. */
export function cardExpiry(dateOfBirth: Date, issuedOn: Date): Date | null {
  if (issuedOn.getTime() < dateOfBirth.getTime()) throw new RangeError('A card cannot be issued before its holder was born.');
  const milestone = expiryMilestone(fullYearsBetween(dateOfBirth, issuedOn));
  return milestone === null ? null : addYears(dateOfBirth, milestone);
}
