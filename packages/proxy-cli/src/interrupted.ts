/** The abort reason `bin.ts` gives on Ctrl-C, so an aborted call can be told from other errors. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';

  constructor(readonly signalName: NodeJS.Signals) {
    super(`interrupted by ${signalName}`);
  }
}
