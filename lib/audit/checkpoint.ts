import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { compactVerify, createLocalJWKSet, CompactSign, exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK, type KeyLike } from 'jose';
import { REPOSITORY_ROOT } from '../env';
import { serialRun } from './serial-run';

/**
 * Signed checkpoints of the audit chain head, kept where a superuser of the audit database cannot rewrite
 * them. A hash chain alone shows edits, gaps and reorderings, but someone who can write the database can
 * also rewrite every record from some point on with recomputed hashes (or delete the tail and move the head
 * back) and the chain is intact again. A checkpoint is a statement "at this time the chain's record #seq had
 * this hash and this time", signed with a private key the database never holds, appended to a file outside
 * the PostgreSQL data folder. audit:verify checks the chain against it (tools/audit/verify.ts): the record at
 * a checkpoint's seq must still be there with the same hash, the head must not be behind it, and no record
 * after it may be dated before it.
 *
 * The checkpoint file is JSON lines, one per checkpoint, oldest first:
 *   {"seq":123,"hash":"<64 hex>","at":"2026-12-01T08:30:00.000Z","signedAt":"2026-12-01T08:30:04.512Z","jws":"<compact JWS>"}
 * The JWS (RFC 7515 compact serialisation, alg EdDSA, Ed25519, header kid) signs the UTF-8 JSON of
 * {"seq","hash","at","signedAt"} (the same values); the readable fields are a copy, checked against it.
 * `at` is the time of record #seq (null for an empty chain).
 *
 * Keys: a private JWK file for the checkpointer (the gateway process) and a public JWKS for verifiers.
 * ensureCheckpointKey makes a pair once per installation (npm start, the test setup); in production the
 * private key comes from the operators' secret store (AUDIT_CHECKPOINT_KEY_FILE) and the JWKS is published
 * to auditors. Rotating: add the new public key to the JWKS, keep the old one to verify older checkpoints.
 */
export const CHECKPOINT_ALGORITHM = 'EdDSA';

/** Development defaults: outside the PostgreSQL data folder (.data/postgres). */
export const DEV_CHECKPOINT_DIR = path.join(REPOSITORY_ROOT, '.data/audit-checkpoints');
export const DEV_CHECKPOINT_KEY_FILE = path.join(DEV_CHECKPOINT_DIR, 'checkpoint-key.json');
export const DEV_CHECKPOINT_FILE = path.join(DEV_CHECKPOINT_DIR, 'checkpoints.jsonl');
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5000;

export interface Checkpoint {
  seq: number;
  hash: string;
  /** The time of record #seq, ISO 8601 with milliseconds; null when the chain was empty. */
  at: string | null;
  signedAt: string;
}

export interface CheckpointLine extends Checkpoint {
  jws: string;
}

/** The public JWKS file that goes with a private key file: <key file without .json>.jwks.json. */
export const publicKeysFileFor = (keyFile: string) => keyFile.replace(/(\.private)?(\.jwk)?\.json$/, '') + '.jwks.json';

/** Makes the signing key pair once (mode 0600), with its public JWKS next to it; later calls keep it. */
export async function ensureCheckpointKey(keyFile: string, jwksFile = publicKeysFileFor(keyFile)): Promise<{ keyFile: string; jwksFile: string }> {
  if (!fs.existsSync(keyFile) || !fs.existsSync(jwksFile)) {
    fs.mkdirSync(path.dirname(keyFile), { recursive: true, mode: 0o700 });
    fs.mkdirSync(path.dirname(jwksFile), { recursive: true });
    const pair = await generateKeyPair(CHECKPOINT_ALGORITHM, { crv: 'Ed25519', extractable: true });
    const kid = `audit-checkpoint-${Date.now().toString(36)}`;
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg: CHECKPOINT_ALGORITHM, use: 'sig' };
    fs.writeFileSync(keyFile, JSON.stringify({ ...(await exportJWK(pair.privateKey)), kid, alg: CHECKPOINT_ALGORITHM }), { mode: 0o600 });
    fs.writeFileSync(jwksFile, JSON.stringify({ keys: [publicJwk] }, null, 2));
  }
  return { keyFile, jwksFile };
}

export interface CheckpointSigner {
  kid: string;
  sign(checkpoint: Checkpoint): Promise<string>;
}

export async function loadCheckpointSigner(keyFile: string): Promise<CheckpointSigner> {
  const jwk = JSON.parse(fs.readFileSync(keyFile, 'utf8')) as JWK & { kid?: string };
  if (!jwk.d) throw new Error(`${keyFile} is not a private key`);
  const key = (await importJWK(jwk, CHECKPOINT_ALGORITHM)) as KeyLike;
  const kid = jwk.kid ?? 'audit-checkpoint';
  return {
    kid,
    sign: (checkpoint) =>
      new CompactSign(new TextEncoder().encode(JSON.stringify(payloadOf(checkpoint)))).setProtectedHeader({ alg: CHECKPOINT_ALGORITHM, kid }).sign(key),
  };
}

const payloadOf = (c: Checkpoint): Checkpoint => ({ seq: c.seq, hash: c.hash, at: c.at, signedAt: c.signedAt });

/** The head as the store says it is now: seq, hash and the time of its last record. */
export async function readHead(pool: Pick<Pool, 'query'>): Promise<{ seq: number; hash: string; at: string | null }> {
  const { rows } = await pool.query<{ seq: string; hash: string; at: Date | null }>('SELECT seq::text AS seq, hash, at FROM audit_chain_head');
  if (rows.length !== 1) throw new Error('the audit chain head is missing');
  return { seq: Number(rows[0].seq), hash: rows[0].hash, at: rows[0].at ? rows[0].at.toISOString() : null };
}

