import crypto from 'node:crypto';
import fs from 'node:fs';
import { Kind, parse, type GraphQLSchema } from 'graphql';
import type { ApolloGateway, SupergraphSdlHook } from '@apollo/gateway';
import { readClassifications, readMutationOwners, type ClassificationMap } from '../lib/access/schema-classification';
import { readFieldOwners, type FieldOwners } from './agency-paths';
import type { Logger } from '../lib/log';

/** The routing URL of every subgraph, as the composed supergraph records it (`@join__graph(name:, url:)`). */
export function readSupergraphRoutingUrls(supergraphSdl: string): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const definition of parse(supergraphSdl).definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const graph = value.directives?.find((directive) => directive.name.value === 'join__graph');
      const arg = (name: string) => {
        const node = graph?.arguments?.find((a) => a.name.value === name)?.value;
        return node?.kind === Kind.STRING ? node.value : undefined;
      };
      const name = arg('name');
      const url = arg('url');
      if (name && url) urls[name] = url;
    }
  }
  return urls;
}

/** What the gateway reads from one supergraph besides the schema itself: read once, swapped whole on a reload. */
export interface SupergraphView {
  sdl: string;
  routingUrls: Readonly<Record<string, string>>;
  /** Which agency answers each field (gateway/agency-paths.ts: the paths of AGENCY_UNAVAILABLE errors). */
  fieldOwners: FieldOwners;
  /** The access policy's tables (gateway/access-policy.ts). */
  classifications: ClassificationMap;
  mutationOwners: ReadonlyMap<string, string>;
}

/** Throws when the text is not a supergraph the gateway can read. */
export function readSupergraphView(sdl: string): SupergraphView {
  const routingUrls = readSupergraphRoutingUrls(sdl);
  if (Object.keys(routingUrls).length === 0) throw new Error('it names no subgraph (no join__Graph with urls): not a composed supergraph');
  return Object.freeze({
    sdl,
    routingUrls: Object.freeze(routingUrls),
    fieldOwners: readFieldOwners(sdl),
    classifications: readClassifications(sdl),
    mutationOwners: readMutationOwners(sdl),
  });
}

/**
 * The supergraph the gateway serves, read from SUPERGRAPH_PATH and read again whenever the file changes (a
 * recomposition, a deployment's new ConfigMap), so every gateway replica picks up a new supergraph without a
 * restart. The file is polled (fs.watchFile, every `watchIntervalMs`): unlike inotify-based watching it survives
 * the file being replaced by a rename, as editors, deployment tools and Kubernetes' ConfigMap volumes do.
 *
 * A new text is taken only whole and valid: it must be readable as a supergraph here (readSupergraphView) and
 * @apollo/gateway must build it (validateSupergraph on, whatever NODE_ENV says); otherwise it is refused and
 * logged, and the supergraph loaded before keeps being served (a file caught half-written is refused the same way,
 * and taken at the next change once complete). Requests in flight finish under the schema they started with; the
 * gateway's own tables (access classifications, field owners) are looked up by the request's schema (viewFor), so
 * a request never mixes an old schema with new tables.
 */
export interface SupergraphSource {
  /** The view of the supergraph as read at start-up. */
  initial: SupergraphView;
  /** What to give ApolloGateway as `supergraphSdl`. */
  hook: SupergraphSdlHook;
  /** Call before the gateway loads: it tells the source which schema belongs to which supergraph. */
  attach(gateway: ApolloGateway): void;
  /** The view of the supergraph a request's API schema came from (the current one for a schema not known). */
  viewFor(schema: GraphQLSchema): SupergraphView;
  current(): SupergraphView;
  /** What this replica serves, and the last file it refused (GET /health/dependencies shows it). */
  status(): SupergraphStatus;
}

export interface SupergraphStatus {
  /** The first 16 hex digits of the SHA-256 of the supergraph being served: equal on replicas serving the same. */
  id: string;
  loadedAt: string;
  /** Files refused since start-up, and the last refusal's time and reason. */
  refusals: number;
  lastRefusal: { at: string; reason: string } | null;
}

const idOf = (sdl: string) => crypto.createHash('sha256').update(sdl).digest('hex').slice(0, 16);

