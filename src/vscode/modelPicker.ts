import * as vscode from 'vscode';
import type { ModelEntry } from '../engine';
import type { AvailabilityEngine, ModelState, ModelStateName } from '../engine';
import { describeModel, modelIcon } from './modelPresentation';
import type { ModelNode } from './modelsTree';

interface ModelPick extends vscode.QuickPickItem { readonly model: ModelEntry }

/**
 * The model a command acts on: the tree item or id it was given, or one picked from a quick pick that shows
 * each model's state, limited to the models a command applies to.
 */
export async function resolveModel(engine: AvailabilityEngine, arg: unknown, applies: readonly ModelStateName[] | ((s: ModelState) => boolean), title: string): Promise<ModelEntry | undefined> {
  const fits = typeof applies === 'function' ? applies : (s: ModelState) => applies.includes(s.state);
  const models = engine.getModels();
  if (typeof arg === 'string') return models.find((m) => m.id === arg);
  if (arg && typeof arg === 'object' && 'model' in arg) return (arg as ModelNode & { model: ModelEntry }).model;
  const picks: ModelPick[] = [];
  for (const model of models) {
    const s: ModelState | undefined = engine.getModelState(model.id);
    if (!s || !fits(s)) continue;
    const icon = modelIcon(s);
    picks.push({ label: `$(${icon.id}) ${model.name}`, description: describeModel(model, s), detail: model.id, model });
  }
  if (picks.length === 0) {
    void vscode.window.showInformationMessage(`${title}: no model is in a state this applies to.`);
    return undefined;
  }
  const choice = await vscode.window.showQuickPick(picks, { title, placeHolder: 'Which model?', matchOnDescription: true, matchOnDetail: true });
  return choice?.model;
}
