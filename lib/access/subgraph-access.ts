import type express from 'express';
import {
  defaultFieldResolver,
  getNamedType,
  isObjectType,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql';
import type { ApolloServerPlugin, GraphQLResponse } from '@apollo/server';
import type { RefusalLog } from '../refusal-log';
import { callerFrom, verifyCaller, type Caller } from '../caller';
import type { CredentialVerifier } from '../service-auth';
import type { AuditEntry, AuditSink } from './audit-entry';
import type { Classification } from './classification';
import { allowedClassifications, CITIZEN_ROOT_FIELDS as POLICY_CITIZEN_ROOT_FIELDS, CITIZEN_SELF_SERVICE, forbiddenError, mayWrite } from './policy';
import { languageOf } from '../i18n/language';
import { message, messageIn } from '../i18n/messages';
import type { ClassificationMap } from './schema-classification';
import { noteErrorCode } from '../request-scope';

/**
 * A subgraph's own enforcement of the access policy, behind the gateway's (defence in depth):
 *
 * 1. The seal: a request without a valid credential for this subgraph (signed by the gateway for a client
 *    request, or by another agency's service) gets HTTP 401 and no data — `_entities` and `_service` included.
 * 2. The field guard: every classified field checks, as it resolves, that the principal's role and purpose
 *    allow its classification; a citizen may only resolve their own record (root fields and `_entities`
 *    alike, since both end in the same field resolvers and `__resolveReference`); writes need a registrar of
 *    this agency (or, for service-only operations, an agency service).
 * 3. The access record: which persons' data the request resolved, and of which classifications, collected
 *    by the same guard and written to the audit store before the response leaves (see auditPlugin).
 */
export interface AccessRecord {
  /** Person → classifications of their data resolved by this request. */
  persons: Map<string, Set<Classification>>;
  /** Root fields asked (Query or Mutation fields, `_entities`). */
  operations: Set<string>;
  wrote: boolean;
  /** The object a nested value belongs to → whose data it is (a residence → its citizen; an address → a household's members). */
  owners: WeakMap<object, readonly string[]>;
  /** What this subgraph refused, and whose data it was asked for: recorded like the accesses. */
  refusals: Refusal[];
  allowed?: ReadonlySet<Classification>;
  /**
   * A citizen's parents and children this subgraph served them through a relative edge of their own record
   * (citizen self-service): their names and codes may be served, and the gateway passes them on to the other
   * subgraphs of the request (RELATIVES_EXTENSION, ServiceClaims.rel).
   */
  relatives: Set<string>;
  /**
   * Aggregates served that name no person (statistics tables): one READ record each, with what was asked (measure,
   * dimensions, filters, reference date) as its operation and its classifications, so that analysts' queries are
   * audited though no person's record was read.
   */
  aggregates: { operation: string; classes: Classification[] }[];
}

export interface Refusal {
  /** The field refused, e.g. Citizen.religion or Query.household. */
  field: string;
  reason: string;
  persons: string[];
}

/**
 * Whose data an object of a type carries, for types that name persons themselves (a birth registration its
 * child, a household membership its member, an audit record the persons it is about). Objects of other
 * types belong to the person through whom they were reached (a residence to its citizen).
 */
export type DataSubjects = Readonly<Record<string, (parent: never) => readonly (string | null | undefined)[]>>;

export interface GuardedContext {
  caller: Caller;
  access: AccessRecord;
}

export const newAccessRecord = (): AccessRecord => ({ persons: new Map(), operations: new Set(), wrote: false, owners: new WeakMap(), refusals: [], relatives: new Set(), aggregates: [] });

/** The raw body bytes of a request, kept by the body parser (lib/subgraph-server.ts) for the credential's body hash. */
export const rawBodyOf = (req: express.Request): Buffer => (req as { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);

const unauthenticated = (res: express.Response, reason: string, message: string, status = 401) =>
  void res.status(status).json({ errors: [{ message, extensions: { code: status === 401 ? 'UNAUTHENTICATED' : 'SERVICE_UNAVAILABLE', reason } }] });

/**
 * The seal, as Express middleware after the body parser and before the GraphQL handler; leaves the verified
 * caller in res.locals.caller. Sealed, a request without a credential, or with one that does not verify
 * (untrusted issuer or key, expired, for another subgraph, for another body, already used, no principal),
 * gets HTTP 401 and no data. Unsealed (benchmarks), such a request goes on as an uncredentialed caller.
 */
export function sealMiddleware(verifier: CredentialVerifier | null, sealed: boolean, log: RefusalLog): express.RequestHandler {
  return (req, res, next) => {
    if (sealed && req.method !== 'POST') {
      unauthenticated(res, 'CREDENTIAL_REQUIRED', messageIn(languageOf(req), 'CREDENTIAL_POST_ONLY'));
      return;
    }
    verifyCaller(req.headers, rawBodyOf(req), verifier).then(
      (result) => {
        if (sealed && !(result.ok && result.caller.credentialed)) {
          log(result.ok ? 'CREDENTIAL_REQUIRED' : result.reason, req);
          if (!result.ok && (result.reason === 'REPLAY_CACHE_FULL' || result.reason === 'REPLAY_CACHE_UNAVAILABLE')) {
            // Not the caller's fault: the subgraph cannot tell a first use from a replay now (HTTP 503, retry later).
            unauthenticated(res, result.reason, messageIn(languageOf(req), result.reason), 503);
          } else {
            unauthenticated(
              res,
              result.ok ? 'CREDENTIAL_REQUIRED' : result.reason,
              messageIn(languageOf(req), 'CREDENTIAL_REQUIRED'),
            );
          }
          return;
        }
        res.locals.caller = result.ok ? result.caller : callerFrom(req.headers);
        next();
      },
      (error: unknown) => next(error),
    );
  };
}

const CITIZEN_TYPE = 'Citizen';
/** Root fields a citizen may ask, each for their own record only (lib/access/policy.ts), and entity resolution. */
const CITIZEN_ROOT_FIELDS = new Set([...POLICY_CITIZEN_ROOT_FIELDS, '_entities']);
const RELATIVE_EDGES: ReadonlySet<string> = new Set(CITIZEN_SELF_SERVICE.relativeEdges);
const RELATIVE_FIELDS: ReadonlySet<string> = new Set(CITIZEN_SELF_SERVICE.relativeFields);
const CITIZEN_DENIED_FIELDS: ReadonlySet<string> = new Set(CITIZEN_SELF_SERVICE.deniedFields);

/** A personal code as the audit store keeps it (12 digits); anything else a caller sent names no one. */
const isCode = (value: unknown): value is string => typeof value === 'string' && /^\d{12}$/.test(value);

/** The persons an object's data belongs to: those it names itself (DataSubjects), and the one it was reached through. */
function personsOf(typeName: string, parent: unknown, access: AccessRecord, subjects: DataSubjects): string[] {
  if (parent === null || typeof parent !== 'object') return [];
  if (typeName === CITIZEN_TYPE) {
    const code = (parent as { personalCode?: unknown }).personalCode;
    return isCode(code) ? [code] : [];
  }
  const named = Object.hasOwn(subjects, typeName) ? subjects[typeName](parent as never).filter(isCode) : [];
  const owners = access.owners.get(parent) ?? [];
  return owners.length === 0 ? named : [...new Set([...named, ...owners])];
}

/** Marks what a field returned as belonging to `persons` (nested objects: residences, cards, memberships). */
function adopt(result: unknown, persons: readonly string[], access: AccessRecord): void {
  if (result === null || typeof result !== 'object' || persons.length === 0) return;
  for (const item of Array.isArray(result) ? result : [result]) {
    if (item === null || typeof item !== 'object') continue;
    const earlier = access.owners.get(item);
    access.owners.set(item, earlier ? [...new Set([...earlier, ...persons])] : persons);
  }
}

/** The personal codes a field returned, for a field whose type is Citizen or a list of them. */
function citizensIn(result: unknown): string[] {
  const items = Array.isArray(result) ? result : [result];
  return items.flatMap((item) => {
    const code = item !== null && typeof item === 'object' ? (item as { personalCode?: unknown }).personalCode : undefined;
    return isCode(code) ? [code] : [];
  });
}

/** The codes a root field's arguments name: whom the caller asked about, found or not. */
function codesAsked(args: Record<string, unknown>): string[] {
  const asked = [args.personalCode, ...(Array.isArray(args.personalCodes) ? args.personalCodes : [])];
  return asked.filter(isCode);
}

function note(access: AccessRecord, persons: readonly string[], classification: Classification | undefined): void {
  if (!classification) return;
  for (const person of persons) {
    let classes = access.persons.get(person);
    if (!classes) access.persons.set(person, (classes = new Set()));
    classes.add(classification);
  }
}

/**
 * Wraps the resolvers of every classified field (and the Mutation fields) with the policy checks and the
 * access record. `serviceOnly` names mutations only agency services call (they check the credential
 * themselves); `subjects` says whose data the objects of some types carry.
 *
 * What is recorded for a request, per person: the classification of every field resolved on their data;
 * for a field that returns citizens (a root field, `parents`, `head`, a search's `node`), the persons
 * returned, with that field's classification, even if nothing but `__typename` is asked of them (an
 * existence probe is an access); for a root field, the persons its arguments name. Every refusal is
 * recorded too, with the persons it concerned.
 *
 * No principal, no answer: a credentialed call that names no principal is refused. Only a subgraph that
 * was deliberately left unsealed (SUBGRAPH_SEALED=false, refused in production) serves callers without one.
 */
export function guardSchema(
  schema: GraphQLSchema,
  classifications: ClassificationMap,
  options: { agency: string; serviceOnly?: readonly string[]; subjects?: DataSubjects },
): GraphQLSchema {
  const mutationType = schema.getMutationType()?.name;
  const queryType = schema.getQueryType()?.name;
  const subjects = options.subjects ?? {};
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const classification = classifications.get(`${type.name}.${field.name}`);
      const isRoot = type.name === queryType || type.name === mutationType;
      if (!classification && !(isRoot && field.name === '_entities')) continue;
      const original: GraphQLFieldResolver<unknown, GuardedContext> = field.resolve ?? defaultFieldResolver;
      const named = getNamedType(field.type);
      const returnsCitizen = named.name === CITIZEN_TYPE;
      // Only objects other than citizens carry a person on to their fields; scalars end here (most fields).
      const carriesPerson = isObjectType(named) && !returnsCitizen;
      const where = `${type.name}.${field.name}`;
      const isWrite = type.name === mutationType;
      const serviceOnly = isWrite && (options.serviceOnly ?? []).includes(field.name);
      field.resolve = (parent: unknown, args: Record<string, unknown>, ctx: GuardedContext, info: GraphQLResolveInfo) => {
        const { access, caller } = ctx;
        const principal = caller.principal;
        // A citizen's root fields are all about themselves (their record, their access log).
        const own = isRoot && principal?.role === 'CITIZEN' && principal.personalCode ? [principal.personalCode] : [];
        const persons = isRoot ? [...new Set([...own, ...codesAsked(args)])] : personsOf(type.name, parent, access, subjects);
        const refuse = (reason: string, text: string, refused: readonly string[] = persons, details: Record<string, unknown> = {}) => {
          access.refusals.push({ field: where, reason, persons: [...new Set(refused)] });
          return forbiddenError(reason, text, details);
        };
        if (isRoot) access.operations.add(field.name);
        // What the credential's issuer may call (its trust file entry): an agency only the root fields listed.
        if (isRoot && caller.permissions !== null && caller.permissions !== '*' && !caller.permissions.includes(where)) {
          throw refuse('OPERATION_NOT_ALLOWED', message('OPERATION_NOT_ALLOWED', { service: caller.service ?? 'unknown', field: where }), persons, { field: where });
        }
        if (!principal && caller.credentialed) {
          throw refuse('PRINCIPAL_REQUIRED', message('PRINCIPAL_REQUIRED'));
        }
        if (isWrite) {
          access.wrote = true;
          if (serviceOnly ? caller.service === null : principal !== null && !mayWrite(principal, options.agency)) {
            throw refuse('WRITE_NOT_ALLOWED', message('WRITE_NOT_ALLOWED_HERE', { field: field.name }));
          }
        }
        if (principal) {
          try {
            access.allowed ??= allowedClassifications(principal);
          } catch (error) {
            const reason = String((error as { extensions?: { reason?: unknown } }).extensions?.reason ?? 'FORBIDDEN');
            throw refuse(reason, (error as Error).message);
          }
          if (classification && !access.allowed.has(classification)) {
            throw refuse('FIELD_NOT_ALLOWED', message('FIELD_NOT_ALLOWED', { field: where, classification, role: principal.role, purpose: principal.purpose }), persons, {
              field: where,
            });
          }
          if (principal.role === 'CITIZEN') {
            const self = principal.personalCode!;
            // Relatives: named by this subgraph through a relative edge of the citizen's own record, or by an
            // earlier subgraph of the same request (the gateway's credential).
            const isRelative = (code: string) => access.relatives.has(code) || caller.relatives?.has(code) === true;
            if (isRoot && !CITIZEN_ROOT_FIELDS.has(field.name)) throw refuse('NOT_OWN_RECORD', message('NOT_OWN_RECORD'));
            if (isRoot && 'personalCode' in args && args.personalCode !== self) {
              throw refuse('NOT_OWN_RECORD', message('NOT_OWN_RECORD'));
            }
            if (CITIZEN_DENIED_FIELDS.has(where)) throw refuse('NOT_OWN_RECORD', message('NOT_OWN_RELATIVES_FIELD', { field: where }), persons, { field: where });
            // Entity resolution (`__resolveReference`) for anyone but themself or a relative is refused before it runs.
            if (field.name === '_entities') {
              const representations = (Array.isArray(args.representations) ? args.representations : []) as { __typename?: unknown; personalCode?: unknown }[];
              const others = representations.filter(
                (r) => r?.__typename !== CITIZEN_TYPE || !isCode(r.personalCode) || (r.personalCode !== self && !isRelative(r.personalCode)),
              );
              if (others.length > 0) {
                throw refuse('NOT_OWN_RECORD', message('NOT_OWN_RECORD_SEEN'), others.map((r) => r?.personalCode).filter(isCode));
              }
            }
            // Their own data, which may be shared with others (their household's address is every member's); of a
            // parent or child, the name and code only.
            if (persons.length > 0 && !persons.includes(self) && !(RELATIVE_FIELDS.has(where) && persons.every(isRelative))) {
              throw refuse('NOT_OWN_RECORD', message('NOT_OWN_RECORD_RELATIVES'));
            }
          }
        }
        note(access, persons, classification);
        // Checked above: a relative edge resolves only on the citizen's own record; what it returns are their relatives.
        const namesRelatives = principal?.role === 'CITIZEN' && RELATIVE_EDGES.has(where);
        const noteResult = (value: unknown) => {
          if (returnsCitizen) {
            const citizens = citizensIn(value);
            note(access, citizens, classification);
            if (namesRelatives) for (const code of citizens) access.relatives.add(code);
          } else adopt(value, persons, access);
          return value;
        };
        const result = original(parent, args, ctx, info);
        if (!returnsCitizen && !(carriesPerson && persons.length > 0)) return result;
        return result instanceof Promise ? result.then(noteResult) : noteResult(result);
      };
    }
  }
  return schema;
}