export interface SupergraphSourceOptions {
  path: string;
  /** SUPERGRAPH_WATCH_INTERVAL_MS; 0: read once, never again. */
  watchIntervalMs: number;
  /** A reload at info, a file refused at warn. */
  log: Pick<Logger, 'info' | 'warn'>;
  /**
   * The subgraphs of a new supergraph that do not answer (their readiness), checked before it is served; none
   * given: not checked. While any does not answer, the new supergraph waits and is tried again every
   * `watchIntervalMs`; the one loaded before keeps serving.
   */
  unanswered?: (view: SupergraphView) => Promise<string[]>;
}

export function supergraphSource(options: SupergraphSourceOptions): SupergraphSource {
  const initial = readSupergraphView(fs.readFileSync(options.path, 'utf8'));
  let current = initial;
  /** The view being handed to the gateway: the one its schema-update event is about. */
  let offered: SupergraphView | null = initial;
  const views = new WeakMap<GraphQLSchema, SupergraphView>();
  let loadedAt = new Date().toISOString();
  let refusals = 0;
  let lastRefusal: SupergraphStatus['lastRefusal'] = null;

  const hook: SupergraphSdlHook = async ({ update }) => {
    /** The text last refused: refused once, not again at every look while the file still holds it. */
    let refusedSdl: string | null = null;
    let retry: NodeJS.Timeout | null = null;
    let running: Promise<void> | null = null;
    let again = false;
    const refuse = (sdl: string, reason: string) => {
      if (sdl === refusedSdl) return;
      refusedSdl = sdl;
      refusals += 1;
      lastRefusal = { at: new Date().toISOString(), reason };
      options.log.warn(`supergraph ${options.path} refused (${reason}): still serving the one loaded before`);
    };
    const look = async () => {
      let sdl: string;
      try {
        sdl = fs.readFileSync(options.path, 'utf8');
      } catch (error) {
        options.log.warn(`supergraph ${options.path} could not be read (${(error as Error).message}): still serving the one loaded before`);
        return;
      }
      if (sdl === current.sdl) return;
      let view: SupergraphView;
      try {
        view = readSupergraphView(sdl);
      } catch (error) {
        return refuse(sdl, (error as Error).message.replace(/\s+/g, ' ').trim().slice(0, 300));
      }
      // Swapped in only once every subgraph it routes to answers: a supergraph whose agencies are not there yet
      // (deployed before them, or a typo in a routing URL) would fail every request that reaches them.
      const silent = options.unanswered ? await options.unanswered(view) : [];
      if (silent.length > 0) {
        refuse(sdl, `its subgraphs do not answer yet: ${silent.join(', ')}; tried again every ${options.watchIntervalMs} ms`);
        if (options.watchIntervalMs > 0) retry = setTimeout(reread, options.watchIntervalMs).unref();
        return;
      }
      try {
        offered = view;
        update(sdl);
        refusedSdl = null;
        options.log.info(`supergraph reloaded from ${options.path}`);
      } catch (error) {
        refuse(sdl, (error as Error).message.replace(/\s+/g, ' ').trim().slice(0, 300));
      } finally {
        offered = null;
      }
    };
    /** One look at a time: a change seen during a look (the subgraphs' checks take time) is looked at after it. */
    const reread = () => {
      if (retry) clearTimeout(retry);
      retry = null;
      if (running) {
        again = true;
        return;
      }
      running = look().finally(() => {
        running = null;
        if (again) {
          again = false;
          reread();
        }
      });
    };
    if (options.watchIntervalMs > 0) {
      fs.watchFile(options.path, { interval: options.watchIntervalMs, persistent: false }, reread);
    }
    return {
      supergraphSdl: initial.sdl,
      cleanup: async () => {
        fs.unwatchFile(options.path, reread);
        if (retry) clearTimeout(retry);
      },
    };
  };

  return {
    initial,
    hook,
    attach(gateway) {
      // Called by the gateway, synchronously inside update(), once the new schema is built and before any request
      // can run under it.
      gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => {
        const view = offered?.sdl === coreSupergraphSdl ? offered : readSupergraphView(coreSupergraphSdl);
        views.set(apiSchema, view);
        current = view;
        loadedAt = new Date().toISOString();
      });
    },
    viewFor: (schema) => views.get(schema) ?? current,
    current: () => current,
    status: () => ({ id: idOf(current.sdl), loadedAt, refusals, lastRefusal }),
  };
}
