import type { Random } from "./random.js";
import type { Incarnation, ReplicaFleet } from "./replica-fleet.js";
import type { ChaosStore, StoreFaultRecord } from "./stores/types.js";

/** One thing the monkey did. */
export interface ChaosAction {
  /** Epoch ms (monotonic). */
  readonly at: number;
  readonly kind: "sigterm" | "sigkill" | "store-fault";
  /** The replica hit, for signals. */
  readonly target?: string;
  /** Whether the target was polling when hit. */
  readonly targetWasPolling?: boolean;
  readonly fault?: StoreFaultRecord;
  /** A fault that failed to apply (e.g. the store was down already). */
  readonly error?: string;
}

/** Options of {@link unleashChaos}. */
export interface ChaosMonkeyOptions {
  readonly fleet: ReplicaFleet;
  readonly store: ChaosStore;
  readonly random: Random;
  /** Pause between two actions, ms: [min, max]. */
  readonly intervalMs: readonly [number, number];
  /** Chance that a signal goes to the replica that polls rather than any running one. */
  readonly pollerBias: number;
  readonly onAction?: (action: ChaosAction) => void;
}

/**
 * Until stopped: every few seconds a graceful stop (SIGTERM), a crash
 * (SIGKILL) or a store fault. Actions are drawn from a shuffled bag holding
 * each signal twice and each store fault once, so even a short run has every kind. Signals never take the
 * last running replica (the fleet restarts the ones that exit), so the bot
 * is never down for longer than a takeover.
 */
export function unleashChaos(options: ChaosMonkeyOptions): { readonly actions: ChaosAction[]; stop(): Promise<void> } {
  const { fleet, store, random } = options;
  const actions: ChaosAction[] = [];
  const stopped = new AbortController();
  const record = (action: ChaosAction): void => {
    actions.push(action);
    options.onAction?.(action);
  };
  // Process faults twice a round, each store fault once: a store that fails as often as processes do is not a deployment.
  const kinds = ["SIGTERM", "SIGTERM", "SIGKILL", "SIGKILL", ...store.faultKinds] as const;
  let bag: string[] = [];

  const act = async (): Promise<void> => {
    if (bag.length === 0) bag = random.shuffle(kinds);
    const kind = bag.pop()!;
    const at = performance.timeOrigin + performance.now();
    if (kind !== "SIGTERM" && kind !== "SIGKILL") {
      try {
        record({ at, kind: "store-fault", fault: await store.injectFault(kind, random) });
      } catch (error) {
        record({ at, kind: "store-fault", fault: { kind, detail: "failed", mayLoseLease: false }, error: String(error) });
      }
      return;
    }
    const running = fleet.running();
    if (running.length < 2) return; // never the last one
    const poller = fleet.poller();
    const target: Incarnation = poller && random.chance(options.pollerBias) ? poller : random.pick(running);
    const wasPolling = target.phase === "polling";
    fleet.signal(target, kind, "chaos");
    record({ at, kind: kind === "SIGTERM" ? "sigterm" : "sigkill", target: target.id, targetWasPolling: wasPolling });
  };

  const loop = (async () => {
    while (!stopped.signal.aborted) {
      const [min, max] = options.intervalMs;
      await sleep(random.int(min, max), stopped.signal);
      if (stopped.signal.aborted) break;
      await act();
    }
  })();

  return {
    actions,
    async stop() {
      stopped.abort();
      await loop;
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
