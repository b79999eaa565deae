import type { IncomingMessage } from 'node:http';
import type { RequestHandler, Response } from 'express';
import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { getNamedType, isObjectType, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { AdmissionCheck } from './admission';
import type { GatewayContext } from './data-source';
import { rootFields } from './access-policy';

/**
 * Statistics as CSV (issue 13): `Accept: text/csv` on the GraphQL endpoint. The request runs exactly as a JSON
 * one does (token, purpose, access policy, audit record, the analyst's budget in the statistics subgraph): only
 * the answer is written differently, after Apollo Server has made it. So there is one code path, and the CSV is
 * the JSON answer's table and nothing else.
 *
 * - Negotiation (`csvNegotiation`, before Apollo): a request whose Accept prefers text/csv is marked, and asks
 *   Apollo for JSON (which it only speaks); the response's JSON is then turned into CSV on its way out.
 * - Before anything runs (`csvPlugin`, once the access policy has let the operation through): a CSV answer is one
 *   table, so the operation must be a query of exactly one root field that returns a statistics table; anything
 *   else is refused with 406 NOT_ACCEPTABLE (reason CSV_NEEDS_ONE_STATISTICS_TABLE), nothing asked of any
 *   subgraph, no budget spent.
 * - Errors stay JSON, with their status and `extensions.code` as ever (a bad token 401, bad input 400, an
 *   exhausted budget 429): a CSV client reads the status, and the code is where every client looks for it.
 */

/** The GraphQL type of every statistics measure's answer: a query of one field of this type can be written as CSV. */
export const STATISTICS_TABLE_TYPE = 'StatisticsTable';
export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';
export const NOT_ACCEPTABLE = 'NOT_ACCEPTABLE';

const csvRequests = new WeakSet<IncomingMessage>();

/** Whether the client's Accept prefers CSV to the JSON types (a browser's or curl's `*\/*` does not). */
export function prefersCsv(req: { accepts(types: string[]): string | false }): boolean {
  return req.accepts(['application/graphql-response+json', 'application/json', 'text/csv']) === 'text/csv';
}

export const csvNegotiation: RequestHandler = (req, res, next) => {
  res.vary('Accept');
  if (!prefersCsv(req)) return next();
  csvRequests.add(req);
  req.headers.accept = 'application/json';
  const send = res.send.bind(res);
  res.send = (body?: unknown) => send(typeof body === 'string' ? csvOrJson(res, body) : body);
  next();
};

/** Puts the choice in the request's context, where the plugin (and so the check before execution) sees it. */
export const csvAdmission: AdmissionCheck = (context, req) => {
  if (csvRequests.has(req)) context.resultFormat = 'csv';
};

export function csvPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      if (contextValue.resultFormat !== 'csv') return;
      return {
        // After every plugin's didResolveOperation (the access policy's refusal, audited, comes first) and
        // instead of execution: an answer here means nothing runs.
        async responseForOperation({ operation, document, schema }) {
          const fields = rootFields(document!, operation.selectionSet);
          if (operation.operation === 'query' && fields.length === 1 && returnsTable(schema, fields[0].name.value)) return null;
          const error: GraphQLFormattedError = {
            message:
              'A CSV answer (Accept: text/csv) is one statistics table: send a query of exactly one statistics field ' +
              '(populationStatistics, birthStatistics, …), or ask for application/json.',
            extensions: { code: NOT_ACCEPTABLE, reason: 'CSV_NEEDS_ONE_STATISTICS_TABLE' },
          };
          return { http: { status: 406, headers: new HeaderMap() }, body: { kind: 'single', singleResult: { errors: [error] } } };
        },
      };
    },
  };
}

function returnsTable(schema: GraphQLSchema, field: string): boolean {
  const type = schema.getQueryType()?.getFields()[field]?.type;
  const named = type && getNamedType(type);
  return !!named && isObjectType(named) && named.name === STATISTICS_TABLE_TYPE;
}

