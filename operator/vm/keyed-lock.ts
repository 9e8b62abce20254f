// Runs operations on one key (a VM id, or the inventory) one at a time, in call order.
// The executor runs a batch of steps in parallel: two steps never name the same VM, but
// a repeated step (a retry after a leader restart) or `down` during a step may, and the
// inventory file is shared by all. Different keys run in parallel.
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const run = previous.then(fn); // `previous` never rejects: see `tail`
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** True while an operation on `key` runs or waits. */
  busy(key: string): boolean {
    return this.#tails.has(key);
  }
}
