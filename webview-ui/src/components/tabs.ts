import type { TabId } from '../../../src/protocol/analyticsProtocol';
import { toolkitElement } from './toolkit';

export interface TabDefinition {
  readonly id: TabId;
  readonly label: string;
  readonly content: HTMLElement;
}

export interface Tabs {
  readonly element: HTMLElement;
  /** A count next to a tab's label (e.g. how many recommendations); empty hides it. */
  setBadge(id: TabId, text: string): void;
}

/** Tabs with their panels (role=tablist; arrow keys switch tabs). */
export function tabs(definitions: readonly TabDefinition[], active: TabId, onChange: (id: TabId) => void): Tabs {
  const badges = new Map<TabId, HTMLElement>();
  const tabElements = definitions.map((d) => {
    const badge = toolkitElement('vscode-badge', { appearance: 'secondary', hidden: '' });
    badges.set(d.id, badge);
    return toolkitElement('vscode-panel-tab', { id: `tab-${d.id}` }, d.label, badge);
  });
  const views = definitions.map((d) => toolkitElement('vscode-panel-view', { id: `view-${d.id}` }, d.content));
  const element = toolkitElement('vscode-panels', { activeid: `tab-${active}`, 'aria-label': 'Analytics' }, ...tabElements, ...views);
  element.addEventListener('change', (e) => {
    // Only the panels' own change event: a dropdown inside a panel bubbles one too.
    if (e.target !== element) return;
    const id = (element as HTMLElement & { activeid: string }).activeid.replace(/^tab-/, '');
    const tab = definitions.find((d) => d.id === id);
    if (tab) onChange(tab.id);
  });
  return {
    element,
    setBadge(id, text) {
      const badge = badges.get(id);
      if (!badge) return;
      badge.textContent = text;
      badge.toggleAttribute('hidden', text === '');
    },
  };
}
