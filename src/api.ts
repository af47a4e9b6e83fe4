/**
 * The API other extensions get from `vscode.extensions.getExtension('model-availability.model-availability').activate()`.
 * Types only: this file must not import vscode or the engine, so it can be published as api.d.ts.
 */
export interface ModelSummary {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly task?: string;
  readonly state: 'ready' | 'missing' | 'queued' | 'downloading' | 'paused' | 'failed';
}

export interface Unsubscribe { dispose(): void }

export interface ModelAvailabilityApi {
  readonly apiVersion: 1;
  /** Every model of the merged catalogs, with its current state. */
  getModels(): readonly ModelSummary[];
  /** Fires when the catalogs or any model's state change. */
  onDidChangeModels(listener: () => void): Unsubscribe;
}
