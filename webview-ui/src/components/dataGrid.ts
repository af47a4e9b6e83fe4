import { toolkitElement } from './toolkit';

export interface Column<T> {
  readonly title: string;
  readonly value: (row: T) => string;
  /** CSS grid track, e.g. `2fr`; default `1fr`. */
  readonly width?: string;
}

interface ToolkitGrid extends HTMLElement {
  rowsData: Record<string, string>[];
  columnDefinitions: { columnDataKey: string; title: string }[];
}

/** A keyboard-navigable grid of text cells (role=grid, arrow keys move between cells). */
export function dataGrid<T>(label: string, columns: readonly Column<T>[], rows: readonly T[]): HTMLElement {
  const grid = toolkitElement('vscode-data-grid', {
    'aria-label': label,
    'generate-header': 'sticky',
    'grid-template-columns': columns.map((c) => c.width ?? '1fr').join(' '),
  }) as ToolkitGrid;
  grid.columnDefinitions = columns.map((c, i) => ({ columnDataKey: `c${i}`, title: c.title }));
  grid.rowsData = rows.map((r) => Object.fromEntries(columns.map((c, i) => [`c${i}`, c.value(r)])));
  return grid;
}
