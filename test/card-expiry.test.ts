import { addYears, cardExpiry, fullYearsBetween } from '../subgraphs/national-id/card-expiry';

/** The expiry rule of 12-digit identity cards: the next of the 25th, 40th, 60th birthdays, with two years' grace. */
const d = (text: string) => new Date(`${text}T00:00:00Z`);
const expiry = (born: string, issued: string) => {
  const result = cardExpiry(d(born), d(issued));
  return result === null ? null : result.toISOString().slice(0, 10);
};

describe('cardExpiry', () => {
  it('runs a card to the next milestone birthday', () => {
    expect(expiry('2005-06-15', '2021-03-01')).toBe('2030-06-15'); // age 15 → 25
    expect(expiry('1990-01-10', '2021-03-01')).toBe('2030-01-10'); // age 31 → 40
    expect(expiry('1970-09-30', '2021-03-01')).toBe('2030-09-30'); // age 50 → 60
  });

  it('skips a milestone that is two years away or less', () => {
    // The day before the 23rd birthday: still more than two years before 25.
    expect(expiry('2000-05-20', '2023-05-19')).toBe('2025-05-20');
    // On the 23rd birthday: within two years of 25, so the card runs to 40.
    expect(expiry('2000-05-20', '2023-05-20')).toBe('2040-05-20');
    expect(expiry('1985-05-20', '2023-05-19')).toBe('2025-05-20'); // age 37 → 40
    expect(expiry('1985-05-20', '2023-05-20')).toBe('2045-05-20'); // age 38 → 60
    expect(expiry('1966-05-20', '2024-05-19')).toBe('2026-05-20'); // age 57 → 60
  });

  it('gives no expiry to a card issued from age 58', () => {
    expect(expiry('1966-05-20', '2024-05-20')).toBeNull();
    expect(expiry('1940-01-01', '2025-01-01')).toBeNull();
  });

  it('expires on the milestone birthday itself, issued on the day of birth or on a milestone', () => {
    expect(expiry('2010-02-01', '2010-02-01')).toBe('2035-02-01');
    expect(expiry('2000-07-07', '2025-07-07')).toBe('2040-07-07'); // renewed on the 25th birthday
    expect(expiry('1985-07-07', '2025-07-07')).toBe('2045-07-07'); // renewed on the 40th birthday
  });

  it('takes 28 February as the milestone of a holder born on 29 February in a common year', () => {
    expect(expiry('2004-02-29', '2020-01-01')).toBe('2029-02-28');
    expect(expiry('1988-02-29', '2021-01-01')).toBe('2028-02-29'); // 2028 is a leap year
  });

  it('refuses an issue date before the birth', () => {
    expect(() => cardExpiry(d('2000-01-02'), d('2000-01-01'))).toThrow(RangeError);
  });
});

describe('date helpers', () => {
  it('counts completed years', () => {
    expect(fullYearsBetween(d('2000-05-20'), d('2023-05-19'))).toBe(22);
    expect(fullYearsBetween(d('2000-05-20'), d('2023-05-20'))).toBe(23);
    expect(fullYearsBetween(d('2000-12-31'), d('2001-01-01'))).toBe(0);
  });

  it('adds years to a calendar day', () => {
    expect(addYears(d('2000-02-29'), 1).toISOString().slice(0, 10)).toBe('2001-02-28');
    expect(addYears(d('2000-02-29'), 4).toISOString().slice(0, 10)).toBe('2004-02-29');
    expect(addYears(d('1999-12-31'), 25).toISOString().slice(0, 10)).toBe('2024-12-31');
  });
});
