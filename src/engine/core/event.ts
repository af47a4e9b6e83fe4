import type { IDisposable } from './lifecycle';

/** A subscription function, shaped like vscode.Event so VS Code surfaces can use it directly. */
export type Event<T> = (listener: (e: T) => void) => IDisposable;

/** A typed event source for the engine, which cannot use vscode.EventEmitter. */
export class Emitter<T> implements IDisposable {
  private listeners = new Set<(e: T) => void>();

  readonly event: Event<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => { this.listeners.delete(listener); } };
  };

  fire(e: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        // A broken listener must not stop the engine or the other listeners.
        console.error("Model Availability: an event listener failed", err);
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
