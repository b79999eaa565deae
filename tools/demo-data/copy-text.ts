/**
 * PostgreSQL COPY text format: one line per row, columns separated by tabs, \N for null.
 * Inside a value, backslash, tab, newline and carriage return must be escaped (the generator never
 * produces them, but a seeder that corrupts rows on an odd name would be a trap for later data).
 */
import { TABLE_COLUMNS, type RowOf, type TableName } from './rows';

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export function copyValue(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') return String(value);
  return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]) : value;
}

/** The COPY statement for a table, naming the columns so defaults fill the rest. */
export function copyStatement(table: TableName): string {
  return `COPY ${table} (${TABLE_COLUMNS[table].join(', ')}) FROM STDIN`;
}

/** One row as a COPY text line, newline included. */
export function copyLine<T extends TableName>(table: T, row: RowOf<T>): string {
  const columns = TABLE_COLUMNS[table] as ReadonlyArray<keyof RowOf<T>>;
  let line = copyValue(row[columns[0]] as string | number | null);
  for (let i = 1; i < columns.length; i++) line += '\t' + copyValue(row[columns[i]] as string | number | null);
  return line + '\n';
}
