/**
 * The only module that touches @vscode/webview-ui-toolkit (unmaintained): everything else uses our
 * components in this folder, so replacing the toolkit means rewriting these few files.
 */
import {
  provideVSCodeDesignSystem, vsCodeBadge, vsCodeButton, vsCodeDataGrid, vsCodeDataGridCell, vsCodeDataGridRow, vsCodeDropdown, vsCodeOption,
  vsCodePanels, vsCodePanelTab, vsCodePanelView,
} from '@vscode/webview-ui-toolkit';

let registered = false;

export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeBadge(), vsCodeButton(), vsCodeDataGrid(), vsCodeDataGridRow(), vsCodeDataGridCell(), vsCodeDropdown(), vsCodeOption(),
    vsCodePanels(), vsCodePanelTab(), vsCodePanelView(),
  );
}

/** A toolkit element (`vscode-*`) with attributes; the tag stays private to this folder. */
export function toolkitElement(tag: `vscode-${string}`, attrs: Readonly<Record<string, string>> = {}, ...children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}
