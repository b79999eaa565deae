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
import { callerFrom, type Caller } from '../caller';
import type { AuditEntry, AuditSink } from './audit-entry';
import type { Classification } from './classification';
import { allowedClassifications, forbidden, mayWrite } from './policy';
import type { ClassificationMap } from './schema-classification';

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
  /** The object a nested value belongs to → whose data it is (a residence → its citizen). */
  owners: WeakMap<object, string>;
  allowed?: ReadonlySet<Classification>;
}

export interface GuardedContext {
  caller: Caller;
  access: AccessRecord;
}

export const newAccessRecord = (): AccessRecord => ({ persons: new Map(), operations: new Set(), wrote: false, owners: new WeakMap() });

/** The seal, as Express middleware before the GraphQL handler; leaves the verified caller in res.locals.caller. */
export function sealMiddleware(verify: { secret: string; audience: string }, sealed: boolean): express.RequestHandler {
  return (req, res, next) => {
    const caller = callerFrom(req.headers, verify);
    if (sealed && !caller.credentialed) {
      res.status(401).json({
        errors: [
          {
            message: 'This subgraph answers only the Citizen Graph gateway and agency services: a valid credential for it is required.',
            extensions: { code: 'UNAUTHENTICATED', reason: 'CREDENTIAL_REQUIRED' },
          },
        ],
      });
      return;
    }
    res.locals.caller = caller;
    next();
  };
}

const CITIZEN_TYPE = 'Citizen';
/** Root fields a citizen may ask, each for their own record only. */
const CITIZEN_ROOT_FIELDS = new Set(['citizen', 'myAccessLog', '_entities']);

function personOf(typeName: string, parent: unknown, access: AccessRecord): string | undefined {
  if (parent === null || typeof parent !== 'object') return undefined;
  if (typeName === CITIZEN_TYPE) return (parent as { personalCode?: string }).personalCode;
  return access.owners.get(parent);
}

/** Marks what a field returned as belonging to `person` (nested objects: residences, cards, memberships). */
function adopt(result: unknown, person: string, access: AccessRecord): void {
  if (result === null || typeof result !== 'object') return;
  if (Array.isArray(result)) {
    for (const item of result) if (item !== null && typeof item === 'object') access.owners.set(item, person);
  } else {
    access.owners.set(result, person);
  }
}

/**
 * Wraps the resolvers of every classified field (and the Mutation fields) with the policy checks and the
 * access record. `serviceOnly` names mutations only agency services call (they check the credential themselves).
 */
export function guardSchema(
  schema: GraphQLSchema,
  classifications: ClassificationMap,
  options: { agency: string; serviceOnly?: readonly string[] },
): GraphQLSchema {
  const mutationType = schema.getMutationType()?.name;
  const queryType = schema.getQueryType()?.name;
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
        if (isRoot) access.operations.add(field.name);
        if (isWrite) {
          access.wrote = true;
          if (serviceOnly ? caller.service === null : principal !== null && !mayWrite(principal, options.agency)) {
            throw forbidden('WRITE_NOT_ALLOWED', `Only a registrar of this agency may make this change (${field.name}).`);
          }
        }
        if (principal) {
          access.allowed ??= allowedClassifications(principal);
          if (classification && !access.allowed.has(classification)) {
            throw forbidden('FIELD_NOT_ALLOWED', `${where} is ${classification} data, which the role ${principal.role} may not see for ${principal.purpose}.`, {
              field: where,
            });
          }
          if (principal.role === 'CITIZEN') {
            if (isRoot && !CITIZEN_ROOT_FIELDS.has(field.name)) throw forbidden('NOT_OWN_RECORD', 'A citizen may only ask for their own record.');
            if (isRoot && 'personalCode' in args && args.personalCode !== principal.personalCode) {
              throw forbidden('NOT_OWN_RECORD', 'A citizen may only ask for their own record.');
            }
            // Entity resolution (`__resolveReference`) for anyone else's record is refused before it runs.
            if (field.name === '_entities') {
              const representations = (args.representations ?? []) as { __typename?: string; personalCode?: string }[];
              if (representations.some((r) => r.__typename !== CITIZEN_TYPE || r.personalCode !== principal.personalCode)) {
                throw forbidden('NOT_OWN_RECORD', 'A citizen may only see their own record.');
              }
            }
          }
        }
        const person = personOf(type.name, parent, access);
        if (person !== undefined && principal?.role === 'CITIZEN' && person !== principal.personalCode) {
          throw forbidden('NOT_OWN_RECORD', 'A citizen may only see their own record.');
        }
        if (person !== undefined && classification) {
          let classes = access.persons.get(person);
          if (!classes) access.persons.set(person, (classes = new Set()));
          classes.add(classification);
        }
        const result = original(parent, args, ctx, info);
        if (person === undefined || !carriesPerson) return result;
        if (result instanceof Promise) return result.then((value) => (adopt(value, person, access), value));
        adopt(result, person, access);
        return result;
      };
    }
  }
  return schema;
}

/**
 * The access record of a request as audit entries: one per distinct set of classes accessed, naming every
 * person (sorted) whose data of exactly those classes the request touched. Never a summary: however many
 * persons a request reads, each is named in its record.
 */
export function auditEntries(ctx: GuardedContext, agency: string, outcome: AuditEntry['outcome']): AuditEntry[] {
  const principal = ctx.caller.principal;
  if (!principal || ctx.access.persons.size === 0) return [];
  const base = {
    requestId: principal.requestId,
    subject: principal.subject,
    role: principal.role,
    callerAgency: ctx.caller.service ?? principal.agency,
    purpose: principal.purpose,
    caseReference: principal.caseReference,
    agency,
    action: ctx.access.wrote ? ('WRITE' as const) : ('READ' as const),
    operation: [...ctx.access.operations].sort().join(',') || '_entities',
    outcome,
  };
  const groups = new Map<string, { classes: string[]; persons: string[] }>();
  for (const [person, classSet] of ctx.access.persons) {
    const classes = [...classSet].sort();
    const key = classes.join(',');
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { classes, persons: [] }));
    group.persons.push(person);
  }
  return [...groups.values()]
    .sort((a, b) => (a.classes.join(',') < b.classes.join(',') ? -1 : a.classes.join(',') > b.classes.join(',') ? 1 : 0))
    .map(({ classes, persons }) => ({ ...base, persons: [...new Set(persons)].sort(), classes }));
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
  if (response.body.kind === 'single') {
    response.body.singleResult = {
      errors: [{ message: 'The access could not be recorded, so no data is returned. Retry later.', extensions: { code: 'AUDIT_UNAVAILABLE' } }],
    };
  }
  response.http.status = 503;
}
