/**
 * An agency's legacy code table: the values one column holds (e.g. the_can_cuoc.trang_thai 'CON_HIEU_LUC')
 * and what the graph calls them (IdentityCardStatus VALID). Every stored code the running code reads or
 * writes is written once, in its agency's table (subgraphs/<agency>/codes.ts); code elsewhere names the graph
 * value and asks the table for the stored one (`CARD_STATUS.encode('VALID')`), so a stored literal outside
 * the tables is a mistake test/code-tables.test.ts finds.
 *
 * The policy for a stored value the table does not know (one policy, every table, every column): it is a
 * DATA FAULT. decode throws UnknownStoredCode naming the column and the value; the subgraph logs it as a data
 * fault with both (lib/graphql/format-error.ts) and the client gets INTERNAL_SERVER_ERROR on that field only
 * (masked: no column, no value), with the rest of its answer. Why not an UNKNOWN enum value or a fallback
 * such as OTHER: the graph answers for a register of persons; a relationship, a card status or a sex that
 * the agency did not record must not be shown as one it did (OTHER is itself a recorded value, KHAC), and an
 * UNKNOWN member in every enum would be a schema change every client has to handle for a case that needs an
 * operator to fix the row, not a frontend. Most columns also have a CHECK constraint with the same list
 * (the migrations); the fault path is for columns without one (thanh_vien_ho.quan_he_chu_ho) and for a
 * table that falls behind its column.
 */
export class UnknownStoredCode extends Error {
  constructor(
    readonly column: string,
    readonly value: unknown,
  ) {
    super(`Unknown value ${JSON.stringify(value)} in column ${column}`);
    this.name = 'UnknownStoredCode';
  }
}

export interface CodeTable<Stored extends string | number, Value extends string> {
  /** The column the codes are stored in, table.column: named in the data fault. */
  readonly column: string;
  /** Every stored code, in the table's order. */
  readonly codes: readonly Stored[];
  /** The graph value of a stored code; a code the table does not know (or none, NULL) is a data fault (see above). */
  decode(stored: string | number | null): Value;
  /** The stored code of a graph value (each graph value has exactly one). */
  encode(value: Value): Stored;
}

type Entries = Readonly<Record<string | number, string>>;

/**
 * A code table from its entries, stored code → graph value, written `as const` so that the stored codes
 * and the graph values are literal unions (`satisfies Record<string, GraphEnum>` checks the graph side).
 * A table's codes are all integers (SMALLINT columns such as gioi_tinh) or all text.
 */
export function codeTable<const T extends Entries>(column: string, entries: T): CodeTable<Extract<keyof T, string | number>, T[keyof T]> {
  type Stored = Extract<keyof T, string | number>;
  type Value = T[keyof T];
  const keys = Object.keys(entries);
  const numeric = keys.every((key) => /^(0|[1-9][0-9]*)$/.test(key));
  const codes = keys.map((key) => (numeric ? Number(key) : key)) as Stored[];
  const byValue = new Map<string, Stored>();
  for (const code of codes) {
    const value = entries[code];
    if (byValue.has(value)) throw new Error(`Code table ${column}: ${value} has two stored codes`);
    byValue.set(value, code);
  }
  return {
    column,
    codes,
    decode(stored) {
      const value = stored !== null && Object.prototype.hasOwnProperty.call(entries, stored) ? entries[stored] : undefined;
      // A text code must match as text: '1' is not the SMALLINT 1, nor 1 the VARCHAR '1'.
      if (value === undefined || typeof stored !== (numeric ? 'number' : 'string')) throw new UnknownStoredCode(column, stored);
      return value as Value;
    },
    encode(value) {
      const code = byValue.get(value);
      if (code === undefined) throw new Error(`Code table ${column}: no stored code for ${JSON.stringify(value)}`);
      return code;
    },
  };
}

/** The stored codes of a table, as a type: what its column holds. */
export type StoredCode<Table> = Table extends CodeTable<infer Stored, string> ? Stored : never;
/** The graph values of a table, as a type. */
export type CodeValue<Table> = Table extends CodeTable<string | number, infer Value> ? Value : never;

/**
 * A stored code as an SQL literal, for statements whose text is built (lib code that cannot pass it as a
 * parameter without changing the plan: a partial index's predicate must be seen as a constant). Only ever
 * called with a table's own codes, which are checked here all the same.
 */
export function sqlLiteral<Stored extends string | number>(table: CodeTable<Stored, string>, code: Stored): string {
  if (!table.codes.includes(code)) throw new Error(`Code table ${table.column}: ${String(code)} is not one of its codes`);
  return typeof code === 'number' ? String(code) : `'${code.replace(/'/g, "''")}'`;
}

/** The sex code both the population database and the birth registry use (cong_dan.gioi_tinh, dang_ky_khai_sinh.gioi_tinh_tre). */
export const sexCodes = (column: string) => codeTable(column, { 1: 'MALE', 2: 'FEMALE' } as const);
