import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RECORD_KEY_RANGE } from './perturbation';

/**
 * The pseudonyms and record keys of the statistics read model, both keyed HMACs of a stable identifier under one
 * secret the database never holds (STATISTICS_SECRET_FILE): without it a pseudonym cannot be linked back to a
 * personal code, nor a record key guessed; with it, a rebuild from scratch gives every person the same pseudonym
 * and record key again, so that no table changes because the store was rebuilt.
 */
export interface Pseudonymiser {
  /** The pseudonym of a person (their personal code) or of a record (`birth:<registration number>`). */
  pid(id: string): Buffer;
  /** The record key in [0, RECORD_KEY_RANGE) of the same. */
  recordKey(id: string): number;
}

export function pseudonymiser(secret: Buffer): Pseudonymiser {
  // Two keys derived from the secret: knowing a pseudonym says nothing about a record key.
  const derive = (label: string) => crypto.createHmac('sha256', secret).update(label).digest();
  const pidKey = derive('citizen-graph statistics pid');
  const rkKey = derive('citizen-graph statistics record key');
  return {
    pid: (id) => crypto.createHmac('sha256', pidKey).update(id).digest().subarray(0, 16),
    recordKey: (id) => crypto.createHmac('sha256', rkKey).update(id).digest().readUInt32BE(0) % RECORD_KEY_RANGE,
  };
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
