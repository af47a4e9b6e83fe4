/**
 * Generation durations of one model in one window, as something that answers "the value at rank r":
 * either the exact sorted values (few samples) or a histogram (many, or past retention).
 */
export interface DurationSample {
  readonly count: number;
  /** True when `valueAt` is exact; false when it is within RELATIVE_ERROR of the exact value. */
  readonly exact: boolean;
  /** The value at 1-based `rank` in ascending order. */
  valueAt(rank: number): number;
}

/** The middle value, or the mean of the two middle ones. */
export function median(s: DurationSample): number {
  const mid = s.count >> 1;
  return s.count % 2 === 1 ? s.valueAt(mid + 1) : (s.valueAt(mid) + s.valueAt(mid + 1)) / 2;
}

/** Nearest-rank percentile: the smallest value with at least `p` of the values at or below it. */
export function percentile(s: DurationSample, p: number): number {
  return s.valueAt(Math.max(1, Math.ceil(p * s.count)));
}

export class SortedDurations implements DurationSample {
  readonly exact = true;
  constructor(private readonly sorted: Float64Array) {}

  get count(): number {
    return this.sorted.length;
  }

  valueAt(rank: number): number {
    return this.sorted[rank - 1];
  }
}

/**
 * Histogram bounds (DDSketch-style log buckets). A duration v ≥ 1 ms goes to bucket k = 1 + ceil(log_γ v),
 * which covers (γ^(k-2), γ^(k-1)] and is read back as 2γ^(k-1)/(γ+1): within RELATIVE_ERROR of every value
 * in it. Every order statistic read from a histogram, hence every median (a mean of two of them) and
 * nearest-rank percentile, is therefore within 1% of the exact one. Bucket 0 holds durations ≤ 0, read as 0.
 * Durations are whole milliseconds (the merge rounds them). γ and this numbering are part of the file
 * format: changing them needs a migration.
 */
export const RELATIVE_ERROR = 0.01;
const GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR);
const LOG_GAMMA = Math.log(GAMMA);

/**
 * For estimates a and b each within RELATIVE_ERROR of the truth, the true a/b lies in
 * [(a/b) / RATIO_ERROR, (a/b) * RATIO_ERROR]; a hair wider than γ to absorb floating-point rounding.
 */
export const RATIO_ERROR = GAMMA * (1 + 1e-9);

export function bucketOf(ms: number): number {
  return ms <= 0 ? 0 : 1 + Math.max(0, Math.ceil(Math.log(ms) / LOG_GAMMA));
}

export function bucketValue(bucket: number): number {
  return bucket === 0 ? 0 : (2 * GAMMA ** (bucket - 1)) / (GAMMA + 1);
}

/**
 * Counts per bucket. Stored in `daily.duration_hist` as unsigned LEB128 varints: the first non-empty
 * bucket, then every count from it to the last non-empty one (dense: ~1 byte a bucket, ~150 buckets for
 * durations spread over 0.2–4 s).
 */
export class DurationHistogram implements DurationSample {
  readonly exact = false;
  private readonly counts: number[] = [];
  private total = 0;

  get count(): number {
    return this.total;
  }

  add(ms: number): void {
    this.addToBucket(bucketOf(ms), 1);
  }

  /** Adds the counts of an encoded histogram. */
  addEncoded(blob: Uint8Array): void {
    const reader = { blob, at: 0 };
    let bucket = readVarint(reader);
    while (reader.at < blob.length) {
      const times = readVarint(reader);
      if (times > 0) this.addToBucket(bucket, times);
      bucket++;
    }
  }

  private addToBucket(bucket: number, times: number): void {
    while (this.counts.length <= bucket) this.counts.push(0);
    this.counts[bucket] += times;
    this.total += times;
  }

  encode(): Uint8Array {
    const first = this.counts.findIndex((c) => c > 0);
    if (first < 0) return Uint8Array.of(0);
    const out: number[] = [];
    writeVarint(out, first);
    let last = this.counts.length - 1;
    while (this.counts[last] === 0) last--;
    for (let k = first; k <= last; k++) writeVarint(out, this.counts[k]);
    return Uint8Array.from(out);
  }

  valueAt(rank: number): number {
    let seen = 0;
    for (let k = 0; k < this.counts.length; k++) {
      seen += this.counts[k];
      if (seen >= rank) return bucketValue(k);
    }
    throw new RangeError(`rank ${rank} of ${this.total}`);
  }
}

function writeVarint(out: number[], n: number): void {
  // Division, not bit shifts: counts may pass 2^31.
  for (; n >= 128; n = Math.floor(n / 128)) out.push((n % 128) + 128);
  out.push(n);
}

function readVarint(r: { readonly blob: Uint8Array; at: number }): number {
  let n = 0;
  for (let scale = 1; ; scale *= 128) {
    if (r.at >= r.blob.length) throw new Error('truncated duration histogram');
    const byte = r.blob[r.at++];
    n += (byte % 128) * scale;
    if (byte < 128) return n;
  }
}