/**
 * The access record of a request as audit entries: one READ per set of classes served, naming every person
 * served that set, and one REFUSED per refusal, naming the persons it concerned. A mutation's own change is
 * recorded by the outbox (lib/audit/outbox.ts) from the agency's change log, in the write's transaction; what
 * its answer then shows is a read like any other.
 */
export function auditEntries(ctx: GuardedContext, agency: string, outcome: AuditEntry['outcome']): AuditEntry[] {
  const principal = ctx.caller.principal;
  if (!principal) return [];
  const base = {
    requestId: principal.requestId,
    subject: principal.subject,
    role: principal.role,
    callerAgency: ctx.caller.service ?? principal.agency,
    purpose: principal.purpose,
    caseReference: principal.caseReference,
    agency,
    operation: [...ctx.access.operations].sort().join(',') || '_entities',
  };
  const groups = new Map<string, { classes: string[]; persons: string[] }>();
  for (const [person, classSet] of ctx.access.persons) {
    const classes = [...classSet].sort();
    const key = classes.join(',');
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { classes, persons: [] }));
    group.persons.push(person);
  }
  const reads = [...groups.keys()].sort().map((key) => {
    const { classes, persons } = groups.get(key)!;
    return { ...base, action: 'READ' as const, outcome, persons: [...new Set(persons)].sort(), classes };
  });
  const aggregates = (ctx.access.aggregates ?? []).map((aggregate) => ({
    ...base,
    action: 'READ' as const,
    outcome,
    operation: aggregate.operation,
    persons: [],
    classes: [...new Set(aggregate.classes)].sort(),
  }));
  reads.push(...aggregates);
  // The same refusal for every item of a list is one record naming them all.
  const refused = new Map<string, Set<string>>();
  for (const refusal of ctx.access.refusals) {
    const key = `${refusal.field}: ${refusal.reason}`;
    const persons = refused.get(key) ?? new Set<string>();
    for (const person of refusal.persons) persons.add(person);
    refused.set(key, persons);
  }
  const refusals = [...refused.entries()].map(([what, persons]) => ({
    ...base,
    action: 'REFUSED' as const,
    outcome: 'DENIED' as const,
    operation: `${base.operation} ${what}`,
    persons: [...persons].sort(),
    classes: [],
  }));
  return [...reads, ...refusals];
}

