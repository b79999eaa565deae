import { GraphQLError } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { message } from '../lib/i18n/messages';

/**
 * Requests whose operation the gateway cannot run, refused as the client's mistake (HTTP 400) before any
 * other check: an operationName the document does not have (or several operations and no name), and a
 * subscription (the graph has none). Left alone, both reach @apollo/gateway's executor and come back as
 * an internal error (HTTP 500), which monitoring would count as a fault of ours.
 */
export function operationResolutionPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request }) {
          if (!operation) {
            const name = typeof request.operationName === 'string' ? request.operationName.slice(0, 100) : null;
            throw new GraphQLError(
              name ? message('OPERATION_NOT_FOUND', { name }) : message('OPERATION_NAME_REQUIRED'),
              { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } },
            );
          }
          if (operation.operation === 'subscription') {
            throw new GraphQLError(message('SUBSCRIPTION_NOT_SUPPORTED'), {
              extensions: { code: 'OPERATION_NOT_SUPPORTED', http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
