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

/** The column value for a graph value: the inverse of a code table (each graph value has one stored code). */
export function encode<K extends string | number, V>(table: Record<K, V>, value: V): K {
  const entry = Object.entries(table).find(([, graphValue]) => graphValue === value);
  if (!entry) throw new Error(`No stored code for ${JSON.stringify(value)}`);
  // Object keys are strings; the tables of numeric codes (gioi_tinh...) store numbers.
  return (/^\d+$/.test(entry[0]) ? Number(entry[0]) : entry[0]) as K;
}
