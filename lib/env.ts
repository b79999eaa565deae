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

export class EnvReader {
  private readonly problems: string[] = [];
  readonly production: boolean;

  constructor(private readonly env: Env) {
    this.production = env.NODE_ENV === 'production';
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
