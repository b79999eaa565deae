import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayContext } from './data-source';
import { withStatus } from './http-contract';

/**
 * Checks that run on every GraphQL request once its context (the caller) is known and before the
 * document is parsed: rate limits (gateway/rate-limit.ts) and trusted documents
 * (gateway/trusted-documents.ts). A check refuses by throwing (or rejecting: a limit shared through Redis
 * is asynchronous) a GraphQLError, whose `extensions.http` sets the status and headers; Apollo Server
 * answers with it (through formatError) and calls nothing.
 */
export type AdmissionCheck = (context: GatewayContext, req: IncomingMessage) => void | Promise<void>;

export function admitted(build: (req: IncomingMessage, res: ServerResponse) => GatewayContext | Promise<GatewayContext>, ...checks: AdmissionCheck[]) {
  return async ({ req, res }: { req: IncomingMessage; res: ServerResponse }): Promise<GatewayContext> => {
    try {
      const context = await build(req, res);
      for (const check of checks) await check(context, req);
      return context;
    } catch (error) {
      // A refusal whose thrower set no status gets its code's (gateway/http-contract.ts), never a 500.
      throw withStatus(error);
    }
  };
}
