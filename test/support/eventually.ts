/**
 * Waits for something another process or a timer does (a record shipped, a checkpoint written): reads
 * `value` every `everyMs` until `done` says so or `withinMs` has passed, and returns the last value read for the
 * test to assert on. A deadline in time, generous, rather than a count of tries: a busy machine only makes the
 * wait longer, never the test fail.
 */
export async function eventually<T>(value: () => T | Promise<T>, done: (value: T) => boolean, options: { withinMs?: number; everyMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.withinMs ?? 20_000);
  for (;;) {
    const current = await value();
    if (done(current) || Date.now() >= deadline) return current;
    await new Promise((wait) => setTimeout(wait, options.everyMs ?? 50));
  }
}
