/** Order statistics of a set of samples, in the samples' unit. */
export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly p95: number;
  readonly max: number;
  readonly mean: number;
}

/**
 * The `p`-th percentile (0 < p <= 100) by the nearest-rank method: the
 * smallest sample that at least p% of the samples are less than or equal to.
 * It is always one of the samples, so a p95 over 30 samples is the second
 * largest, never an interpolation between two runs.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  if (!(p > 0 && p <= 100)) throw new RangeError(`Expected a percentile in (0, 100], got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Median (the nearest-rank p50; for an even count, the lower middle sample), p95, max and friends. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) return { n: 0, min: Number.NaN, median: Number.NaN, p95: Number.NaN, max: Number.NaN, mean: Number.NaN };
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const x of samples) {
    min = Math.min(min, x);
    max = Math.max(max, x);
    sum += x;
  }
  return { n: samples.length, min, median: percentile(samples, 50), p95: percentile(samples, 95), max, mean: sum / samples.length };
}

/** A millisecond figure for tables: 3 significant digits below 100 ms, whole ms above, seconds past 10 s. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}
