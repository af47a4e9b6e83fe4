/** Anything that holds a resource to let go of. Structurally the same as vscode.Disposable. */
export interface IDisposable {
  dispose(): void;
}

/** One owner for every resource: subclasses `_register` what they create and it is disposed with them. */
export abstract class Disposable implements IDisposable {
  private readonly _disposables: IDisposable[] = [];
  private _isDisposed = false;

  protected get isDisposed(): boolean {
    return this._isDisposed;
  }

  protected _register<T extends IDisposable>(d: T): T {
    if (this._isDisposed) {
      d.dispose();
    } else {
      this._disposables.push(d);
    }
    return d;
  }

  dispose(): void {
    if (this._isDisposed) return;
    this._isDisposed = true;
    // Dispose in reverse creation order, so later resources that depend on earlier ones go first.
    for (const d of this._disposables.splice(0).reverse()) {
      try {
        d.dispose();
      } catch {
        // One failing resource must not keep the others alive.
      }
    }
  }
}

export function toDisposable(fn: () => void): IDisposable {
  let done = false;
  return { dispose: () => { if (!done) { done = true; fn(); } } };
}
