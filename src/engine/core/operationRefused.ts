/** Why a store operation was refused; the message says what to do instead. */
export type RefusalReason = 'downloading' | 'inUse' | 'busy' | 'otherProcess' | 'noSpace' | 'badTarget';

/** An operation that would be unsafe now (e.g. removing a model a generation uses); nothing was changed. */
export class OperationRefusedError extends Error {
  constructor(readonly reason: RefusalReason, message: string) {
    super(message);
    this.name = 'OperationRefusedError';
  }
}
