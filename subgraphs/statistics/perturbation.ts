/**
 * Cell-key perturbation (docs/DESIGN.md "Statistics"), as statistics offices' table builders do it (the ABS
 * TableBuilder, the ONS's Cantabular). Every record carries a fixed random record key in [0, RECORD_KEY_RANGE); a
 * cell's key is the sum of its records' keys modulo the range, so the same records give the same key whichever
 * query reaches the cell. The perturbation table maps (count, cell key) to the published count:
 *
 *   count 0            0 (an empty cell holds nobody to protect)
 *   count 1..T         0 or T+1, T+1 with probability count/(T+1): unbiased, and never a value in 1..T, so a
 *                      small cell's change between two tables is 0 or T+1, never the one person who moved or died
 *   count > T          count + d, d in [-D, D] with triangular weights (D+1-|d|), never below T+1
 *
 * The cell key is used as a uniform random number: key k stands for (k + 0.5) / RANGE.
 */
export const RECORD_KEY_RANGE = 256;

export interface DisclosureParameters {
  /** T: counts from 1 to T are never published as such. */
  threshold: number;
  /** T for tables that use a sensitive dimension (ethnicity, religion). */
  sensitiveThreshold: number;
  /** D: the most a count above T moves. */
  maxPerturbation: number;
}

/** The cumulative boundaries (in cell-key units) of the noise d = -D..D for counts above T. */
function noiseBoundaries(maxPerturbation: number): { d: number; below: number }[] {
  const D = maxPerturbation;
  const total = (D + 1) * (D + 1);
  let cumulative = 0;
  const rows: { d: number; below: number }[] = [];
  for (let d = -D; d <= D; d++) {
    cumulative += D + 1 - Math.abs(d);
    rows.push({ d, below: Math.round((RECORD_KEY_RANGE * cumulative) / total) });
  }
  return rows;
}

export interface Perturbation {
  threshold: number;
  publish(count: number, cellKey: number): number;
}

export function perturbation(threshold: number, maxPerturbation: number): Perturbation {
  const noise = noiseBoundaries(maxPerturbation);
  const shown = threshold + 1;
  return {
    threshold,
    publish(count, cellKey) {
      if (!Number.isInteger(count) || count < 0) throw new Error(`a count is a whole number, not ${count}`);
      if (!Number.isInteger(cellKey) || cellKey < 0 || cellKey >= RECORD_KEY_RANGE) throw new Error(`a cell key is in [0, ${RECORD_KEY_RANGE}), not ${cellKey}`);
      if (count === 0) return 0;
      if (count <= threshold) return cellKey < Math.round((RECORD_KEY_RANGE * count) / shown) ? shown : 0;
      const d = noise.find((row) => cellKey < row.below)!.d;
      return Math.max(count + d, shown);
    },
  };
}
