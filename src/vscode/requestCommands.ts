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

/** "Request Model…": the same flow other extensions get, for a person. */
export async function requestModelCommand(engine: AvailabilityEngine, requests: ModelRequests, arg: unknown): Promise<void> {
  const model = await resolveModel(engine, arg, ['ready', 'missing', 'downloading', 'queued', 'paused', 'failed'], 'Request Model');
  if (!model) return;
  const lease = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Requesting ${model.name}`, cancellable: true },
    async (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      return requests.requestModel(model.id, {
        signal: ac.signal,
        onWaitEstimate: (s) => progress.report({ message: `waiting for the download: about ${formatDuration(s)} left` }),
      });
    },
  ).then((l) => l, (err: Error) => {
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
