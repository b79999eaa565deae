/**
 * PostgreSQL COPY text format: one line per row, columns separated by tabs, \N for null. Inside a value,
 * backslash, tab, newline and carriage return are escaped with a backslash (COPY TO writes them so, and COPY FROM
 * reads them so). The seeder writes it (tools/demo-data) and the statistics rebuild reads and writes it
 * (subgraphs/statistics/facts.ts).
 */
const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export function copyValue(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') return String(value);
  return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]) : value;
}

/** What a backslash sequence COPY TO writes stands for (PostgreSQL writes none of the octal or hex forms). */
const UNESCAPES: Readonly<Record<string, string>> = { '\\': '\\', t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', v: '\v' };

/** The value of one COPY text field (a line split at its tabs): null for \N, escapes undone. */
export function copyTextValue(field: string): string | null {
  if (field === '\\N') return null;
  return field.includes('\\') ? field.replace(/\\(.)/g, (_, c: string) => UNESCAPES[c] ?? c) : field;
}
