/** A byte range [start, end). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * A set of byte offsets kept as sorted, disjoint, non-adjacent ranges: the bytes of unfinished pieces
 * already on disk (a piece split between connections completes when all its bytes are there), and what
 * the connections own. Small: a few ranges per connection.
 */
export class ByteRanges {
  private ranges: ByteRange[] = [];

  add(start: number, end: number): void {
    if (end <= start) return;
    const kept: ByteRange[] = [];
    let merged = { start, end };
    for (const r of this.ranges) {
      if (r.end < merged.start || r.start > merged.end) kept.push(r);
      else merged = { start: Math.min(r.start, merged.start), end: Math.max(r.end, merged.end) };
    }
    kept.push(merged);
    this.ranges = kept.sort((a, b) => a.start - b.start);
  }

  remove(start: number, end: number): void {
    this.ranges = this.ranges.flatMap((r) => {
      if (r.end <= start || r.start >= end) return [r];
      return [{ start: r.start, end: start }, { start: end, end: r.end }].filter((p) => p.end > p.start);
    });
  }

  covers(start: number, end: number): boolean {
    return this.ranges.some((r) => r.start <= start && r.end >= end);
  }

  total(): number {
    return this.ranges.reduce((sum, r) => sum + r.end - r.start, 0);
  }

  /** The parts of [start, end) not in the set, in order. */
  gaps(start: number, end: number): ByteRange[] {
    const out: ByteRange[] = [];
    let at = start;
    for (const r of this.ranges) {
      if (r.end <= at) continue;
      if (r.start >= end) break;
      if (r.start > at) out.push({ start: at, end: r.start });
      at = Math.max(at, r.end);
    }
    if (at < end) out.push({ start: at, end });
    return out;
  }
}

/**
 * How far bytes reach without a gap from offset 0, as ranges come in any order: the ranges past the gap
 * are kept until the gap closes.
 */
export class ContiguousRun {
  private reach = 0;
  private readonly ahead = new ByteRanges();

  get end(): number {
    return this.reach;
  }

  add(start: number, end: number): number {
    if (end <= this.reach) return this.reach;
    if (start > this.reach) {
      this.ahead.add(start, end);
      return this.reach;
    }
    this.ahead.add(this.reach, end);
    const [first] = this.ahead.gaps(this.reach, Number.MAX_SAFE_INTEGER);
    this.reach = first?.start ?? this.reach;
    this.ahead.remove(0, this.reach);
    return this.reach;
  }
}
