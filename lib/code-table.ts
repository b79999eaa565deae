/**
 * Reads an agency's code table (the values its legacy columns hold). A value the table does not know
 * is a data fault: it is reported to the client as an internal error (masked) and logged with the column.
 */
export function decode<K extends string | number, V>(table: Record<K, V>, value: K, column: string): V {
  const decoded = table[value];
  if (decoded === undefined) throw new Error(`Unknown value ${JSON.stringify(value)} in column ${column}`);
  return decoded;
}
