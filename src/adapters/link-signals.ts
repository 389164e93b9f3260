/**
 * The part of an AbortSignal this module needs. grammY's Node build and
 * Telegraf hand out signals from the `abort-controller` polyfill, which are not
 * native `AbortSignal`s.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** A native signal that aborts when any of its sources aborts, and a way to detach from the sources. */
export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Removes the listeners from the sources; call once the request has settled. */
  dispose(): void;
}

/**
 * Links several signals into one native `AbortSignal`.
 *
 * Not `AbortSignal.any`: Node accepts a polyfill signal there without complaint
 * and then never propagates its abort (checked on Node 20 with the
 * `abort-controller` package that grammY and Telegraf use), so `bot.stop()`
 * would no longer cancel the in-flight long poll. Listeners are removed in
 * `dispose` so a long-lived source (the gate's signal) does not collect one
 * listener per getUpdates.
 */
export function linkSignals(sources: readonly (AbortSignalLike | undefined)[]): LinkedSignal {
  const controller = new AbortController();
  const detach: (() => void)[] = [];
  for (const source of sources) {
    if (source === undefined) continue;
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const onAbort = () => controller.abort(source.reason);
    source.addEventListener("abort", onAbort, { once: true });
    detach.push(() => source.removeEventListener("abort", onAbort));
  }
  return {
    signal: controller.signal,
    dispose() {
      for (const remove of detach.splice(0)) remove();
    },
  };
}
