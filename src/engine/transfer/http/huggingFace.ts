import type { HuggingFaceFileSource } from '../../catalog/catalogTypes';
import { DownloadError, httpStatusError } from '../../core/downloadError';
import { openRequest, type ScopedToken, type Transport } from './httpClient';
import { readText } from './responseBody';

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

export function hfEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT || DEFAULT_HF_ENDPOINT).replace(/\/+$/, '');
}

/** A hub file pinned to a commit, with what the hub says its content is. */
export interface ResolvedHubFile {
  readonly url: string;
  readonly commit: string;
  readonly size?: number;
  /** From `lfs.oid`; undefined for small non-LFS files (their oid is a git sha1). */
  readonly sha256?: string;
  readonly auth?: ScopedToken;
}

interface PathInfo {
  readonly type?: string;
  readonly path?: string;
  readonly size?: number;
  readonly lfs?: { readonly oid?: string; readonly size?: number };
}

/**
 * Resolves the revision to a commit (`/api/models/{repo}/revision/{rev}`) and takes size and sha256 from
 * the paths-info API, so a moving branch cannot change bytes under a resumed download.
 */
export interface HubRequestOptions {
  readonly endpoint?: string;
  /** The hub origin's credential (it is sent nowhere else). */
  readonly auth?: ScopedToken;
  readonly signal?: AbortSignal;
  readonly transport?: Transport;
}

export async function resolveHubFile(source: HuggingFaceFileSource, options: HubRequestOptions = {}): Promise<ResolvedHubFile> {
  const { endpoint = hfEndpoint(), auth, signal, transport } = options;
  const get = (url: string, body?: string): Promise<unknown> => getJson(url, { auth, signal, transport }, body);
  const repo = source.repo.split('/').map(encodeURIComponent).join('/');
  const info = await get(`${endpoint}/api/models/${repo}/revision/${encodeURIComponent(source.revision)}`);
  const commit = typeof info === 'object' && info !== null && typeof (info as { sha?: unknown }).sha === 'string'
    ? (info as { sha: string }).sha : undefined;
  if (!commit) throw new DownloadError('fatal', `the hub did not resolve ${source.repo}@${source.revision} to a commit`);
  // Form-encoded, as huggingface_hub sends it.
  const form = new URLSearchParams({ paths: source.file, expand: 'true' }).toString();
  const listing = await get(`${endpoint}/api/models/${repo}/paths-info/${commit}`, form);
  const entry = Array.isArray(listing) ? (listing as PathInfo[]).find((e) => e.path === source.file) : undefined;
  if (!entry) throw new DownloadError('fatal', `${source.file} not found in ${source.repo}@${source.revision}`, { code: 'not-found', fix: { kind: 'sourceNotFound' } });
  const file = source.file.split('/').map(encodeURIComponent).join('/');
  const sha256 = entry.lfs?.oid && /^[0-9a-f]{64}$/i.test(entry.lfs.oid) ? entry.lfs.oid.toLowerCase() : undefined;
  return { url: `${endpoint}/${repo}/resolve/${commit}/${file}`, commit, size: entry.lfs?.size ?? entry.size, sha256, auth };
}

/** What a branch or tag of a repository points at now: its commit, and each file's sha256 (LFS files) and size. */
export interface HubRevision {
  readonly commit: string;
  readonly files: ReadonlyMap<string, { readonly sha256?: string; readonly size?: number }>;
}

interface RepoSibling {
  readonly rfilename?: string;
  readonly size?: number;
  readonly lfs?: { readonly sha256?: string; readonly size?: number };
}

/** A 40-hex commit id: a revision pinned to it never moves. */
export function isCommit(revision: string): boolean {
  return /^[0-9a-f]{40}$/i.test(revision);
}

/** One request for a whole repository (`?blobs=true`, as huggingface_hub's `files_metadata`): its commit and files. */
async function repoInfo(repo: string, revision: string, options: HubRequestOptions): Promise<{ sha?: string; files: Map<string, { sha256?: string; size?: number }> }> {
  const { endpoint = hfEndpoint(), ...request } = options;
  const path = repo.split('/').map(encodeURIComponent).join('/');
  const info = await getJson(`${endpoint}/api/models/${path}/revision/${encodeURIComponent(revision)}?blobs=true`, request);
  const { sha, siblings } = typeof info === 'object' && info !== null ? (info as { sha?: unknown; siblings?: unknown }) : {};
  const files = new Map<string, { sha256?: string; size?: number }>();
  for (const s of Array.isArray(siblings) ? (siblings as RepoSibling[]) : []) {
    if (typeof s.rfilename !== 'string') continue;
    const sha256 = s.lfs?.sha256 && /^[0-9a-f]{64}$/i.test(s.lfs.sha256) ? s.lfs.sha256.toLowerCase() : undefined;
    files.set(s.rfilename, { sha256, size: s.lfs?.size ?? s.size });
  }
  return { sha: typeof sha === 'string' ? sha : undefined, files };
}

/** The size of every file of a repository at a revision, from one request: for showing sizes before anything is downloaded. */
export async function hubFileSizes(repo: string, revision: string, options: HubRequestOptions = {}): Promise<Map<string, number>> {
  const { files } = await repoInfo(repo, revision, options);
  return new Map([...files].flatMap(([name, f]) => (typeof f.size === 'number' ? [[name, f.size] as const] : [])));
}

/** Where a branch or tag points now, with each file's sha256, from one request per repository (update checks). */
export async function resolveHubRevision(repo: string, revision: string, options: HubRequestOptions = {}): Promise<HubRevision> {
  const { sha, files } = await repoInfo(repo, revision, options);
  if (!sha) throw new DownloadError('fatal', `the hub did not resolve ${repo}@${revision} to a commit`);
  return { commit: sha, files };
}

async function getJson(url: string, options: Pick<HubRequestOptions, 'auth' | 'signal' | 'transport'>, body?: string): Promise<unknown> {
  const res = await openRequest({
    url, ...options, method: body ? 'POST' : 'GET', body,
    headers: body ? { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' } : { accept: 'application/json' },
  });
  if (res.status !== 200) {
    res.body.destroy();
    throw httpStatusError(res.status, url, true);
  }
  try {
    return JSON.parse(await readText(res.body)) as unknown;
  } catch (err) {
    if (err instanceof DownloadError) throw err;
    throw new DownloadError('retryable', `the hub sent invalid JSON for ${url}`);
  }
}
