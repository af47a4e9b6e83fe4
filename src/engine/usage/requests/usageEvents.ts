/** What model requests report for analytics; the analytics store implements the recorder. */
export type UsageEvent =
  | { readonly kind: 'request'; readonly modelId: string; readonly strategy: string }
  | { readonly kind: 'grant'; readonly modelId: string; readonly requestedId: string; readonly mode: 'ready' | 'alternative' | 'mock'; readonly waitedMs: number }
  | { readonly kind: 'fallback'; readonly modelId: string; readonly requestedId: string; readonly mode: 'alternative' | 'mock'; readonly compatibility?: number }
  | { readonly kind: 'generation'; readonly modelId: string; readonly version?: string; readonly ok: boolean; readonly durationMs: number; readonly units?: number }
  | { readonly kind: 'release'; readonly modelId: string; readonly heldMs: number };

export interface UsageRecorder {
  record(event: UsageEvent): void;
}

export const NO_USAGE_RECORDER: UsageRecorder = { record: () => undefined };
