import type { ModelEntry } from '../../catalog/catalogTypes';
import { DownloadError } from '../../core/downloadError';
import { installedVersions } from '../../store/installedVersions';
import { readManifest } from '../../store/storeScanner';
import type { StoreLayout } from '../../store/storeLayout';
import { isCommit, type HubRevision } from '../../transfer/http/huggingFace';
import type { Logger } from '../../transfer/settings';

/** Whether a model has a file that follows a hub branch or tag (not pinned to a commit): it can move. */
export function followsHubBranch(model: ModelEntry): boolean {
  return model.files.some((f) => f.source.kind === 'hf' && !isCommit(f.source.revision));
}

/** Every sha256 each file path has in any installed version of the model. */
export async function installedShas(layout: StoreLayout, id: string): Promise<Map<string, Set<string>>> {
  const shas = new Map<string, Set<string>>();
  for (const v of await installedVersions(layout, id)) {
    for (const f of (await readManifest(layout, id, v.version))?.files ?? []) {
      shas.set(f.path, (shas.get(f.path) ?? new Set<string>()).add(f.sha256));
    }
  }
  return shas;
}

/** The entry's bytes whose sha256 no installed version holds (those are linked or copied locally; unknown sizes count as 0). */
export async function bytesToDownload(layout: StoreLayout, model: ModelEntry): Promise<number> {
  const have = new Set([...(await installedShas(layout, model.id)).values()].flatMap((s) => [...s]));
  return model.files.filter((f) => !f.sha256 || !have.has(f.sha256.toLowerCase())).reduce((s, f) => s + (f.size ?? 0), 0);
}

/** What a branch or tag points at now, asked once per repository and revision however many files or models follow it. */
export type RevisionLookup = (repo: string, revision: string) => Promise<HubRevision | undefined>;

/** A lookup that asks `resolve` once per repository and revision, and logs (once) a hub it could not reach. */
export function onePerRepository(resolve: (repo: string, revision: string) => Promise<HubRevision>, logger: Logger, during: 'update check' | 'download'): RevisionLookup {
  const revisions = new Map<string, Promise<HubRevision | undefined>>();
  return (repo, revision) => {
    const key = `${repo}@${revision}`;
    let found = revisions.get(key);
    if (!found) {
      found = resolve(repo, revision).catch((err: unknown) => {
        // A download the hub refuses (gated, not found) fails with that answer; only an unreachable hub falls back.
        if (during === 'download' && err instanceof DownloadError && err.kind === 'fatal') throw err;
        const why = err instanceof Error ? err.message : String(err);
        if (during === 'update check') logger.warn(`update check: ${key} could not be resolved (${why}); trying again at the next check`);
        else logger.info(`${key} could not be resolved to a commit (${why}); downloading as the catalog names it`);
        return undefined;
      });
      revisions.set(key, found);
    }
    return found;
  };
}

/** The model pinned to the commits its branches and tags point at now, as version `1.0.0+9a67fe2`. */
export interface PinnedModel {
  readonly entry: ModelEntry;
  /** True when a file's sha256 is one no installed version has: an update (or the first download). */
  readonly changed: boolean;
}

/** Pins the model's branch and tag files to their commits now; undefined when the hub could not say. */
export async function pinToHub(layout: StoreLayout, model: ModelEntry, revisionOf: RevisionLookup): Promise<PinnedModel | undefined> {
  const have = await installedShas(layout, model.id);
  let commit: string | undefined;
  let changed = false;
  const files: ModelEntry['files'][number][] = [];
  for (const f of model.files) {
    if (f.source.kind !== 'hf' || isCommit(f.source.revision)) { files.push(f); continue; }
    const rev = await revisionOf(f.source.repo, f.source.revision);
    if (!rev) return undefined;
    commit ??= rev.commit;
    const now = rev.files.get(f.source.file);
    const pinnedFile = { ...f, source: { ...f.source, revision: rev.commit } };
    if (!now?.sha256) { files.push(pinnedFile); continue; }
    // Against every installed version's: the one a rollback left behind is not an update.
    if (!have.get(f.path)?.has(now.sha256)) changed = true;
    files.push({ ...pinnedFile, sha256: now.sha256, size: now.size ?? f.size });
  }
  if (!commit) return undefined;
  return { entry: { ...model, version: `${model.version}+${commit.slice(0, 7)}`, files }, changed };
}
