/**
 * Counts update handlers that are still running, for loops that hand updates
 * to handlers without waiting for them (`@grammyjs/runner`'s concurrent sink).
 */
export class HandlerTracker {
  #running = 0;
  #waiters: (() => void)[] = [];

  /** Runs `handler` and counts it until it settles. */
  async track<T>(handler: () => Promise<T>): Promise<T> {
    this.#running += 1;
    try {
      return await handler();
    } finally {
      this.#running -= 1;
      if (this.#running === 0) for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  /**
   * Resolves once no handler runs. A failed handler's error handler is called
   * a few microtasks after the handler settles, so the count must stay at 0
   * across one macrotask turn before this counts as idle.
   */
  async idle(): Promise<void> {
    for (;;) {
      if (this.#running > 0) await new Promise<void>((resolve) => this.#waiters.push(resolve));
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.#running === 0) return;
    }
  }
}
