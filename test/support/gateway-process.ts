import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { testDatabases } from './databases';
import type { TestFederation } from './federation';

/**
 * The gateway as a process of its own (as production runs it), in front of a test federation's subgraphs,
 * for tests that must kill it (SIGKILL) in the middle of something. `env` adds to or overrides the run's
 * settings (its keys, the gateway role's audit store).
 */
export interface GatewayProcess {
  url: string;
  child: ChildProcess;
}

export async function startGatewayProcess(federation: TestFederation, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const { serviceUrls, jwksFile, serviceKeys, checkpointKeyFile, checkpointFile } = testDatabases();
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve(__dirname, '../../gateway/index.ts')], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      GATEWAY_PORT: '0',
      GATEWAY_HOST: '127.0.0.1',
      AUTH_JWKS_FILE: jwksFile,
      GATEWAY_SERVICE_KEY_FILE: serviceKeys.keyFiles.gateway,
      AUDIT_DATABASE_URL: serviceUrls.gateway.audit,
      AUDIT_CHECKPOINT_KEY_FILE: checkpointKeyFile,
      AUDIT_CHECKPOINT_FILE: checkpointFile,
      SUBGRAPH_RESIDENTS_URL: federation.subgraphUrls.residents,
      SUBGRAPH_NATIONAL_ID_URL: federation.subgraphUrls['national-id'],
      SUBGRAPH_BIRTH_REGISTRY_URL: federation.subgraphUrls['birth-registry'],
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ready at (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]);
    });
    child.once('exit', () => reject(new Error(`the gateway exited early: ${output}`)));
  });
  return { url, child };
}
