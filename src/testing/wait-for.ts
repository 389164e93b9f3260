/** A wait ran out of time: the condition was never met. */
export class WaitTimeoutError extends Error {
  override readonly name = "WaitTimeoutError";
}

/** The emulator was closed while something waited on it. */
export class EmulatorClosedError extends Error {
  override readonly name = "EmulatorClosedError";
  constructor() {
    super("The Bot API emulator was closed while waiting.");
  }
}

/** Re-checks at least this often, for conditions that change without an event (updates expiring). */
const RECHECK_MS = 50;

/**
 * Resolves with the first value of `read()` that `predicate` accepts, checking
 * now, after every `subscribe` notification (coalesced) and every 50 ms.
 * Rejects with {@link WaitTimeoutError} after `timeoutMs` (its message shows
 * `describe` of the last value) or when a signal aborts.
 */
export function waitUntil<T>(options: {
  readonly read: () => T;
  readonly predicate: (value: T) => boolean;
  readonly subscribe: (listener: () => void) => () => void;
  readonly describe: (value: T) => string;
  readonly timeoutMs: number;
  readonly signals: readonly (AbortSignal | undefined)[];
}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let scheduled = false;
    const cleanups: (() => void)[] = [];
    const finish = (settle: () => void): void => {
      for (const cleanup of cleanups) cleanup();
      settle();
    };
    const check = (): void => {
      scheduled = false;
      const value = options.read();
      let accepted: boolean;
      try {
        accepted = options.predicate(value);
      } catch (error) {
        finish(() => reject(error));
        return;
      }
      if (accepted) finish(() => resolve(value));
    };
    const schedule = (): void => {
      if (scheduled) return;
      scheduled = true;
      setImmediate(check);
    };
    cleanups.push(options.subscribe(schedule));
    const recheck = setInterval(schedule, RECHECK_MS);
    cleanups.push(() => clearInterval(recheck));
    const timeout = setTimeout(() => {
      finish(() =>
        reject(new WaitTimeoutError(`Timed out after ${options.timeoutMs} ms; last state: ${options.describe(options.read())}`)),
      );
    }, options.timeoutMs);
    cleanups.push(() => clearTimeout(timeout));
    for (const signal of options.signals) {
      if (!signal) continue;
      const onAbort = (): void =>
        finish(() => reject(signal.reason instanceof Error ? signal.reason : new EmulatorClosedError()));
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener("abort", onAbort));
    }
    check();
  });
}
