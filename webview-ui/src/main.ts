import './styles.css';
import {
  isHostToWebview, isPanelState, type AnalyticsSnapshot, type PanelState, type Period, type RecommendationAction, type TabId, type WebviewToHost,
} from '../../src/protocol/analyticsProtocol';
import { dropdown } from './components/controls';
import { h } from './components/dom';
import { tabs } from './components/tabs';
import { registerToolkit } from './components/toolkit';
import { formatTime } from './format';
import { performanceView } from './views/performanceView';
import { recommendationCount, recommendationsView } from './views/recommendationsView';
import { storageView } from './views/storageView';
import { usageView } from './views/usageView';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: PanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const saved = vscode.getState();
let state: PanelState = isPanelState(saved) ? saved : { tab: 'usage', period: 30 };
let snapshot: AnalyticsSnapshot | undefined;

registerToolkit();

const views: Readonly<Record<TabId, HTMLElement>> = {
  usage: h('div', { class: 'tab-content' }),
  performance: h('div', { class: 'tab-content' }),
  storage: h('div', { class: 'tab-content' }),
  recommendations: h('div', { class: 'tab-content' }),
};
/** Announced to screen readers: period changes and actions, not every live update. */
const announcer = h('p', { id: 'announcer', role: 'status', 'aria-live': 'polite', class: 'announcer' });
const updated = h('p', { class: 'updated' });

const tabBar = tabs([
  { id: 'usage', label: 'Usage', content: views.usage },
  { id: 'performance', label: 'Performance', content: views.performance },
  { id: 'storage', label: 'Storage', content: views.storage },
  { id: 'recommendations', label: 'Recommendations', content: views.recommendations },
], state.tab, (tab) => save({ ...state, tab }));

const periodPicker = dropdown<Period>('Period', [
  { value: 7, label: 'Last 7 days' },
  { value: 30, label: 'Last 30 days' },
  { value: 90, label: 'Last 90 days' },
  { value: 'all', label: 'All time' },
], state.period, (period) => {
  save({ ...state, period });
  announce(`Loading ${period === 'all' ? 'all recorded usage' : `the last ${period} days`}…`);
  vscode.postMessage({ type: 'setPeriod', period });
});

const app = document.getElementById('app') ?? document.body.appendChild(h('main', { id: 'app' }));
app.replaceChildren(
  h('header', { class: 'panel-header' }, h('h1', {}, 'Model Analytics'), periodPicker, updated),
  announcer,
  tabBar.element,
);

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = event.data;
  if (!isHostToWebview(message)) return;
  if (message.type === 'actionFailed') {
    announce(message.message);
    return;
  }
  const periodChanged = snapshot !== undefined && snapshot.period !== message.snapshot.period;
  // A late answer for a period the person already changed away from is dropped.
  if (message.snapshot.period !== state.period) return;
  snapshot = message.snapshot;
  render(snapshot);
  app.setAttribute('aria-busy', 'false');
  if (periodChanged) announce(`Showing ${snapshot.period === 'all' ? 'all recorded usage' : `the last ${snapshot.period} days`}.`);
});

function render(snap: AnalyticsSnapshot): void {
  // A live update re-renders everything: put focus back on the same button if it is still there.
  const focused = document.activeElement instanceof HTMLElement ? document.activeElement.closest<HTMLElement>('[data-focus-key]')?.dataset.focusKey : undefined;
  views.usage.replaceChildren(usageView(snap));
  views.performance.replaceChildren(performanceView(snap));
  views.storage.replaceChildren(storageView(snap));
  views.recommendations.replaceChildren(recommendationsView(snap, runAction));
  const count = recommendationCount(snap);
  tabBar.setBadge('recommendations', count > 0 ? String(count) : '');
  updated.textContent = `Updated ${formatTime(snap.builtAt)}`;
  if (focused) document.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focused)}"]`)?.focus();
}

function runAction(action: RecommendationAction, modelId: string, version: string | null = null): void {
  vscode.postMessage({ type: 'runAction', action, modelId, version });
}

function announce(text: string): void {
  announcer.textContent = text;
}

function save(next: PanelState): void {
  state = next;
  vscode.setState(state);
}

// The host waits for this before posting data, so nothing is lost while the page loads.
vscode.postMessage({ type: 'ready', period: state.period });
