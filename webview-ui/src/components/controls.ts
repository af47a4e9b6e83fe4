import { toolkitElement } from './toolkit';

export interface ButtonOptions {
  readonly label: string;
  /** What a screen reader says, when the label alone is ambiguous (e.g. which model "Remove" removes). */
  readonly ariaLabel?: string;
  readonly primary?: boolean;
  /** Lets the panel put focus back on this button after a live update re-renders it. */
  readonly focusKey?: string;
  readonly onClick: () => void;
}

export function button(options: ButtonOptions): HTMLElement {
  const attrs: Record<string, string> = { appearance: options.primary ? 'primary' : 'secondary' };
  if (options.ariaLabel) attrs['aria-label'] = options.ariaLabel;
  if (options.focusKey) attrs['data-focus-key'] = options.focusKey;
  const b = toolkitElement('vscode-button', attrs, options.label);
  b.addEventListener('click', options.onClick);
  return b;
}

export interface DropdownOption<T extends string | number> {
  readonly value: T;
  readonly label: string;
}

/** A labelled dropdown; `onChange` gets the chosen option's value (as declared, not as a string). */
export function dropdown<T extends string | number>(label: string, options: readonly DropdownOption<T>[], selected: T, onChange: (value: T) => void): HTMLElement {
  const select = toolkitElement('vscode-dropdown', { 'aria-label': label, id: `dropdown-${label.toLowerCase().replace(/\W+/g, '-')}` },
    ...options.map((o) => toolkitElement('vscode-option', o.value === selected ? { value: String(o.value), selected: '' } : { value: String(o.value) }, o.label)));
  select.addEventListener('change', () => {
    const value = (select as HTMLElement & { value: string }).value;
    const chosen = options.find((o) => String(o.value) === value);
    if (chosen) onChange(chosen.value);
  });
  const wrapper = document.createElement('div');
  wrapper.className = 'dropdown-field';
  const caption = document.createElement('label');
  caption.htmlFor = select.id;
  caption.textContent = label;
  wrapper.append(caption, select);
  return wrapper;
}
