import * as path from 'node:path';
import type { ModelEntry, ModelFile } from '../catalog/catalogTypes';
import { DownloadError } from '../core/downloadError';
import type { CredentialLookup, ScopedToken } from '../transfer/http/httpClient';
import { withRetries } from '../transfer/retryBudget';
import { hfEndpoint, resolveHubFile } from '../transfer/http/huggingFace';
import type { SpeedLimiter } from '../transfer/speedLimiter';
import { planTransfer, type DownloadMode } from './transferPlan';
import { reuseLocalCopy } from './adoption';
import type { ForeignLocation } from '../store/foreign/foundFile';
import { recordVerifiedFile } from '../store/manifestWriter';
import { scanModel } from '../store/storeScanner';
import type { StoreLayout } from '../store/storeLayout';
import { withFileLock } from '../store/fileLock';
import { linkFromOtherVersion } from '../store/versionCopy';
import { formatBytes } from '../core/format';
import { downloadedWords } from './health';
import { FileTransfer, type TransferIo } from '../transfer/fileTransfer';
import type { DownloadSettings, Logger } from '../transfer/settings';

export interface ModelDownloadContext {
  readonly layout: StoreLayout;
  readonly settings: () => DownloadSettings;
  readonly limiter: SpeedLimiter;
  readonly logger: Logger;
  readonly credentials?: CredentialLookup;
  readonly hfEndpoint?: string;
  readonly io?: TransferIo;
  readonly lockStaleMs?: number;
  /** `full` (Re-download) fetches every file again, even ready ones. */
  readonly mode?: DownloadMode;
  /** Other tools' stores to take a verified copy from instead of downloading (none: always download). */
  readonly localCopies?: () => Promise<readonly ForeignLocation[]>;
}

export interface ModelProgress {
  readonly bytesDone: number;
  readonly total?: number;
  /** True while another process downloads this model's current file and we only watch. */
  readonly followingOtherProcess: boolean;
}

interface ResolvedFile {
  readonly url: string;
  /** The commit a hub revision resolved to. */
  readonly commit?: string;
  readonly size?: number;
  readonly sha256?: string;
  readonly auth?: ScopedToken;
}

/**
 * Brings every file of a model into the store, verified, one file after another. A file that was installed
 * but is damaged is repaired: only its bad pieces are fetched (see planTransfer).
 */
