import crypto from 'node:crypto';
import type { Context } from './context';
import { completeBirth, RECORDED } from './birth-writes';

/**
 * Registrations recorded while the Resident Information Center could not be reached wait for their
 * child's personal code (cg_yeu_cau_khai_sinh, state CHO_CAP_SO). This finishes them, oldest first,
 * one at a time so a residents service that just came back is not flooded; completeBirth is safe to run
 * again and alongside a client's retry (see birth-writes.ts).
 */
export async function completePendingBirths(ctx: Pick<Context, 'db' | 'services'>, limit = 100): Promise<{ completed: number; waiting: number }> {
  const pending = await ctx.db.prisma.birthRequest.findMany({
    where: { status: 'CHO_CAP_SO' },
    orderBy: { createdAt: 'asc' },
    take: limit,
    include: RECORDED,
  });
  let completed = 0;
  for (const request of pending) {
    const caller = { actor: request.actor, requestId: `completion-${crypto.randomUUID()}`, service: null, principal: null, credentialed: true, recordedByGateway: false, permissions: null };
    const result = await completeBirth(request, caller, ctx);
    if (result.status === 'HOAN_TAT') completed += 1;
    else break; // residents still unreachable: try again next round
  }
  return { completed, waiting: pending.length - completed };
}

/** Runs completePendingBirths every `intervalMs` (never two rounds at once); returns a stop function. */
export function startBirthCompletion(ctx: Pick<Context, 'db' | 'services'>, intervalMs: number, log = console.error): () => void {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      const { completed } = await completePendingBirths(ctx);
      if (completed > 0) console.log(`[birth-registry] completed ${completed} pending birth registration(s)`);
    } catch (error) {
      log('[birth-registry] background completion failed:', error);
    } finally {
      running = false;
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
