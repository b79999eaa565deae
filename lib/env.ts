import fs from 'node:fs';
import path from 'node:path';

/**
 * Helpers for the per-process configuration modules (gateway/config.ts, subgraphs/<agency>/config.ts).
 * Each of those reads the environment once, through these, and hands a frozen object to the rest.
 * Problems are collected and reported together, so a misconfigured deployment fails once, completely.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The kinds of deployment NODE_ENV may name, exactly (unset: development). Anything else, "Production",
 * "prod", "production " included, stops the process: a typo must never quietly turn production's
 * defences (required keys, sealed subgraphs, trusted documents) into development's defaults.
 */
export const NODE_ENVS = ['production', 'development', 'test'] as const;

export class EnvReader {
  private readonly problems: string[] = [];
  readonly production: boolean;

  constructor(private readonly env: Env) {
    const mode = env.NODE_ENV;
    if (mode !== undefined && !(NODE_ENVS as readonly string[]).includes(mode)) {
      // Production's rules apply while the problem is reported: every later check is the strict one.
      this.problems.push(`NODE_ENV must be exactly one of ${NODE_ENVS.join(', ')} (or unset, for development); got "${mode.slice(0, 40)}".`);
    }
    this.production = mode === 'production' || (mode !== undefined && mode !== 'development' && mode !== 'test');
  }

  /**
   * A setting production must not have: reported (and the process refused) in production only. `why`
   * names the setting and what to do instead.
   */
  refuseInProduction(insecure: boolean, why: string): void {
    if (this.production && insecure) this.problems.push(`${why} (NODE_ENV=production)`);
  }

  /** A string; the development default applies only outside production, where the value is required. */
  string(name: string, devDefault?: string): string {
    const value = this.env[name]?.trim();
    if (value) return value;
    if (devDefault !== undefined && !this.production) return devDefault;
    this.problems.push(`${name} is required${this.production ? ' in production' : ''}.`);
    return '';
  }

  optionalString(name: string): string | undefined {
    return this.env[name]?.trim() || undefined;
  }

  integer(name: string, fallback: number, range: { min: number; max: number }): number {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < range.min || value > range.max) {
      this.problems.push(`${name} must be a whole number from ${range.min} to ${range.max}; got "${raw}".`);
      return fallback;
    }
    return value;
  }

  /** A number that may have decimals (a rate of 0.5 a second). */
  number(name: string, fallback: number, range: { min: number; max: number }): number {
    const raw = this.env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < range.min || value > range.max) {
      this.problems.push(`${name} must be a number from ${range.min} to ${range.max}; got "${raw.slice(0, 40)}".`);
      return fallback;
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.env[name]?.trim().toLowerCase();
    if (!raw) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    this.problems.push(`${name} must be true or false; got "${raw}".`);
    return fallback;
  }

  url(name: string, devDefault?: string): string {
    const value = this.string(name, devDefault);
    if (value) {
      try {
        new URL(value);
      } catch {
        this.problems.push(`${name} must be a URL; got "${redactUrl(value)}".`);
      }
    }
    return value;
  }

  /** A problem found by a check of the caller's own (a value that depends on another). */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws one ConfigError naming every problem found. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}

/** Whether a file lies inside a folder (the repository: no key or secret of production may come from it). */
export function isInside(file: string, folder: string): boolean {
  const relative = path.relative(path.resolve(folder), path.resolve(file));
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * The folder the running code comes from, and the files it reads beside it (schemas, the supergraph, trusted
 * documents, migrations): the repository for the sources, dist/ for the build (`npm run build` mirrors the
 * repository's layout there, those files included).
 */
export const CODE_ROOT = path.resolve(__dirname, '..');

/**
 * The repository's own folder, or the installation's when the build runs (the folder of package.json, which
 * holds dist/): keys found here are development keys, whatever their name, and development state (.data/) lives here.
 */
export const REPOSITORY_ROOT = fs.existsSync(path.join(CODE_ROOT, 'package.json')) ? CODE_ROOT : path.dirname(CODE_ROOT);

/** A URL with its password hidden, for logs and error messages. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return value.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}