export async function downloadModel(ctx: ModelDownloadContext, model: ModelEntry, signal: AbortSignal, onProgress: (p: ModelProgress) => void): Promise<void> {
  const stored = await scanModel(ctx.layout, model);
  const started = Date.now();
  let finishedBytes = 0;
  const total: number | undefined = model.files.reduce<number | undefined>((s, f) => (s === undefined || f.size === undefined ? undefined : s + f.size), 0);
  let transferred = 0;
  const unverifiable: string[] = [];
  for (const file of model.files) {
    const current = stored.files.find((f) => f.path === file.path);
    if (current?.state === 'ready' && ctx.mode !== 'full') {
      finishedBytes += current.bytesOnDisk;
      if (current.manifest?.sha256Expected === false) unverifiable.push(file.path);
      continue;
    }
    const finalPath = ctx.layout.filePath(model.id, model.version, file.path);
    // The hub's answers are retried like any transient failure (offline, DNS, 5xx).
    const resolved = await withRetries({ settings: ctx.settings, signal, warn: (message) => ctx.logger.warn(`${file.path}: ${message}`, model.id) }, () => resolveSource(ctx, file, signal));
    // Without catalog sizes, a one-file model still gets a total once the server tells the file's size.
    const report = (done: number, following: boolean, fileTotal?: number): void => onProgress({
      bytesDone: finishedBytes + done, total: total ?? (model.files.length === 1 ? fileTotal : undefined), followingOtherProcess: following,
    });
    const outcome = await withFileLock(finalPath, {
      staleMs: ctx.lockStaleMs ?? 10_000,
      signal,
      onOtherProgress: (done, size) => report(done, true, size),
      onWaiting: () => ctx.logger.info(`${file.path}: another process is downloading it; following its progress`, model.id),
    }, async (lockedSignal) => {
      // An update: a file the installed version already has is linked, not downloaded; it keeps the time it was verified.
      const linked = resolved.sha256 && ctx.mode !== 'full' ? await linkFromOtherVersion(ctx.layout, model.id, model.version, resolved.sha256, finalPath) : undefined;
      if (linked) {
        ctx.logger.info(`${file.path}: unchanged since version installed before; linked locally`, model.id);
        return { result: { url: resolved.url, size: linked.size, sha256: linked.sha256, pieceSize: linked.pieceSize, pieces: linked.pieces, pieceAlgorithm: linked.pieceAlgorithm }, transferred: false, verifiedAt: linked.verifiedAt };
      }
      const reused = await reuseLocalCopy(await ctx.localCopies?.() ?? [], { file, ...resolved }, finalPath, {
        modelId: model.id, pieceSize: ctx.settings().pieceSizeBytes, logger: ctx.logger, signal: lockedSignal, onBytes: (done) => report(done, false, resolved.size),
      });
      if (reused) return { result: { ...reused, url: resolved.url }, transferred: false };
      const plan = await planTransfer({
        modelId: model.id, finalPath, url: resolved.url, auth: resolved.auth, transport: ctx.settings().transport, entry: current?.manifest, expectedSize: resolved.size,
        expectedSha256: resolved.sha256, mode: ctx.mode ?? 'auto', pieceSize: ctx.settings().pieceSizeBytes, logger: ctx.logger, signal: lockedSignal,
      });
      if (plan.kind === 'adopt') return { result: plan.result, transferred: false };
      ctx.logger.info(`downloading ${file.path} from ${resolved.url}`, model.id);
      const transfer = new FileTransfer({
        modelId: model.id, finalPath, url: resolved.url, auth: resolved.auth, isHub: file.source.kind === 'hf',
        expectedSize: resolved.size, expectedSha256: plan.expectedSha256,
        // A repair or resume keeps the piece size its partial state was made with.
        settings: () => ({ ...ctx.settings(), pieceSizeBytes: plan.pieceSize }),
        limiter: ctx.limiter, logger: ctx.logger, io: ctx.io, onProgress: (done, size) => report(done, false, size),
      });
      return { result: await transfer.run(lockedSignal), transferred: true };
    });
    if (outcome.kind === 'installedByOther') {
      ctx.logger.info(`${file.path} was installed by another process`, model.id);
      const rescanned = await scanModel(ctx.layout, model);
      finishedBytes += rescanned.files.find((f) => f.path === file.path)?.bytesOnDisk ?? 0;
      continue;
    }
    const { result } = outcome.value;
    if (resolved.sha256 === undefined) unverifiable.push(file.path);
    // One instant: the file was installed when it was verified.
    const now = new Date().toISOString();
    const verifiedAt = ('verifiedAt' in outcome.value ? outcome.value.verifiedAt : undefined) ?? now;
    await recordVerifiedFile(ctx.layout, model.id, model.version, {
      path: file.path, source: file.source, url: result.url, size: result.size, sha256: result.sha256,
      sha256Expected: resolved.sha256 !== undefined, pieceSize: result.pieceSize, pieces: result.pieces, pieceAlgorithm: result.pieceAlgorithm,
      verifiedAt, installedAt: now,
    });
    finishedBytes += result.size;
    if (outcome.value.transferred) transferred += result.size;
    report(0, false);
  }
  const seconds = Math.max(0.001, (Date.now() - started) / 1000);
  ctx.logger.info(`${downloadedWords(unverifiable)} (${formatBytes(finishedBytes)}; average ${formatBytes(transferred / seconds)}/s)`, model.id);
}

async function resolveSource(ctx: ModelDownloadContext, file: ModelFile, signal: AbortSignal): Promise<ResolvedFile> {
  if (file.source.kind === 'url') {
    return { url: file.source.url, size: file.size, sha256: file.sha256?.toLowerCase(), auth: await credentialFor(ctx, file.source.url) };
  }
  const endpoint = ctx.hfEndpoint ?? hfEndpoint();
  const hub = await resolveHubFile(file.source, { endpoint, auth: await credentialFor(ctx, endpoint), signal, transport: ctx.settings().transport });
  const sha256 = file.sha256?.toLowerCase() ?? hub.sha256;
  if (file.sha256 && hub.sha256 && file.sha256.toLowerCase() !== hub.sha256) {
    throw new DownloadError('fatal', `${path.basename(file.path)}: the catalog's sha256 differs from the hub's (${hub.sha256})`, { code: 'checksum' });
  }
  return { url: hub.url, commit: hub.commit, size: file.size ?? hub.size, sha256, auth: hub.auth };
}

/** The credential for the URL's origin, scoped to it. */
export async function credentialFor(ctx: Pick<ModelDownloadContext, 'credentials'>, url: string): Promise<ScopedToken | undefined> {
  const origin = new URL(url).origin;
  const credential = await ctx.credentials?.(origin);
  return credential ? { ...credential, origin } : undefined;
}
