import { GraphQLError } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';

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
              name ? `The document has no operation named "${name}".` : 'The document has several operations: name the one to run with operationName.',
              { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } },
            );
          }
          if (operation.operation === 'subscription') {
            throw new GraphQLError('Citizen Graph has no subscriptions; send a query or a mutation.', {
              extensions: { code: 'OPERATION_NOT_SUPPORTED', http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
