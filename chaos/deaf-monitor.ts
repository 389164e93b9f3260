import type { Incarnation, ReplicaFleet } from "./replica-fleet.js";

/** A replica that said it polls and, alive, sent no getUpdates for too long. */
export interface DeafReplica {
  readonly id: string;
  /** How long it had been silent when found, ms. */
  readonly silentMs: number;
  readonly at: number;
  readonly lastLine: string;
}

/**
 * Watches for deaf replicas while the run goes on: alive, by its own log
 * still polling (`polling started` and no later line that ends the run), yet
 * no getUpdates from it reached the emulator for longer than `thresholdMs`
 * (its long-poll timeout plus a margin). Each replica is reported once.
 */
export function watchForDeafReplicas(fleet: ReplicaFleet, thresholdMs: number): { stop(): DeafReplica[] } {
  const found = new Map<string, DeafReplica>();
  const check = (): void => {
    const at = performance.timeOrigin + performance.now();
    for (const incarnation of fleet.incarnations) {
      if (found.has(incarnation.id)) continue;
      const silentMs = silence(incarnation, at);
      if (silentMs !== undefined && silentMs > thresholdMs) {
        found.set(incarnation.id, { id: incarnation.id, silentMs: Math.round(silentMs), at, lastLine: incarnation.lines.at(-1)?.text ?? "" });
      }
    }
  };
  const timer = setInterval(check, 250);
  return {
    stop() {
      clearInterval(timer);
      check();
      return [...found.values()];
    },
  };
}

/** How long a replica that says it polls has sent no getUpdates; undefined when it does not say so (or is not running). */
function silence(incarnation: Incarnation, at: number): number | undefined {
  if (incarnation.exit || incarnation.phase !== "polling" || incarnation.pollingSince === undefined) return undefined;
  // A replica being stopped by a signal may sit between the signal and its first log line about it.
  if (incarnation.signals.length > 0) return undefined;
  const last = Math.max(incarnation.pollingSince, incarnation.getUpdatesAt.at(-1) ?? 0);
  return at - last;
}