/** The CSV of a successful answer of one table; any other answer (errors, a refusal) as the JSON it is. */
function csvOrJson(res: Response, body: string): string {
  if (res.statusCode !== 200) return body;
  let result: { data?: Record<string, unknown> | null; errors?: unknown[] };
  try {
    result = JSON.parse(body);
  } catch {
    return body;
  }
  const entries = Object.entries(result.data ?? {});
  if (result.errors?.length || entries.length !== 1 || !entries[0][1] || typeof entries[0][1] !== 'object') return body;
  const [field, table] = entries[0] as [string, CsvTable];
  res.type(CSV_CONTENT_TYPE);
  const name = [field, typeof table.asOf === 'string' ? table.asOf : null].filter(Boolean).join('-');
  res.attachment(`${name.replace(/[^\w.-]/g, '_')}.csv`);
  return statisticsCsv(field, table);
}

/** A statistics table as the answer gives it: whichever fields the query selected. */
export interface CsvTable {
  measure?: string;
  dimensions?: string[];
  asOf?: string;
  dataAsOf?: string | null;
  sources?: { agency?: string; changeLogId?: string; upTo?: string; checkedAt?: string }[];
  cells?: { values?: { dimension?: string; code?: string; label?: string | null }[]; count?: number }[];
  total?: number;
  disclosure?: { method?: string; threshold?: number; maxPerturbation?: number; note?: string };
}

/**
 * The table as CSV (RFC 4180, CRLF): first `#` lines that say what the table is and how its counts were
 * perturbed (pandas: `read_csv(..., comment='#')`; R: `read.csv(..., comment.char = '#')`), then a header and one
 * row per cell: for each dimension its code (and `<DIMENSION>_label` where labels were asked), then `count`.
 * Columns are what the query selected; the perturbation note is there whether or not `disclosure` was.
 */
export function statisticsCsv(field: string, table: CsvTable): string {
  const comments: string[] = [`# ${table.measure ? `${table.measure} (${field})` : field}`];
  if (table.asOf) comments.push(`# asOf: ${table.asOf}`);
  if (table.dataAsOf) comments.push(`# dataAsOf: ${table.dataAsOf}`);
  for (const source of table.sources ?? []) {
    comments.push(`# source: ${[source.agency, source.changeLogId && `change log ${source.changeLogId}`, source.upTo && `up to ${source.upTo}`].filter(Boolean).join(', ')}`);
  }
  const disclosure = table.disclosure ?? {};
  const parameters = [
    disclosure.method,
    disclosure.threshold !== undefined && `threshold ${disclosure.threshold}`,
    disclosure.maxPerturbation !== undefined && `max perturbation ${disclosure.maxPerturbation}`,
  ].filter(Boolean);
  comments.push(`# perturbation: ${parameters.length ? parameters.join(', ') : 'CELL_KEY_PERTURBATION'}`);
  comments.push(
    `# note: ${disclosure.note ?? 'every count is perturbed for publication; no count from 1 to the small-cell threshold is shown as itself; cells not listed are 0.'}`,
  );
  if (table.total !== undefined) comments.push(`# total: ${table.total} (the sum of the published counts)`);

  const cells = table.cells ?? [];
  const first = cells[0]?.values ?? [];
  const width = Math.max(first.length, table.dimensions?.length ?? 0);
  const withCode = cells.length === 0 || first.some((v) => v.code !== undefined);
  const withLabel = first.some((v) => v.label !== undefined);
  const dimensionName = (i: number) => first[i]?.dimension ?? table.dimensions?.[i] ?? `dimension${i + 1}`;
  const header: string[] = [];
  for (let i = 0; i < width; i++) {
    if (withCode) header.push(dimensionName(i));
    if (withLabel) header.push(`${dimensionName(i)}_label`);
  }
  const withCount = cells.length === 0 || cells[0].count !== undefined;
  if (withCount) header.push('count');
  const rows = cells.map((cell) => {
    const row: unknown[] = [];
    for (let i = 0; i < width; i++) {
      if (withCode) row.push(cell.values?.[i]?.code);
      if (withLabel) row.push(cell.values?.[i]?.label);
    }
    if (withCount) row.push(cell.count);
    return row;
  });
  const lines = [...comments.map((c) => c.replace(/[\r\n]+/g, ' ')), ...[header, ...rows].map((row) => row.map(csvField).join(','))];
  return lines.join('\r\n') + '\r\n';
}

/**
 * One field: quoted when it holds a comma, a quote or a line break (quotes doubled). A text that a spreadsheet
 * would run as a formula (= + - @ at the start) gets a leading apostrophe: labels are data, never formulas.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