/**
 * Where a subgraph names, for the gateway, the parents and children it served a citizen through their own
 * record (AccessRecord.relatives): the gateway takes them off the response and names them in the credentials
 * of the request's later subgraph calls (ServiceClaims.rel), so that residents may serve a parent's name that
 * the birth registry named. Never passed on to the client.
 */
export const RELATIVES_EXTENSION = 'relatives';

export function relativesPlugin<Context extends GuardedContext>(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          const { caller, access } = contextValue;
          // Only to the gateway (a credential of its own), only for a citizen's request.
          if (!caller.credentialed || caller.service !== null || caller.principal?.role !== 'CITIZEN' || access.relatives.size === 0) return;
          if (response.body.kind === 'single') {
            response.body.singleResult.extensions = { ...response.body.singleResult.extensions, [RELATIVES_EXTENSION]: [...access.relatives].sort() };
          }
        },
      };
    },
  };
}

/** Where a subgraph puts its access record when the gateway records it (ServiceClaims.rec). */
export const ACCESS_RECORD_EXTENSION = 'accessRecord';

/**
 * Writes the request's access record to the audit store before the response leaves. If the store cannot
 * be written, the response is replaced by an error: no data leaves unrecorded.
 *
 * Unless the gateway records it: a client request through the gateway reaches two or three subgraphs, and
 * each writing its own records cost three audit transactions per request, each serialised on the chain
 * head with its commit's WAL flush (access control then cost W1 a quarter of its throughput). When the
 * gateway's credential says so, the record goes back in the response (extensions.accessRecord); the gateway
 * writes the records of all the subgraphs of one client request in one call, group-committed with other
 * requests', before its own response leaves, and withholds that response if it cannot. A response the
 * gateway receives is not yet delivered to anyone: the rule "recorded before it reaches the caller" holds
 * with the gateway as the last step. Calls from other agencies' services, and any credentialed call
 * without that claim, are still recorded here.
 */
