import * as vscode from 'vscode';
import type { AvailabilityEngine } from '../engine';
import type { FallbackChoices, FallbackChooser, ModelRequests, RequestSettings, ResolvedStrategy } from '../engine';
import { formatDuration } from '../engine';
import { resolveModel } from './modelPicker';
import { setting } from './settings';

export function requestSettings(): RequestSettings {
  return {
    strategy: setting('fallback.strategy'),
    minCompatibility: setting('fallback.minCompatibility'),
    autoDownload: setting('autoDownload'),
  };
}

/** "−12% quality", "+5% quality", or nothing when the catalog gives no quality. */
export function qualityText(delta: number | undefined): string | undefined {
  if (delta === undefined) return undefined;
  const pct = Math.round(delta * 100);
  return `${pct < 0 ? '−' : '+'}${Math.abs(pct)}% quality`;
}

interface ChoiceItem extends vscode.QuickPickItem { readonly choice: { strategy: ResolvedStrategy; alternativeId?: string } }

/** The "ask" strategy: a quick pick of the alternatives with score and quality difference, waiting, a mock, or download-and-retry. */
export const askFallback: FallbackChooser = async (c: FallbackChoices) => {
  const wait = c.waitEstimateSeconds !== undefined ? `about ${formatDuration(c.waitEstimateSeconds)}` : 'until it is downloaded';
  const items: ChoiceItem[] = [
    ...c.alternatives.map((a) => ({
      label: `$(arrow-swap) Use ${a.model.name}`,
      description: [`compatibility ${a.compatibility.score}`, qualityText(a.qualityDelta)].filter(Boolean).join(' · '),
      detail: a.compatibility.reasons.join(', '),
      choice: { strategy: 'alternative' as const, alternativeId: a.model.id },
    })),
    { label: `$(clock) Wait for ${c.requested.name}`, description: wait, choice: { strategy: 'queue' } },
    { label: '$(beaker) Continue with a mock', description: `placeholder until ${c.requested.name} is ready`, choice: { strategy: 'mock' } },
    { label: '$(cloud-download) Download and retry automatically', description: 'the request completes when the download does', choice: { strategy: 'downloadAndRetry' } },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: `${c.requested.name} is not downloaded yet`,
    placeHolder: c.alternatives.length ? 'Use a compatible model now, or wait for this one' : 'No compatible model is ready: wait, use a mock, or download and retry',
    ignoreFocusOut: true,
  });
  return picked?.choice;
};

const PROGRESS_DELAY_MS = 500;

/**
 * Runs `task` and shows a cancellable progress notification only once it has taken longer than half a second.
 * A ready model is granted at once: a progress toast flashing before the answer is noise, and VS Code shows at most
 * three new toasts in 800 ms, so it could push the answer itself off the screen (into the notification center).
 */
async function withLateProgress<T>(title: string, task: (progress: vscode.Progress<{ message?: string }>, signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let shown: vscode.Progress<{ message?: string }> | undefined;
  let lastMessage: string | undefined;
  const running = task({ report: (v) => { lastMessage = v.message; shown?.report(v); } }, ac.signal);
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([
    running.then(() => false, () => false),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), PROGRESS_DELAY_MS); }),
  ]);
  clearTimeout(timer);
  if (!late) return running;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    token.onCancellationRequested(() => ac.abort());
    shown = progress;
    if (lastMessage) progress.report({ message: lastMessage });
    return running;
  });
}

/** "Request Model…": the same flow other extensions get, for a person. */
export async function requestModelCommand(engine: AvailabilityEngine, requests: ModelRequests, arg: unknown): Promise<void> {
  const model = await resolveModel(engine, arg, ['ready', 'missing', 'downloading', 'queued', 'paused', 'failed'], 'Request Model');
  if (!model) return;
  const lease = await withLateProgress(`Requesting ${model.name}`, (progress, signal) => requests.requestModel(model.id, {
    signal,
    onWaitEstimate: (s) => progress.report({ message: `waiting for the download: about ${formatDuration(s)} left` }),
  })).then((l) => l, (err: Error) => {
    if (err.name !== 'AbortError') void vscode.window.showErrorMessage(`Request Model: ${err.message}`);
    return undefined;
  });
  if (!lease) return;
  const granted = engine.getModels().find((m) => m.id === lease.modelId)?.name ?? lease.modelId;
  let message: string;
  if (lease.mode === 'ready') message = `${granted} is ready.`;
  else if (lease.mode === 'alternative') message = `Using ${granted} instead of ${model.name}: compatibility ${lease.compatibility ?? '?'}${lease.qualityDelta !== undefined ? `, ${qualityText(lease.qualityDelta)}` : ''}.`;
  else message = `${model.name} is not ready: continuing with a mock.`;
  if (lease.upgrade) message += ` ${model.name} is downloading${lease.upgrade.etaSeconds !== undefined ? ` (about ${formatDuration(lease.upgrade.etaSeconds)} left)` : ''}.`;
  const paths = lease.paths.join('\n');
  // A person's request is a question, not a hold on the model: release before the message, which may sit unanswered.
  lease.release();
  const pick = await vscode.window.showInformationMessage(message, ...(paths ? ['Copy Path'] : []), 'Show in Models');
  if (pick === 'Copy Path') await vscode.env.clipboard.writeText(paths);
  if (pick === 'Show in Models') await vscode.commands.executeCommand('modelAvailability.focusModel', lease.modelId);
}
