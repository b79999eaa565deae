/**
 * Calendar dates as day numbers (days since 1970-01-01, negative before it).
 *
 * The generator does date arithmetic tens of millions of times for 8 million people; plain integers
 * avoid allocating a Date per operation and make comparisons and "days between" trivial. The conversions
 * are Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian, exact for any year).
 */

export interface CivilDate {
  year: number;
  month: number; // 1–12
  day: number; // 1–31
}

export function dayFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12; // March = 0
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDay(dayNumber: number): CivilDate {
  const z = dayNumber + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: era * 400 + yoe + (month <= 2 ? 1 : 0), month, day };
}

/**
 * Every date of the population lies between 1850 and 2150, and the generator converts dates tens of
 * millions of times: a lookup table (built once, ~0.7 MB) turns day → year/month/day into array reads,
 * and caches each day's 'YYYY-MM-DD' text. Days outside the table fall back to the arithmetic above.
 */
const TABLE_FIRST = dayFromCivil(1850, 1, 1);
const TABLE_SIZE = dayFromCivil(2151, 1, 1) - TABLE_FIRST;
let calendar: { year: Int16Array; month: Uint8Array; day: Uint8Array; text: (string | undefined)[] } | null = null;

function table(): NonNullable<typeof calendar> {
  if (calendar) return calendar;
  const year = new Int16Array(TABLE_SIZE);
  const month = new Uint8Array(TABLE_SIZE);
  const day = new Uint8Array(TABLE_SIZE);
  for (let i = 0; i < TABLE_SIZE; i++) {
    const civil = civilFromDay(TABLE_FIRST + i);
    year[i] = civil.year;
    month[i] = civil.month;
    day[i] = civil.day;
  }
  calendar = { year, month, day, text: new Array<string | undefined>(TABLE_SIZE) };
  return calendar;
}

function inTable(dayNumber: number): boolean {
  return dayNumber >= TABLE_FIRST && dayNumber < TABLE_FIRST + TABLE_SIZE;
}

export function yearOfDay(dayNumber: number): number {
  return inTable(dayNumber) ? table().year[dayNumber - TABLE_FIRST] : civilFromDay(dayNumber).year;
}

function civil(dayNumber: number): CivilDate {
  if (!inTable(dayNumber)) return civilFromDay(dayNumber);
  const t = table();
  const i = dayNumber - TABLE_FIRST;
  return { year: t.year[i], month: t.month[i], day: t.day[i] };
}

/** The same calendar day `years` later; 29 February becomes 28 February in a common year. */
export function addYears(dayNumber: number, years: number): number {
  const { year, month, day } = civil(dayNumber);
  const target = year + years;
  const leap = (target % 4 === 0 && target % 100 !== 0) || target % 400 === 0;
  return dayFromCivil(target, month, month === 2 && day === 29 && !leap ? 28 : day);
}

/** Completed years from `fromDay` to `toDay` (an age). */
export function fullYearsBetween(fromDay: number, toDay: number): number {
  const a = civil(fromDay);
  const b = civil(toDay);
  let years = b.year - a.year;
  if (b.month < a.month || (b.month === a.month && b.day < a.day)) years -= 1;
  return years;
}

const TWO_DIGITS = Array.from({ length: 32 }, (_, i) => String(i).padStart(2, '0'));

/** 'YYYY-MM-DD', the form the rows carry and PostgreSQL's COPY reads for DATE. */
export function formatDay(dayNumber: number): string {
  if (!inTable(dayNumber)) {
    const { year, month, day } = civilFromDay(dayNumber);
    return `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}`;
  }
  const t = table();
  const i = dayNumber - TABLE_FIRST;
  return (t.text[i] ??= `${t.year[i]}-${TWO_DIGITS[t.month[i]]}-${TWO_DIGITS[t.day[i]]}`);
}

export function dayFromDate(date: Date): number {
  return Math.floor(date.getTime() / 86_400_000);
}

/** Parses 'YYYY-MM-DD' (the rows' form) back to a day number. */
export function dayFromIso(text: string): number {
  return dayFromCivil(Number(text.slice(0, 4)), Number(text.slice(5, 7)), Number(text.slice(8, 10)));
}
