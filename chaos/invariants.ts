import type { BotSnapshot } from "../src/testing/index.js";
import { redactTokens } from "../src/token.js";
import type { DeafReplica } from "./deaf-monitor.js";
import type { Delivery } from "./delivery.js";
import type { Incarnation } from "./replica-fleet.js";

/** The invariants a chaos run checks; each violation names one. */
export type InvariantKind =
  | "two-pollers"
  | "lost-update"
  | "duplicate-without-crash"
  | "deaf-replica"
  | "crash"
  | "hung-on-sigterm"
  | "webhook-conflict";

export interface Violation {
  readonly kind: InvariantKind;
  /** Token-free. */
  readonly detail: string;
}

/** What the checks read. */
export interface RunRecords {
  readonly snapshot: BotSnapshot;
  readonly delivery: Delivery;
  readonly incarnations: readonly Incarnation[];
  readonly deaf: readonly DeafReplica[];
  /** Processes that did not exit within the grace period after SIGTERM. */
  readonly hung: readonly Incarnation[];
  /** Faults that may take a lease from a live holder (each allows one repeated batch). */
  readonly leaseLosingFaults: number;
  /** The framework confirms a batch before handling it (@grammyjs/runner): a SIGKILL loses what was in flight. */
  readonly confirmsBeforeHandling: boolean;
  /** When the run began, to print offsets. */
  readonly startedAt: number;
}

/**
 * Lines a Node process writes when something was not handled. (Stack traces
 * alone are not enough: @grammyjs/runner logs the errors it handles with one.)
 */
const CRASH_OUTPUT = [
  /Unhandled ?(promise ?)?rejection/i,
  /\buncaught ?exception\b/i,
  /ERR_UNHANDLED_REJECTION/,
  /triggerUncaughtException/,
  /^Node\.js v\d+/,
  /\[ioredis\] Unhandled error event/,
];

/**
 * Whether an update last delivered in getUpdates answer `batch` was lost
 * because the replica it went to was SIGKILLed before handling it, with a
 * framework that had already confirmed it by fetching the next batch.
 */
export function lostInFlightOnCrash(
  batch: number | undefined,
  records: Pick<RunRecords, "snapshot" | "incarnations" | "confirmsBeforeHandling">,
): boolean {
  if (!records.confirmsBeforeHandling || batch === undefined) return false;
  const call = records.snapshot.getUpdates.find((g) => g.seq === batch);
  if (!call) return false;
  const sender = senderOf(call.start, records.incarnations);
  const kill = sender?.signals.find((s) => s.signal === "SIGKILL");
  return kill !== undefined && kill.at >= (call.end ?? call.start);
}

/** The replica whose getUpdates reached the emulator's door last at or before `start` (the emulator records a request once it has read it). */
export function senderOf(start: number, incarnations: readonly Incarnation[]): Incarnation | undefined {
  let best: { at: number; incarnation: Incarnation } | undefined;
  for (const incarnation of incarnations) {
    for (const at of incarnation.getUpdatesAt) {
      if (at <= start + 1 && start - at < 1_000 && (best === undefined || at > best.at)) best = { at, incarnation };
    }
  }
  return best?.incarnation;
}

/** Checks every invariant of a finished run; an empty list means the run kept them all. */
export function checkInvariants(records: RunRecords): Violation[] {
  const violations: Violation[] = [];
  const offset = (at: number) => `+${((at - records.startedAt) / 1000).toFixed(1)}s`;

  // 1. No two pollers: a 409 "terminated by other getUpdates request" only ever reaches a client that had gone.
  for (const call of records.snapshot.getUpdates) {
    if (call.outcome.kind !== "conflict" || call.clientGoneAt !== undefined) continue;
    const kind = call.outcome.conflict === "poller" ? "two-pollers" : "webhook-conflict";
    violations.push({ kind, detail: `getUpdates #${call.seq} (sent ${offset(call.start)}) was answered 409 ${call.outcome.conflict} while its client was connected` });
  }

  // 2. Every update handled at least once, except what a framework that confirms before handling had in flight when killed.
  const { delivery } = records;
  const unexplained = delivery.lostDeliveries.filter((lost) => !lostInFlightOnCrash(lost.batch, records));
  if (unexplained.length > 0) {
    const ids = unexplained.slice(0, 20).map((l) => l.updateId);
    violations.push({ kind: "lost-update", detail: `${unexplained.length} of ${delivery.sent} messages never answered (update ids ${ids.join(", ")})` });
  }

  // 3. Duplicates only after a crash or a lost lease, one batch for each.
  // A process killed as its first getUpdates left may have it recorded at the emulator's door after the kill: any counts.
  const pollerKills = records.incarnations.filter((i) => i.signals.some((s) => s.signal === "SIGKILL") && i.getUpdatesAt.length > 0).length;
  const leaseLosses = records.incarnations.filter((i) => i.lines.some((l) => /\block lost\b/.test(l.text))).length;
  const allowance = pollerKills + Math.max(leaseLosses, records.leaseLosingFaults);
  if (delivery.duplicateBatches > allowance) {
    violations.push({
      kind: "duplicate-without-crash",
      detail: `${delivery.duplicated} duplicate answers from ${delivery.duplicateBatches} batches, but only ${pollerKills} poller kills and ${leaseLosses} lost leases`,
    });
  }

  // 4. No replica left deaf.
  for (const deaf of records.deaf) {
    violations.push({ kind: "deaf-replica", detail: `${deaf.id} said it polls but sent no getUpdates for ${deaf.silentMs} ms (at ${offset(deaf.at)}; last line "${redactTokens(deaf.lastLine)}")` });
  }

  // 5. Nothing unhandled anywhere; every exit is one we asked for or the example's own.
  for (const incarnation of records.incarnations) {
    const crashLine = incarnation.lines.find((l) => CRASH_OUTPUT.some((pattern) => pattern.test(l.text)));
    if (crashLine) {
      violations.push({ kind: "crash", detail: `${incarnation.id} wrote "${redactTokens(crashLine.text).slice(0, 200)}" at ${offset(crashLine.at)}` });
      continue;
    }
    const exit = incarnation.exit;
    if (!exit) continue;
    const asked = new Set(incarnation.signals.map((s) => s.signal));
    const byOurSignal = exit.signal !== null && asked.has(exit.signal);
    const byItself = exit.signal === null && (exit.code === 0 || exit.code === 1);
    if (!byOurSignal && !byItself) {
      violations.push({ kind: "crash", detail: `${incarnation.id} exited with ${exit.signal ?? `code ${String(exit.code)}`} at ${offset(exit.at)}` });
    }
  }

  for (const incarnation of records.hung) {
    violations.push({ kind: "hung-on-sigterm", detail: `${incarnation.id} did not exit after SIGTERM; last line "${redactTokens(incarnation.lines.at(-1)?.text ?? "")}"` });
  }
  return violations;
}
