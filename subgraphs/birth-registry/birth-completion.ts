import type { Context } from './context';
import { completeBirth, RECORDED } from './birth-writes';
import { inScope } from '../../lib/request-scope';
import { traceFrom } from '../../lib/trace-context';
import type { Logger } from '../../lib/log';
import { REQUEST_STATUS } from './codes';

/**
 * Registrations recorded while the Resident Information Center could not be reached wait for their
 * child's personal code (cg_yeu_cau_khai_sinh, state AWAITING_CODE). This finishes them, oldest first,
 * one at a time so a residents service that just came back is not flooded; completeBirth is safe to run
 * again and alongside a client's retry (see birth-writes.ts). Each completion goes under the request id of the
 * client request that registered the birth, so the audit records of the code it asks residents for (and the
 * log lines) name that request; each is a trace of its own.
 */
export async function completePendingBirths(ctx: Pick<Context, 'db' | 'services' | 'log'>, limit = 100): Promise<{ completed: number; waiting: number }> {
  const pending = await ctx.db.prisma.birthRequest.findMany({
    where: { status: REQUEST_STATUS.encode('AWAITING_CODE') },
    orderBy: { createdAt: 'asc' },
    take: limit,
    include: RECORDED,
  });
  let completed = 0;
  for (const request of pending) {
    const caller = { actor: request.actor, requestId: request.requestId, service: null, principal: null, credentialed: true, recordedByGateway: false, permissions: null };
    const result = await inScope({ requestId: request.requestId, trace: traceFrom(undefined) }, () => completeBirth(request, caller, ctx));
    if (REQUEST_STATUS.decode(result.status) === 'COMPLETED') completed += 1;
    else break; // residents still unreachable: try again next round
  }
  return { completed, waiting: pending.length - completed };
}

/** Runs completePendingBirths every `intervalMs` (never two rounds at once); returns a stop function. */
export function startBirthCompletion(ctx: Pick<Context, 'db' | 'services' | 'log'>, intervalMs: number): () => void {
  const log: Logger = ctx.log.child({ component: 'birth-completion' });
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      const { completed } = await completePendingBirths(ctx);
      if (completed > 0) log.info({ completed }, 'completed pending birth registrations');
    } catch (error) {
      log.error({ err: error }, 'background completion failed');
    } finally {
      running = false;
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
