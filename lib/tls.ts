import fs from 'node:fs';
import type { EnvReader } from './env';

/**
 * Mutual TLS between the gateway and the subgraphs, and between agencies (optional; plain HTTP is the
 * development default). PEM files named by three settings with one prefix:
 *   SUBGRAPH_TLS_CERT_FILE, SUBGRAPH_TLS_KEY_FILE, SUBGRAPH_TLS_CA_FILE  a subgraph's server certificate and key,
 *       and the CA client certificates must be signed by: it then listens on HTTPS and requires one
 *   SERVICE_TLS_CERT_FILE, SERVICE_TLS_KEY_FILE, SERVICE_TLS_CA_FILE     a client's (the gateway's, an agency
 *       service's) certificate and key, presented to subgraphs, and the CA their certificates must chain to
 * All three or none.
 */
export interface TlsMaterial {
  cert: string;
  key: string;
  ca: string;
}

export function readTls(read: EnvReader, prefix: 'SUBGRAPH_TLS' | 'SERVICE_TLS'): TlsMaterial | null {
  const names = { cert: `${prefix}_CERT_FILE`, key: `${prefix}_KEY_FILE`, ca: `${prefix}_CA_FILE` };
  const files = { cert: read.optionalString(names.cert), key: read.optionalString(names.key), ca: read.optionalString(names.ca) };
  const given = Object.values(files).filter(Boolean).length;
  if (given === 0) return null;
  if (given < 3) {
    read.problem(`${names.cert}, ${names.key} and ${names.ca} go together: set all three or none.`);
    return null;
  }
  const material = {} as TlsMaterial;
  for (const part of ['cert', 'key', 'ca'] as const) {
    try {
      material[part] = fs.readFileSync(files[part]!, 'utf8');
    } catch {
      read.problem(`${names[part]}: cannot read ${files[part]}.`);
    }
  }
  return material;
}
