import { Emitter, type Event } from '../core/event';
import { toDisposable, type IDisposable } from '../core/lifecycle';
import { OperationRefusedError } from '../core/operationRefused';

/** What holds a model: a lease on it, a generation running on it, or a move of the whole store. */
export type Use = { readonly kind: 'lease' | 'generation'; readonly modelId: string; readonly version?: string } | { readonly kind: 'move' };

/**
 * The one place that knows what is in use. Leases, generations and a storage move register here; remove,
 * repair, re-download, move, cleanup and the health monitor ask here and refuse with the reason.
 */
export class UseGuard implements IDisposable {
  private readonly uses = new Set<Use>();
  private readonly _onDidChange = new Emitter<void>();
  /** A use began or ended. */
  readonly onDidChange: Event<void> = this._onDidChange.event;

  /** Holds the use until the returned disposable is disposed. */
  register(use: Use): IDisposable {
    // A copy, so registering the same shape twice counts twice.
    const held: Use = { ...use };
    this.uses.add(held);
    this._onDidChange.fire();
    return toDisposable(() => {
      this.uses.delete(held);
      this._onDidChange.fire();
    });
  }

  /** Why the model cannot be changed in place now ("in use by 2 leases"), or undefined when it is free. */
  reasonAgainst(modelId: string): string | undefined {
    return describe([...this.uses].filter((u) => u.kind === 'move' || u.modelId === modelId));
  }

  /** Throws OperationRefusedError when the model is in use: `action` is what was refused ("remove"). */
  refuse(modelId: string, action: string): void {
    const reason = this.reasonAgainst(modelId);
    if (reason) throw new OperationRefusedError('inUse', `cannot ${action} ${modelId}: ${reason}; try again when it is released`);
  }

  /** Why the store as a whole cannot be moved now (any use of any model), or undefined. */
  reasonAgainstMove(): string | undefined {
    return describe([...this.uses]);
  }

  /** Whether a lease or generation may hold this version's files (one that names no version may hold any). */
  holdsVersion(modelId: string, version: string): boolean {
    return [...this.uses].some((u) => u.kind === 'move' || (u.modelId === modelId && (u.version === undefined || u.version === version)));
  }

  /** Model ids held by a lease or a generation. */
  inUseIds(): Set<string> {
    return new Set([...this.uses].flatMap((u) => (u.kind === 'move' ? [] : [u.modelId])));
  }

  get generationsRunning(): number {
    return [...this.uses].filter((u) => u.kind === 'generation').length;
  }

  get leaseCount(): number {
    return [...this.uses].filter((u) => u.kind === 'lease').length;
  }

  dispose(): void {
    this._onDidChange.dispose();
  }
}

function describe(uses: readonly Use[]): string | undefined {
  if (uses.some((u) => u.kind === 'move')) return 'storage is being moved';
  const generations = uses.filter((u) => u.kind === 'generation').length;
  if (generations > 0) return generations === 1 ? 'a generation is running' : `${generations} generations are running`;
  const leases = uses.filter((u) => u.kind === 'lease').length;
  return leases > 0 ? `in use by ${leases} ${leases === 1 ? 'lease' : 'leases'}` : undefined;
}
