import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RECORD_KEY_RANGE } from './perturbation';

/**
 * The pseudonyms and record keys of the statistics read model, both keyed pseudorandom functions of a stable
 * identifier under one secret the database never holds (STATISTICS_SECRET_FILE): without it a pseudonym cannot be
 * linked back to a personal code, nor a record key guessed; with it, a rebuild from scratch gives every person the
 * same pseudonym and record key again, so that no table changes because the store was rebuilt.
 */
export interface Pseudonymiser {
  /** The pseudonym of a person (their personal code) or of a record (`birth:<registration number>`). */
  pid(id: string): Buffer;
  /** The record key in [0, RECORD_KEY_RANGE) of the same. */
  recordKey(id: string): number;
  /** The pseudonyms of many ids at once: what the refresh uses, a page at a time. */
  pids(ids: readonly string[]): Buffer[];
  /** The same pseudonyms as lowercase hex (32 digits): what the rebuild writes as COPY text, without a Buffer per id. */
  pidsHex(ids: readonly string[]): string[];
  recordKeys(ids: readonly string[]): number[];
}

/**
 * Which function the pseudonyms come from; the store records it (st_nguon), and a store written under another is
 * rebuilt from scratch by the next refresh, since its pseudonyms would no longer match. 1: HMAC-SHA-256 of the id.
 * 2: AES-256 CBC-MAC of the id's fixed-length encoding (below).
 */
export const PSEUDONYM_SCHEME = 2;

const BLOCK = 16;
/** Every id is encoded to this many bytes: its UTF-8 length in one byte, its bytes, zeros. */
const ENCODED = 3 * BLOCK;

/**
 * AES-256 CBC-MAC of many ids at once, each encoded to one fixed length (ENCODED bytes). CBC-MAC is a pseudorandom
 * function on messages of one fixed length, which the encoding makes every id; each id's MAC is its 16 bytes of
 * the result. Why not HMAC, as scheme 1 was: Node makes an object per HMAC, about 4 µs each, and a rebuild at
 * national scale computes some 80 million of them (half its time, with the garbage they leave). Here a whole page
 * takes three native calls, one per block: ECB encrypts every id's block at once, and the chaining (each block
 * XORed with the one before's ciphertext) is done between the calls.
 */
export function aesCbcMacs(key: Buffer, ids: readonly string[]): Buffer {
  const n = ids.length;
  // Fresh ArrayBuffers (not Node's shared pool), so that the 32-bit views below are aligned.
  const encoded = Buffer.from(new ArrayBuffer(n * ENCODED));
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    const length = Buffer.byteLength(id, 'utf8');
    if (length >= ENCODED) throw new Error(`pseudonyms: an id of ${length} bytes is longer than ${ENCODED - 1}`);
    encoded[i * ENCODED] = length;
    encoded.write(id, i * ENCODED + 1, 'utf8');
  }
  const words = new Uint32Array(encoded.buffer);
  const WORDS_PER_ID = ENCODED / 4;
  const WORDS_PER_BLOCK = BLOCK / 4;
  let chained = new Uint32Array(n * WORDS_PER_BLOCK); // the zero IV
  const block = Buffer.from(new ArrayBuffer(n * BLOCK));
  const blockWords = new Uint32Array(block.buffer);
  for (let b = 0; b < ENCODED / BLOCK; b++) {
    // Each id's block b XORed with its previous ciphertext block, a 32-bit word at a time (XOR is bytewise: the
    // words' byte order does not matter).
    for (let i = 0; i < n; i++) {
      const from = i * WORDS_PER_ID + b * WORDS_PER_BLOCK;
      const to = i * WORDS_PER_BLOCK;
      for (let w = 0; w < WORDS_PER_BLOCK; w++) blockWords[to + w] = chained[to + w] ^ words[from + w];
    }
    const cipher = crypto.createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    const out = Buffer.concat([cipher.update(block), cipher.final()]);
    chained = new Uint32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.length));
  }
  return Buffer.from(chained.buffer);
}

export function pseudonymiser(secret: Buffer): Pseudonymiser {
  // Two keys derived from the secret: knowing a pseudonym says nothing about a record key.
  const derive = (label: string) => crypto.createHmac('sha256', secret).update(label).digest();
  const pidKey = derive('citizen-graph statistics pid');
  const rkKey = derive('citizen-graph statistics record key');
  const pids = (ids: readonly string[]) => {
    const macs = aesCbcMacs(pidKey, ids);
    return ids.map((_, i) => macs.subarray(i * BLOCK, (i + 1) * BLOCK));
  };
  const pidsHex = (ids: readonly string[]) => {
    // One hex string for the page, cut in pieces (a cut of a string shares its characters).
    const hex = aesCbcMacs(pidKey, ids).toString('hex');
    return ids.map((_, i) => hex.substring(i * 2 * BLOCK, (i + 1) * 2 * BLOCK));
  };
  const recordKeys = (ids: readonly string[]) => {
    const macs = aesCbcMacs(rkKey, ids);
    return ids.map((_, i) => macs.readUInt32BE(i * BLOCK) % RECORD_KEY_RANGE);
  };
  return { pids, pidsHex, recordKeys, pid: (id) => pids([id])[0], recordKey: (id) => recordKeys([id])[0] };
}

/** Reads the secret (base64, at least 32 bytes). */
export function readSecret(file: string): Buffer {
  if (!fs.existsSync(file)) throw new Error(`STATISTICS_SECRET_FILE: no secret at ${file} (npm start makes one for development).`);
  const secret = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (secret.length < 32) throw new Error(`STATISTICS_SECRET_FILE: ${file} must hold at least 32 random bytes, base64.`);
  return secret;
}

/** Makes a development secret once (mode 0600); later calls keep it. */
export function ensureSecret(file: string): string {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, crypto.randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  }
  return file;
}
