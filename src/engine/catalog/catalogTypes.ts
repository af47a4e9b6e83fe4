/** A file fetched from a plain http(s) URL. */
export interface UrlFileSource {
  readonly kind: 'url';
  readonly url: string;
}

/** A file in a Hugging Face repository; sha256 and size come from the hub at download time. */
export interface HuggingFaceFileSource {
  readonly kind: 'hf';
  readonly repo: string;
  readonly revision: string;
  readonly file: string;
}

export type FileSource = UrlFileSource | HuggingFaceFileSource;

export interface ModelFile {
  /** Relative POSIX path inside the model's folder; validated so it can never leave it. */
  readonly path: string;
  readonly source: FileSource;
  /** Lower-case hex; undefined means the file can never be reported healthy ("unverifiable"). */
  readonly sha256?: string;
  readonly size?: number;
}

export interface ModelEntry {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly task?: string;
  readonly family?: string;
  readonly format?: string;
  readonly quantization?: string;
  readonly contextLength?: number;
  readonly parameters?: number;
  /** 0..1, used to explain the quality difference of a fallback. */
  readonly quality?: number;
  readonly alternatives: readonly string[];
  readonly description?: string;
  /** An http(s) URL of this version's release notes, shown with an update offer. */
  readonly notes?: string;
  readonly files: readonly ModelFile[];
  /** Where this entry came from: a file path, a URL, or "built-in". */
  readonly origin: string;
}

/** The version used for a model whose catalog entry names none. */
export const DEFAULT_MODEL_VERSION = 'latest';

export function totalSize(model: ModelEntry): number | undefined {
  let sum = 0;
  for (const f of model.files) {
    if (f.size === undefined) return undefined;
    sum += f.size;
  }
  return sum;
}
