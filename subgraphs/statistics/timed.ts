/**
 * Runs a step of a rebuild or cube build and logs how long it took: "<what> in 12.3 s". `what` may be made from the
 * step's result (how many rows it wrote).
 */
export async function timed<T>(log: (line: string) => void, what: string | ((result: T) => string), step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await step();
  log(`${typeof what === 'string' ? what : what(result)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}
