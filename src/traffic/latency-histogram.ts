/**
 * Latency histogram in fixed memory: log-scale buckets (8 per doubling, so a percentile is within ~9%)
 * from 50 us to about 7 minutes. One per host, so its size must not grow with traffic.
 */
const SUB_BUCKETS = 8;
const MIN_MS = 0.05;
const OCTAVES = 24;
const BUCKETS = OCTAVES * SUB_BUCKETS;

export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS + 1);
  #total = 0;

  record(ms: number): void {
    const bucket = bucketOf(ms);
    this.#counts[bucket] = (this.#counts[bucket] ?? 0) + 1;
    this.#total++;
  }

  get count(): number {
    return this.#total;
  }

  /** The latency below which a fraction `q` (0..1) of the recorded ones fall (upper bucket bound). */
  percentile(q: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i] ?? 0;
      if (seen >= rank) return upperBound(i);
    }
    return upperBound(BUCKETS);
  }
}

function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const index = Math.floor(Math.log2(ms / MIN_MS) * SUB_BUCKETS) + 1;
  return index > BUCKETS ? BUCKETS : index;
}

function upperBound(index: number): number {
  return MIN_MS * 2 ** (index / SUB_BUCKETS);
}
