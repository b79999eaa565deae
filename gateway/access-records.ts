/**
 * The gateway's half of audit recording for client requests (the subgraphs' half, and why, is at
 * lib/access/subgraph-access.ts' auditPlugin): each subgraph call's credential asks the subgraph to return
 * its access record rather than write it; the records of every call of a client request are gathered here
 * and written in one call to the gateway's audit writer, whose group commit shares one transaction among
 * concurrent requests, before the response leaves. If they cannot be written, the client gets
 * AUDIT_UNAVAILABLE and no data.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import type { AuditEntry, AuditSink } from '../lib/access/audit-entry';
import { ACCESS_RECORD_EXTENSION, withholdUnrecorded } from '../lib/access/subgraph-access';

/** A subgraph's response as the gateway's data source receives it. */
type SubgraphResponse = Parameters<NonNullable<RemoteGraphQLDataSource['didReceiveResponse']>>[0]['response'];

export interface AccessRecordContext {
  /** What the subgraphs reported this request accessed, in the order their answers came. */
  accessRecords?: AuditEntry[];
}

/**
 * Takes a subgraph's access record off its response (so nothing of it can reach the client) into the
 * request's. The agency is the subgraph the gateway called, whatever the record says; a record that is not
 * a list is kept as an invalid entry, so that the writer refuses it and the response is withheld.
 */
export function takeAccessRecord(response: SubgraphResponse, agency: string, context: AccessRecordContext): void {
  const extensions = response.extensions;
  if (!extensions || !(ACCESS_RECORD_EXTENSION in extensions)) return;
  const record = extensions[ACCESS_RECORD_EXTENSION];
  delete extensions[ACCESS_RECORD_EXTENSION];
  const entries = Array.isArray(record) ? (record as AuditEntry[]) : [{} as AuditEntry];
  (context.accessRecords ??= []).push(...entries.map((entry) => ({ ...entry, agency })));
}

export function accessRecordPlugin(audit: AuditSink, log: (message: string, error: unknown) => void): ApolloServerPlugin<AccessRecordContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          const entries = contextValue.accessRecords;
          if (!entries || entries.length === 0) return;
          try {
            await audit.record(entries);
          } catch (error) {
            log('could not record the accesses of a request; the response is withheld', error);
            withholdUnrecorded(response);
          }
        },
      };
    },
  };
}
