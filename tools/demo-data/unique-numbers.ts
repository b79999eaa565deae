/**
 * Unique, random-looking numbers without remembering the ones already issued.
 *
 * The problem. A personal code is PPP G YY RRRRRR and RRRRRR must be six *random* digits (DESIGN.md: codes
 * must not reveal issuance order or count), yet two people with the same PPP G YY must never share them.
 * The obvious solution, drawing random digits and retrying on a collision, needs a set of every serial
 * issued so far: at 8 million citizens that is 8 million entries (hundreds of MB as JS Sets of strings),
 * and the seeder must keep memory flat. Old 9-digit ID-card numbers (CMND) and household book numbers
 * have the same problem across the whole population.
 *
 * The solution: count, then encrypt the count. For each prefix (say 031 2 15 = a girl born in 2015,
 * registered in Hải Phòng) keep only a counter n = 0, 1, 2, ... and issue serial = P(n), where P is a
 * keyed *bijection* of [0, 1 000 000) onto itself, i.e. a small block cipher whose blocks are six-digit
 * numbers. Because P is a bijection, distinct counters give distinct serials: uniqueness is a theorem, no
 * set needed. Because P is a keyed pseudo-random permutation, P(0), P(1), P(2) ... look like random
 * draws without replacement: consecutive people get unrelated serials, and the serial says nothing about
 * how many codes were issued before it.
 *
 * The bijection is a Feistel network over a mixed-radix split. Write x in [0, m·n) as (a, b) with
 * x = a·n + b, a in [0, m), b in [0, n). Each round changes one half by adding a keyed hash of the other:
 *     even round: a ← (a + F(b, k_i)) mod m
 *     odd round:  b ← (b + F(a, k_i)) mod n
 * A round is invertible whatever F is (subtract F of the unchanged half), so the composition is a
 * bijection on exactly [0, m·n): no "cycle walking" is needed even though 10^6 and 10^9 are not powers of
 * two. Eight rounds give every output digit a dependence on every input digit several times over. This is
 * the same construction as the NIST format-preserving ciphers FF1/FF3 (which use AES as F); here F is a
 * 32-bit integer hash because we want speed and a look of randomness, not secrecy.
 *
 * Keys come from the population seed and, for personal codes, from the prefix itself, so every prefix
 * walks a different permutation and a different seed gives different serials everywhere.
 *
 * State: one counter per prefix. Prefixes are six-digit numbers (PPP G YY ≤ 096 9 99), so a flat
 * Uint32Array of 10^6 counters (4 MB, allocated once) covers them all: constant memory, O(1) per code,
 * whether the population has a thousand people or eight million.
 */
import { hashString128, mix32 } from './random';

const ROUNDS = 8;

/** A keyed bijection of [0, m·n) onto itself (see above). */
export function feistelPermute(x: number, m: number, n: number, keys: ArrayLike<number>): number {
  let a = Math.floor(x / n);
  let b = x - a * n;
  for (let round = 0; round < ROUNDS; round++) {
    if ((round & 1) === 0) a = (a + (mix32(b ^ keys[round]) % m)) % m;
    else b = (b + (mix32(a ^ keys[round]) % n)) % n;
  }
  return a * n + b;
}

function roundKeys(seed: string, purpose: string): Uint32Array {
  const keys = new Uint32Array(ROUNDS);
  const first = hashString128(`${seed}\u0000${purpose}\u0000a`);
  const second = hashString128(`${seed}\u0000${purpose}\u0000b`);
  keys.set(first, 0);
  keys.set(second, 4);
  return keys;
}

const SERIALS_PER_PREFIX = 1_000_000;

/**
 * Issues personal codes: PPP G YY + six digits that are unique per prefix and look random.
 * The prefix comes from lib/personal-code.ts's personalCodePrefix (or a deliberately wrong one for the
 * demo's legacy data-entry errors: those still draw from the wrong prefix's counter, so they stay unique).
 */
export class PersonalCodeAllocator {
  private readonly counters = new Uint32Array(SERIALS_PER_PREFIX);
  private readonly baseKeys: Uint32Array;
  private readonly keys = new Uint32Array(ROUNDS);

  constructor(seed: string) {
    this.baseKeys = roundKeys(seed, 'personal-code');
  }

  issue(prefix: string): string {
    const prefixNumber = Number(prefix);
    if (prefix.length !== 6 || !Number.isInteger(prefixNumber)) {
      throw new Error(`A personal code prefix is six digits (PPP G YY); got "${prefix}".`);
    }
    const count = this.counters[prefixNumber];
    if (count >= SERIALS_PER_PREFIX) {
      throw new Error(`All 1,000,000 serials of prefix ${prefix} are issued; the population is far larger than any real province-year-sex.`);
    }
    this.counters[prefixNumber] = count + 1;
    // Per-prefix keys: the seed's keys tweaked by the prefix, so each prefix has its own permutation.
    const tweak = mix32(Math.imul(prefixNumber + 1, 0x9e3779b1));
    for (let i = 0; i < ROUNDS; i++) this.keys[i] = (this.baseKeys[i] ^ mix32(tweak + i)) >>> 0;
    const serial = feistelPermute(count, 1000, 1000, this.keys);
    return prefix + String(serial).padStart(6, '0');
  }
}

/**
 * Unique random-looking numbers of a fixed number of digits from one counter (old 9-digit CMND numbers,
 * household book numbers). Same construction as above over [0, 10^digits) split as 10^⌊d/2⌋ · 10^⌈d/2⌉.
 */
export class UniqueNumberSequence {
  private count = 0;
  private readonly keys: Uint32Array;
  private readonly m: number;
  private readonly n: number;
  private readonly size: number;

  constructor(
    seed: string,
    purpose: string,
    private readonly digits: number,
  ) {
    if (!Number.isInteger(digits) || digits < 2 || digits > 15) throw new Error('UniqueNumberSequence: 2–15 digits');
    this.keys = roundKeys(seed, purpose);
    this.m = 10 ** Math.floor(digits / 2);
    this.n = 10 ** Math.ceil(digits / 2);
    this.size = this.m * this.n;
  }

  next(): string {
    if (this.count >= this.size) throw new Error(`All ${this.size} ${this.digits}-digit numbers are issued.`);
    return String(feistelPermute(this.count++, this.m, this.n, this.keys)).padStart(this.digits, '0');
  }
}
