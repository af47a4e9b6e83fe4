import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { markInPlaceRepair, readPartState, writePartState } from '../store/partState';
import type { FileTransferResult } from '../transfer/fileTransfer';
import type { Logger } from '../transfer/settings';
import { openRequest, type ScopedToken, type Transport } from '../transfer/http/httpClient';
import { partPath, type ManifestFile } from '../store/storeLayout';
import { hashPieces } from '../transfer/pieceHasher';

/** `auto` repairs an installed copy piece by piece; `full` downloads every file again (the old copy stays until verified). */
export type DownloadMode = 'auto' | 'full';

export interface TransferPlanInput {
  readonly modelId: string;
  readonly finalPath: string;
  readonly url: string;
  readonly auth?: ScopedToken;
  readonly transport?: Transport;
  /** The manifest's entry for this file, when it was installed with the content the catalog names. */
  readonly entry?: ManifestFile;
  readonly expectedSize?: number;
  readonly expectedSha256?: string;
  readonly mode: DownloadMode;
  /** The configured piece size, for files that have no piece size yet. */
  readonly pieceSize: number;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

export type TransferPlan =
  /** Run FileTransfer: it fetches whatever pieces the partial state lacks. */
  | { readonly kind: 'fetch'; readonly pieceSize: number; readonly expectedSha256?: string }
  /** The file on disk already verifies against the catalog; only its manifest entry was missing. */
  | { readonly kind: 'adopt'; readonly result: FileTransferResult };

/**
 * Decides how a file that is not ready gets ready, preparing the partial state so that FileTransfer's one
 * mechanism — fetch the missing pieces — does the rest: resume existing partial data; repair an installed
 * copy by moving it back to `.part` with its good pieces marked complete; or download the whole file while
 * the old copy stays at its path (no Range support, or more than half the pieces bad) until the new one
 * verifies and replaces it.
 */
export async function planTransfer(input: TransferPlanInput): Promise<TransferPlan> {
  const fresh: TransferPlan = { kind: 'fetch', pieceSize: input.pieceSize, expectedSha256: input.expectedSha256 };
  const part = await readPartState(input.finalPath);
  if (part && part.url === input.url && (await isFile(partPath(input.finalPath)))) {
    return { kind: 'fetch', pieceSize: part.pieceSize, expectedSha256: input.expectedSha256 ?? part.sha256 };
  }
  const stat = await fs.stat(input.finalPath).catch(() => undefined);
  if (!stat?.isFile() || input.mode === 'full') return fresh;
  const name = path.basename(input.finalPath);
  const { entry } = input;
  // A file hard-linked from another tool's store shares its bytes: repairing it in place would write into that tool's file.
  if (entry && stat.nlink > 1) {
    input.logger.warn(`${name} is linked from another tool's store; downloading it whole (that file is left as it is)`, input.modelId);
    return fresh;
  }
  if (entry && (input.expectedSize === undefined || input.expectedSize === entry.size)) {
    const good = await goodPieces(input.finalPath, entry, stat.size, input.signal);
    const bad = entry.pieces.length - good.length;
    // A truncated tail is missing, not damaged: only damage inside what is left argues for a fresh download.
    const left = Math.min(entry.pieces.length, Math.ceil(Math.min(stat.size, entry.size) / entry.pieceSize));
    if ((left - good.length) * 2 > left) {
      input.logger.warn(`${name}: ${bad} of ${entry.pieces.length} pieces are bad; downloading the whole file again (the old copy stays until the new one is verified)`, input.modelId);
      return fresh;
    }
    if (!(await rangeSupported(input, entry.size))) {
      input.logger.warn(`${name}: the server does not support Range requests; downloading the whole file again (the old copy stays until the new one is verified)`, input.modelId);
      return fresh;
    }
    // The state goes first: killed before the rename, the next run finds the installed file and plans again.
    if (stat.size > entry.size) await fs.truncate(input.finalPath, entry.size);
    await writePartState(input.finalPath, {
      formatVersion: 1, url: input.url, size: entry.size, pieceSize: entry.pieceSize, sha256: input.expectedSha256 ?? entry.sha256,
      rangeSupported: true, completePieces: good, updatedAt: new Date().toISOString(),
    });
    await markInPlaceRepair(input.finalPath);
    await fs.rename(input.finalPath, partPath(input.finalPath));
    input.logger.info(`${name}: repairing ${bad} of ${entry.pieces.length} pieces in place`, input.modelId);
    return { kind: 'fetch', pieceSize: entry.pieceSize, expectedSha256: input.expectedSha256 ?? entry.sha256 };
  }
  if (!entry && input.expectedSha256 && input.expectedSize === stat.size) {
    const hashed = await hashPieces({ file: input.finalPath, size: stat.size, pieceSize: input.pieceSize, whole: true, pieces: true, signal: input.signal });
    if (hashed.sha256 === input.expectedSha256) {
      input.logger.info(`${name}: the file on disk matches the catalog's sha256; recording it without downloading`, input.modelId);
      return { kind: 'adopt', result: { url: input.url, size: stat.size, sha256: hashed.sha256, pieceSize: input.pieceSize, pieces: hashed.pieces, pieceAlgorithm: hashed.pieceAlgorithm } };
    }
  }
  return fresh;
}

/** Pieces of the installed copy that still match the manifest: from the last full check when the size is right, else hashed now. */
async function goodPieces(file: string, entry: ManifestFile, size: number, signal: AbortSignal): Promise<number[]> {
  const all = entry.pieces.map((_, i) => i);
  if (size === entry.size && entry.damagedPieces?.length) {
    const damaged = new Set(entry.damagedPieces);
    return all.filter((i) => !damaged.has(i));
  }
  // Only whole pieces can be judged; a truncated tail is simply missing.
  const length = size >= entry.size ? entry.size : Math.floor(size / entry.pieceSize) * entry.pieceSize;
  const { pieces } = await hashPieces({ file, size: length, pieceSize: entry.pieceSize, pieceAlgorithm: entry.pieceAlgorithm ?? 'sha256', whole: false, pieces: true, signal });
  return all.filter((i) => pieces[i] !== undefined && pieces[i] === entry.pieces[i]);
}

/**
 * Asks for the range just past the end: a server that supports Range answers 416 with no body, so the
 * probe costs no data. Only a plain 200 (the server ignores Range) rules piece repair out; errors are
 * left to the transfer, which retries them.
 */
async function rangeSupported(input: TransferPlanInput, size: number): Promise<boolean> {
  try {
    const { url, auth, signal, transport } = input;
    const res = await openRequest({ url, headers: { range: `bytes=${size}-` }, auth, signal, transport });
    res.body.destroy();
    return res.status !== 200;
  } catch {
    return true;
  }
}

async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then((s) => s.isFile(), () => false);
}
