/**
 * The seeder's rows as PostgreSQL COPY text (lib/copy-text.ts). The generator never produces a value that needs
 * escaping, but a seeder that corrupts rows on an odd name would be a trap for later data: every value is escaped.
 */
import { copyValue } from '../../lib/copy-text';
import { TABLE_COLUMNS, type RowOf, type TableName } from './rows';

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
