// Numbers from reader results: merged latency histograms (the buckets of reader.c),
// percentiles, and a least-squares slope for growth over time.
import type { ReaderResult } from './readers.js';

const SUB_BITS = 5;
const SUB_COUNT = 1 << SUB_BITS;

/** The range [low, low + width) of bucket `idx` in ns, mirroring reader.c's bucket_of. */
export function bucketRange(idx: number): { low: number; width: number } {
  if (idx < 2 * SUB_COUNT) return { low: idx, width: 1 };
  const msb = Math.floor(idx / SUB_COUNT) + SUB_BITS - 1;
  const mantissa = (idx % SUB_COUNT) + SUB_COUNT;
  const shift = msb - SUB_BITS;
  return { low: mantissa * 2 ** shift, width: 2 ** shift };
}

export class Histogram {
  private readonly counts = new Map<number, number>();
  total = 0;
  maxNs = 0;

  add(result: Pick<ReaderResult, 'hist' | 'maxNs'>): void {
    for (const [idx, n] of result.hist) {
      this.counts.set(idx, (this.counts.get(idx) ?? 0) + n);
      this.total += n;
    }
    this.maxNs = Math.max(this.maxNs, result.maxNs);
  }

  merge(other: Histogram): void {
    this.add({ hist: [...other.counts.entries()], maxNs: other.maxNs });
  }

  /** The q-quantile in ns (bucket midpoint, ~3% precision); 0 when empty. */
  quantileNs(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (const idx of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(idx)!;
      if (seen >= rank) {
        const { low, width } = bucketRange(idx);
        return Math.min(low + width / 2, this.maxNs);
      }
    }
    return this.maxNs;
  }
}

/** Slope of y over x by least squares (0 with fewer than two points). */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  const sxy = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  return sxx === 0 ? 0 : sxy / sxx;
}
