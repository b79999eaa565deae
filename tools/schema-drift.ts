import type { Pool } from 'pg';

/**
 * Compares a Prisma schema with the agency database it maps: every model's table, every scalar field's
 * column, its type and nullability. Agency schemas are theirs and change under us (a renamed column, a
 * widened type); this finds the drift before a query does. A deliberately small reader of the
 * schema.prisma text: it understands what our schemas use (@map, @@map, @db.*, optional fields).
 */
export interface MappedField {
  field: string;
  column: string;
  prismaType: string;
  dbType: string | null;
  optional: boolean;
}

export interface MappedModel {
  model: string;
  table: string;
  fields: MappedField[];
}

const SCALARS = new Set(['String', 'Int', 'BigInt', 'DateTime', 'Boolean', 'Float', 'Decimal', 'Json']);

export function readPrismaModels(schema: string): MappedModel[] {
  const models: MappedModel[] = [];
  for (const match of schema.matchAll(/^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm)) {
    const [, model, body] = match;
    const table = /@@map\("([^"]+)"\)/.exec(body)?.[1] ?? model;
    const fields: MappedField[] = [];
    for (const line of body.split('\n').map((l) => l.trim())) {
      const field = /^(\w+)\s+(\w+)(\[\])?(\?)?(.*)$/.exec(line);
      if (!field || line.startsWith('@@')) continue;
      const [, name, type, list, optional, rest] = field;
      if (!SCALARS.has(type) || list) continue;
      fields.push({
        field: name,
        column: /@map\("([^"]+)"\)/.exec(rest)?.[1] ?? name,
        prismaType: type,
        dbType: /@db\.(\w+(?:\(\d+\))?)/.exec(rest)?.[1] ?? null,
        optional: Boolean(optional),
      });
    }
    models.push({ model, table, fields });
  }
  return models;
}

/** The PostgreSQL type Prisma expects for a field (information_schema spelling). */
function expectedType(field: MappedField): string {
  const db = field.dbType;
  if (db) {
    const [, name, size] = /^(\w+)(?:\((\d+)\))?$/.exec(db)!;
    const base: Record<string, string> = {
      Char: 'character',
      VarChar: 'character varying',
      Date: 'date',
      Timestamptz: 'timestamp with time zone',
      Timestamp: 'timestamp without time zone',
      SmallInt: 'smallint',
      Integer: 'integer',
      BigInt: 'bigint',
      Text: 'text',
    };
    const known = base[name] ?? name.toLowerCase();
    return size && (name === 'Char' || name === 'VarChar') ? `${known}(${size})` : known;
  }
  const defaults: Record<string, string> = {
    String: 'text',
    Int: 'integer',
    BigInt: 'bigint',
    DateTime: 'timestamp without time zone',
    Boolean: 'boolean',
    Float: 'double precision',
    Json: 'jsonb',
  };
  return defaults[field.prismaType] ?? field.prismaType;
}

export async function findSchemaDrift(schema: string, pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ table_name: string; column_name: string; data_type: string; size: number | null; is_nullable: string }>(
    `SELECT table_name, column_name, data_type, character_maximum_length AS size, is_nullable
       FROM information_schema.columns WHERE table_schema = 'public'`,
  );
  const problems: string[] = [];
  for (const model of readPrismaModels(schema)) {
    const columns = rows.filter((row) => row.table_name === model.table);
    if (columns.length === 0) {
      problems.push(`model ${model.model}: table ${model.table} does not exist`);
      continue;
    }
    for (const field of model.fields) {
      const column = columns.find((c) => c.column_name === field.column);
      if (!column) {
        problems.push(`${model.model}.${field.field}: column ${model.table}.${field.column} does not exist`);
        continue;
      }
      const actual = column.size ? `${column.data_type}(${column.size})` : column.data_type;
      if (actual !== expectedType(field)) {
        problems.push(`${model.model}.${field.field}: ${model.table}.${field.column} is ${actual}, the model expects ${expectedType(field)}`);
      }
      if ((column.is_nullable === 'YES') !== field.optional) {
        problems.push(
          `${model.model}.${field.field}: ${model.table}.${field.column} is ${column.is_nullable === 'YES' ? 'nullable' : 'NOT NULL'}, the model says ${field.optional ? 'optional' : 'required'}`,
        );
      }
    }
    for (const column of columns) {
      if (!model.fields.some((field) => field.column === column.column_name)) {
        problems.push(`${model.model}: column ${model.table}.${column.column_name} is not mapped by any field`);
      }
    }
  }
  return problems;
}
