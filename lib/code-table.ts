/**
 * Reads an agency's code table (the values its legacy columns hold). A value the table does not know
 * is a data fault: it is reported to the client as an internal error (masked) and logged with the column.
 */
/** The sex code both the population database and the birth registry use (gioi_tinh, gioi_tinh_tre). */
export const SEX_CODES: Readonly<Record<number, 'MALE' | 'FEMALE'>> = { 1: 'MALE', 2: 'FEMALE' };

export function decode<K extends string | number, V>(table: Record<K, V>, value: K, column: string): V {
  const decoded = table[value];
  if (decoded === undefined) throw new Error(`Unknown value ${JSON.stringify(value)} in column ${column}`);
  return decoded;
}
