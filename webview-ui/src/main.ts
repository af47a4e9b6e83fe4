import { isHostToWebview, type WebviewToHost } from '../../src/protocol/analyticsProtocol';

interface VsCodeApi { postMessage(message: WebviewToHost): void }
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const status = document.getElementById('status');

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (!isHostToWebview(event.data) || !status) return;
  const { modelCount, catalogCount } = event.data;
  status.textContent = `${modelCount} models in ${catalogCount} catalogs. Usage analytics will appear here once models are used.`;
});

// The host waits for this before posting data, so nothing is lost while the page loads.
vscode.postMessage({ type: 'ready' });
