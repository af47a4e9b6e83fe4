/** The largest piece: small enough that repairing one damaged piece stays cheap. */
export const MAX_PIECE_SIZE = 16 * 1024 * 1024;

/**
 * Which pieces of a file are on disk. Every download is "fetch the missing pieces": a fresh file has all
 * pieces missing, a resume some, a repair marks damaged ones missing again.
 */
export class PieceMap {
  private readonly done: Uint8Array;

  constructor(readonly size: number, readonly pieceSize: number, complete?: Iterable<number>) {
    if (!(pieceSize > 0 && pieceSize <= MAX_PIECE_SIZE)) throw new Error(`invalid piece size ${pieceSize}`);
    this.done = new Uint8Array(Math.ceil(size / pieceSize));
    for (const i of complete ?? []) if (i >= 0 && i < this.done.length) this.done[i] = 1;
  }

  get count(): number {
    return this.done.length;
  }

  start(index: number): number {
    return index * this.pieceSize;
  }

  /** Exclusive end offset of a piece. */
  end(index: number): number {
    return Math.min(this.size, (index + 1) * this.pieceSize);
  }

  isComplete(index: number): boolean {
    return this.done[index] === 1;
  }

  markComplete(index: number): void {
    this.done[index] = 1;
  }

  markMissing(indices: Iterable<number>): void {
    for (const i of indices) this.done[i] = 0;
  }

  reset(): void {
    this.done.fill(0);
  }

  missing(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.done.length; i++) if (this.done[i] === 0) out.push(i);
    return out;
  }

  completeIndices(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.done.length; i++) if (this.done[i] === 1) out.push(i);
    return out;
  }

  get allComplete(): boolean {
    return this.done.every((d) => d === 1);
  }

  bytesComplete(): number {
    let sum = 0;
    for (let i = 0; i < this.done.length; i++) if (this.done[i] === 1) sum += this.end(i) - this.start(i);
    return sum;
  }

  /** The offset up to which every piece is complete: what the whole-file hasher may read. */
  contiguousEnd(): number {
    let i = 0;
    while (i < this.done.length && this.done[i] === 1) i++;
    return i >= this.done.length ? this.size : this.start(i);
  }
}
