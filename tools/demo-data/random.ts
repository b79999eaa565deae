/**
 * Seeded pseudo-random numbers for the demo population.
 *
 * Math.random is never used anywhere in tools/demo-data: the same seed must give byte-identical output on
 * every machine and Node version, so everything here is 32-bit integer arithmetic (Math.imul, shifts) plus
 * one division by 2^32, with no transcendental functions whose last bit could differ between platforms.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG): 128 bits of state, passes
 * PractRand far beyond what a few hundred million draws need, and is a handful of integer operations.
 * It is seeded from a string through cyrb128, which spreads any string (even "1" vs "2") over all 128 bits.
 */

/** cyrb128: a fast, well-mixed 128-bit hash of a string, returned as four 32-bit words. */
export function hashString128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** A 32-bit finaliser (the murmur3 fmix32): a cheap keyed hash for permutations and derived keys. */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A precomputed weighted choice: build once (module level), draw many times. */
export interface WeightedTable<T> {
  readonly values: readonly T[];
  /** Cumulative weights, last = total. */
  readonly cumulative: readonly number[];
  readonly total: number;
}

export function weightedTable<T>(entries: ReadonlyArray<readonly [T, number]>): WeightedTable<T> {
  const values: T[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const [value, weight] of entries) {
    if (!(weight > 0)) continue;
    total += weight;
    values.push(value);
    cumulative.push(total);
  }
  if (values.length === 0) throw new Error('weightedTable: no entry has a positive weight');
  return { values, cumulative, total };
}

const MS_PER_DAY = 86_400_000;

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string) {
    [this.a, this.b, this.c, this.d] = hashString128(seed);
    // sfc32 needs a few rounds before a weak seed's structure is gone.
    for (let i = 0; i < 15; i++) this.uint32();
  }

  /** The next 32-bit unsigned integer (sfc32 step). */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  weighted<T>(table: WeightedTable<T>): T {
    const target = this.next() * table.total;
    const cumulative = table.cumulative;
    // Binary search: the large tables (given names, provinces) have 60–120 entries.
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return table.values[lo];
  }

  /** A day number (days since 1970-01-01, see dates.ts) in [fromDay, toDay], both inclusive. */
  dayBetween(fromDay: number, toDay: number): number {
    return toDay <= fromDay ? fromDay : this.int(fromDay, toDay);
  }

  /** A UTC midnight Date in [from, to], both inclusive (whole days). */
  dateBetween(from: Date, to: Date): Date {
    const day = this.dayBetween(Math.floor(from.getTime() / MS_PER_DAY), Math.floor(to.getTime() / MS_PER_DAY));
    return new Date(day * MS_PER_DAY);
  }
}