export function auditPlugin<Context extends GuardedContext>(agency: string, sink: AuditSink | null, log: (message: string, error: unknown) => void): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          // Who writes this request's record: the gateway (it goes back in the response) or this subgraph.
          const recorder = contextValue.caller.recordedByGateway ? 'gateway' : sink;
          if (!recorder) return;
          const body = response.body;
          const outcome = body.kind === 'single' && body.singleResult.errors?.length ? 'ERROR' : 'OK';
          const entries = auditEntries(contextValue, agency, outcome);
          if (entries.length === 0) return;
          if (recorder === 'gateway') {
            if (body.kind === 'single') body.singleResult.extensions = { ...body.singleResult.extensions, [ACCESS_RECORD_EXTENSION]: entries };
            return;
          }
          try {
            await recorder.record(entries);
          } catch (error) {
            log('audit store unavailable; the response is withheld', error);
            withholdUnrecorded(response);
          }
        },
      };
    },
  };
}

/** Replaces a response whose accesses could not be recorded: no data leaves unrecorded. */
export function withholdUnrecorded(response: GraphQLResponse): void {
  noteErrorCode('AUDIT_UNAVAILABLE', { override: true });
  if (response.body.kind === 'single') {
    response.body.singleResult = {
      errors: [{ message: message('AUDIT_UNAVAILABLE'), extensions: { code: 'AUDIT_UNAVAILABLE' } }],
    };
  }
  response.http.status = 503;
}
