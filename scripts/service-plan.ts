import { AGENCIES, type Agency } from '../lib/agencies';
import { EnvReader, type Env } from '../lib/env';
import { readSubgraphListeners } from '../lib/subgraph-config';
import { readGatewayListeners } from '../gateway/config';
import type { ServiceId } from '../lib/database-roles';
import type { OwnedPort, ServiceSpec } from '../tools/supervisor';

/**
 * What `npm start` runs and where, read from the environment with the services' own readers (gateway/config.ts,
 * lib/subgraph-config.ts), so that the ports it checks, waits on and prints are the ones each process will listen
 * on: GATEWAY_PORT, <AGENCY>_PORT (or PORT), the metrics ports, the hosts. Every agency of lib/agencies.ts runs.
 * The gateway is told where the subgraphs really are (SUBGRAPH_<AGENCY>_URL), and the subgraphs where residents is
 * (RESIDENTS_SERVICE_URL), unless those are set: then they are honoured (a proxy in between, say) and printed.
 */
export interface PlannedService {
  id: ServiceId;
  agency: Agency | null;
  /** http://<host>:<port>: where it answers (/graphql, /health/ready). */
  base: string;
  /** Its Prometheus metrics, or why no URL can be given (port 0: a free port the process picks). */
  metrics: string;
  ports: OwnedPort[];
}

export interface ServicePlan {
  subgraphs: PlannedService[];
  gateway: PlannedService;
  /** Where the gateway sends each agency's part of a query. */
  gatewayCalls: Record<string, string>;
  /** RESIDENTS_SERVICE_URL of every subgraph. */
  residentsServiceUrl: string;
  /** Each service's process, given its environment (the installation's keys and database URLs). */
  spec(service: PlannedService, env: NodeJS.ProcessEnv): ServiceSpec;
}

/** An address to call a listener on: a wildcard listener is called on loopback. */
const callable = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host);

export function planServices(env: Env): ServicePlan {
  const read = new EnvReader(env);
  const planned = (id: ServiceId, agency: Agency | null, listeners: ReturnType<typeof readSubgraphListeners>): PlannedService => {
    // npm start waits on the port it gave: a port the OS picks would leave it nothing to wait on.
    if (listeners.port === 0) read.problem(`${listeners.names.port}=0 (a free port) cannot be waited on by npm start: give ${id} a port.`);
    const ports: OwnedPort[] = [{ host: listeners.host, port: listeners.port, setBy: listeners.names.port }];
    if (listeners.metrics.port !== 0) ports.push({ host: listeners.metrics.host, port: listeners.metrics.port, setBy: listeners.names.metricsPort });
    return {
      id,
      agency,
      base: `http://${callable(listeners.host)}:${listeners.port}`,
      metrics: listeners.metrics.port === 0 ? 'a free port (see its "ready" log line)' : `http://${callable(listeners.metrics.host)}:${listeners.metrics.port}/metrics`,
      ports,
    };
  };
  const subgraphs = AGENCIES.map((agency) => planned(agency.id, agency, readSubgraphListeners(agency.id, read, env)));
  const gateway = planned('gateway', null, readGatewayListeners(read, env));

  const all = [...subgraphs, gateway];
  const seen = new Map<number, string>();
  for (const service of all) {
    for (const p of service.ports) {
      const other = seen.get(p.port);
      if (other) read.problem(`${p.setBy} (${p.port}) of ${service.id} is also ${other}: each listener needs a port of its own.`);
      seen.set(p.port, `${p.setBy} of ${service.id}`);
    }
  }

  const gatewayCalls: Record<string, string> = {};
  for (const s of subgraphs) gatewayCalls[s.id] = read.optionalString(`SUBGRAPH_${s.agency!.envPrefix}_URL`) ?? `${s.base}/graphql`;
  const residents = subgraphs.find((s) => s.id === 'residents')!;
  const residentsServiceUrl = read.optionalString('RESIDENTS_SERVICE_URL') ?? `${residents.base}/graphql`;
  read.done();

  return {
    subgraphs,
    gateway,
    gatewayCalls,
    residentsServiceUrl,
    spec(service, env) {
      const own: NodeJS.ProcessEnv = { ...env };
      if (service.agency) {
        own.RESIDENTS_SERVICE_URL = residentsServiceUrl;
      } else {
        for (const s of subgraphs) own[`SUBGRAPH_${s.agency!.envPrefix}_URL`] = gatewayCalls[s.id];
      }
      return {
        name: service.id,
        script: service.agency ? `subgraphs/${service.id}/index.ts` : 'gateway/index.ts',
        env: own,
        readyUrl: `${service.base}/health/ready`,
        ports: service.ports,
      };
    },
  };
}