export interface CheckpointerOptions {
  /** A pool on the audit store (reading the head only). */
  pool: Pick<Pool, 'query'>;
  signer: CheckpointSigner;
  /** The JSON-lines file checkpoints are appended to (created with its folder). */
  file: string;
  /** How often to look at the head (ms); a checkpoint is written only when it moved. */
  intervalMs: number;
  log?: (message: string, error: unknown) => void;
}

export interface Checkpointer {
  /** Reads the head and, if it moved since the last checkpoint, signs it and appends the line. */
  checkpoint(): Promise<CheckpointLine | null>;
  /** Every intervalMs from now on (the timer does not keep the process alive). */
  start(): void;
  /** Stops the timer and writes a last checkpoint (at shutdown). */
  stop(): Promise<void>;
}

/** The last line of a checkpoint file, if any (to continue after a restart without repeating it). */
function lastLine(file: string): CheckpointLine | null {
  if (!fs.existsSync(file)) return null;
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  try {
    return lines.length > 0 ? (JSON.parse(lines[lines.length - 1]) as CheckpointLine) : null;
  } catch {
    return null;
  }
}

export function createCheckpointer(options: CheckpointerOptions): Checkpointer {
  const { pool, signer, file } = options;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let last = lastLine(file);

  const once = async (): Promise<CheckpointLine | null> => {
    const head = await readHead(pool);
    if (last && last.seq === head.seq && last.hash === head.hash) return null;
    const checkpoint: Checkpoint = { ...head, signedAt: new Date().toISOString() };
    const line: CheckpointLine = { ...checkpoint, jws: await signer.sign(checkpoint) };
    // Appended and flushed before it counts as written.
    const fd = fs.openSync(file, 'a', 0o644);
    try {
      fs.writeSync(fd, JSON.stringify(line) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    last = line;
    return line;
  };
  // One at a time, in order: a call made while one runs waits for it and then looks at the head again.
  const runs = serialRun(once, {
    intervalMs: options.intervalMs,
    log: options.log,
    failure: { timed: 'could not write an audit checkpoint', last: 'could not write the last audit checkpoint' },
  });
  return { checkpoint: runs.run, start: runs.start, stop: runs.stop };
}

/** Something wrong with the checkpoint file itself. */
export interface CheckpointFileProblem {
  line: number;
  message: string;
}

export interface VerifiedCheckpoints {
  /** The checkpoints whose signatures verified, in file order. */
  checkpoints: Checkpoint[];
  /** Lines that did not verify (forged, altered, unreadable) or go backwards. */
  problems: CheckpointFileProblem[];
}

export function readPublicKeys(jwksFile: string): JSONWebKeySet {
  const jwks = JSON.parse(fs.readFileSync(jwksFile, 'utf8')) as JSONWebKeySet;
  if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) throw new Error(`${jwksFile} holds no keys`);
  return jwks;
}

/**
 * Reads a checkpoint file and verifies every line's signature against the public keys (EdDSA verification
 * is a fraction of a millisecond: all of them, not only the latest). A line that does not verify, or whose
 * readable fields differ from what is signed, is a problem (a forged or altered checkpoint); so is a
 * checkpoint whose seq is lower than an earlier one's (checkpoints only move forward).
 */
export async function verifyCheckpointFile(file: string, jwks: JSONWebKeySet): Promise<VerifiedCheckpoints> {
  const keys = createLocalJWKSet(jwks);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const checkpoints: Checkpoint[] = [];
  const problems: CheckpointFileProblem[] = [];
  let highest: Checkpoint | null = null;
  for (let i = 0; i < lines.length; i += 1) {
    const text = lines[i].trim();
    if (text === '') continue;
    const where = `checkpoint line ${i + 1}`;
    let line: CheckpointLine;
    try {
      line = JSON.parse(text) as CheckpointLine;
    } catch {
      problems.push({ line: i + 1, message: `${where}: not JSON` });
      continue;
    }
    let signed: Checkpoint;
    try {
      const { payload, protectedHeader } = await compactVerify(String(line.jws), keys);
      if (protectedHeader.alg !== CHECKPOINT_ALGORITHM) throw new Error(`algorithm ${protectedHeader.alg}`);
      signed = JSON.parse(new TextDecoder().decode(payload)) as Checkpoint;
    } catch (error) {
      problems.push({ line: i + 1, message: `${where}: forged: its signature does not verify with the checkpoint keys (${(error as Error).message})` });
      continue;
    }
    if (!(Number.isSafeInteger(signed.seq) && signed.seq >= 0 && typeof signed.hash === 'string' && /^[0-9a-f]{64}$/.test(signed.hash))) {
      problems.push({ line: i + 1, message: `${where}: the signed checkpoint is malformed` });
      continue;
    }
    if (line.seq !== signed.seq || line.hash !== signed.hash || line.at !== signed.at || line.signedAt !== signed.signedAt) {
      problems.push({ line: i + 1, message: `${where}: altered: its fields are not what is signed` });
    }
    if (highest && signed.seq < highest.seq) {
      problems.push({ line: i + 1, message: `${where}: goes backwards: #${signed.seq} after a checkpoint of #${highest.seq}` });
    }
    if (!highest || signed.seq >= highest.seq) highest = signed;
    checkpoints.push(payloadOf(signed));
  }
  return { checkpoints, problems };
}
