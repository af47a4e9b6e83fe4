/** Another tool's model store that we read (never write). */
export type ForeignSourceKind = 'hf' | 'ollama' | 'lmstudio' | 'folder';

export interface ForeignLocation {
  readonly kind: ForeignSourceKind;
  readonly root: string;
}

/** Where a file in the Hugging Face cache came from: what the cache's layout tells. */
export interface HubOrigin {
  readonly repo: string;
  readonly commit: string;
  /** The file's path inside the repository. */
  readonly path: string;
  /** Branches or tags whose `refs/` file names this commit. */
  readonly refs: readonly string[];
  /** For a small (non-LFS) file the cache names the blob by its git sha1, which the copy must match. */
  readonly gitSha1?: string;
}

/** One model file found in another tool's store. */
export interface FoundFile {
  readonly source: ForeignSourceKind;
  /** The location it was found under. */
  readonly root: string;
  /** The real file (for the Hugging Face cache: the blob a snapshot's link points at). */
  readonly path: string;
  /** The file's name as the other tool shows it (a repository path, an Ollama layer, a relative path). */
  readonly name: string;
  /** Known without hashing when the layout tells it (LFS blob names, Ollama digests); else undefined. */
  readonly sha256?: string;
  readonly size: number;
  readonly hub?: HubOrigin;
  /** Ollama's `name:tag`. */
  readonly ollama?: string;
  /** Where the same bytes can be downloaded again (an Ollama registry blob), for a catalog entry. */
  readonly downloadUrl?: string;
}

/** Files found together: one cached snapshot, one Ollama tag, one folder of a publisher's repository. */
export interface FoundModel {
  readonly source: ForeignSourceKind;
  readonly root: string;
  /** What the other tool calls it: `org/name@commit`, `name:tag`, a folder. */
  readonly name: string;
  readonly files: readonly FoundFile[];
}

export const SOURCE_NAMES: Record<ForeignSourceKind, string> = {
  hf: 'the Hugging Face cache',
  ollama: 'Ollama',
  lmstudio: 'LM Studio',
  folder: 'a folder',
};

export function isSha256(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}
