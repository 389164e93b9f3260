/**
 * Graceful handover: a holder polls, a waiter stands by in another process
 * (the same process for the memory lock); the holder's stop() is the start
 * of the gap, the waiter's first long poll reaching the emulator its end.
 * Long-lived workers start and stop supervisors on command, so a sample
 * costs a handover, not a process start.
 */
import type { BotSnapshot, GetUpdatesRecord } from "../src/testing/index.js";
import { conflictsHeard, countLostAndDuplicated, newPollerAfter, waitForNewPoller, type BenchContext } from "./context.js";
import type { LockSpec } from "./fixtures/locks.js";
import { now, sleep, type Worker } from "./workers.js";

/** One graceful handover as the emulator saw it; times in ms from the stop command (t0). */
export interface HandoverSample {
  /** t0 to the waiter's first long poll arriving at the emulator: the handover gap. */
  readonly gapMs: number;
  /** t0 to the waiter's first Bot API call (preflight getWebhookInfo): the holder's stop, the release, the wake-up, the grant. */
  readonly waiterFirstCallMs: number | null;
  /** The holder's offset confirmation, when one reached the emulator. */
  readonly confirm: { readonly atMs: number; readonly throttled: boolean; readonly servedMs: number | null } | null;
  /** Worker-reported, on the bench clock (offset estimated by ping): holder released the lock, waiter was granted it. */
  readonly releasedMs: number | null;
  readonly acquiredMs: number | null;
  /** 409s that reached a live client between this stop and the next one. */
  readonly conflictsHeard: number;
}

export interface HandoverSeries {
  readonly backend: string;
  readonly streamRate: number;
  readonly samples: readonly HandoverSample[];
  /** Across the whole series: updates pushed, handled at least once, never handled, handled more than once. */
  readonly updates: { readonly pushed: number; readonly handled: number; readonly lost: number; readonly duplicated: number } | null;
}

interface Role {
  readonly worker: Worker;
  readonly slot: string;
}

let slotCounter = 0;
const nextSlot = (prefix: string) => `${prefix}-${++slotCounter}`;

async function startSupervised(worker: Worker, prefix: string, token: string, apiRoot: string, lock: LockSpec): Promise<Role> {
  const slot = nextSlot(prefix);
  await worker.request({ cmd: "supervise", slot, token, apiRoot, lock });
  return { worker, slot };
}

/**
 * `count` graceful handovers on one token, the holder and waiter swapping
 * between `first` and `second` (the same worker for the memory lock), under a
 * steady stream of `streamRate` updates/s (0: idle).
 */
export async function handoverSeries(
  ctx: BenchContext,
  options: { readonly label: string; readonly lock: LockSpec; readonly first: Worker; readonly second: Worker; readonly count: number; readonly streamRate: number },
): Promise<HandoverSeries> {
  const { emulator } = ctx;
  const token = ctx.newToken();
  const control = emulator.bot(token);
  const handled: number[] = [];
  let holder = await startSupervised(options.first, options.label, token, emulator.apiRoot, options.lock);
  await holder.worker.waitForEvent(holder.slot, "polling");
  const stream = options.streamRate > 0 ? control.startUpdateStream({ ratePerSecond: options.streamRate }) : undefined;
  let waiter = await startSupervised(options.second, options.label, token, emulator.apiRoot, options.lock);
  await waiter.worker.waitForEvent(waiter.slot, "standby");

  const samples: HandoverSample[] = [];
  let previous: { t0: number; holder: Role; waiter: Role } | undefined;
  for (let i = 0; i <= options.count; i++) {
    // Let the new holder poll for a while (a random while, so stops land at every point of its cycle).
    await sleep(60 + Math.random() * 90);
    const snapshot = control.snapshot();
    control.clearRecords();
    if (previous) {
      samples.push(analyzeHandover(snapshot, previous.t0, previous.holder, previous.waiter));
      previous.holder.worker.forgetSlot(previous.holder.slot);
    }
    if (i === options.count) break;
    const t0 = now();
    const stopping = holder.worker.stop(holder.slot);
    await waiter.worker.waitForEvent(waiter.slot, "polling", 20_000);
    handled.push(...(await stopping).handled);
    previous = { t0, holder, waiter };
    const fresh = await startSupervised(holder.worker, options.label, token, emulator.apiRoot, options.lock);
    await fresh.worker.waitForEvent(fresh.slot, "standby");
    holder = waiter;
    waiter = fresh;
    if ((i + 1) % 25 === 0) ctx.log(`  ${options.label}: ${i + 1}/${options.count} handovers`);
  }

  let updates: HandoverSeries["updates"] = null;
  if (stream !== undefined) {
    const { pushed } = control.stopUpdateStream(stream);
    // Everything pushed is handled once nothing is pending: grammY confirms a batch by fetching the next.
    await control.waitFor((s) => s.pendingUpdateCount === 0, { timeoutMs: 15_000 }).catch(() => undefined);
    handled.push(...(await holder.worker.stop(holder.slot)).handled);
    updates = { pushed, ...countLostAndDuplicated(pushed, handled) };
  } else {
    await holder.worker.stop(holder.slot);
  }
  await waiter.worker.stop(waiter.slot);
  holder.worker.forgetSlot(holder.slot);
  waiter.worker.forgetSlot(waiter.slot);
  return { backend: options.label, streamRate: options.streamRate, samples, updates };
}

/** Reads one handover from the records of the stretch that began with its stop. */
export function analyzeHandover(snapshot: BotSnapshot, t0: number, holder: Role, waiter: Role): HandoverSample {
  const poller = newPollerAfter(snapshot, t0);
  if (!poller) throw new Error(`no long poll from the waiter after the stop at ${t0} (holder ${holder.slot}, waiter ${waiter.slot})`);
  const { poll, preflight } = poller;
  const confirmRecord: GetUpdatesRecord | undefined = snapshot.getUpdates.find(
    (g) => g.start > t0 && g.start < (preflight?.time ?? poll.start) && Number(g.params["timeout"] ?? 0) === 0,
  );
  const released = holder.worker.eventsOf(holder.slot).find((e) => e.event === "released" && e.at > t0 - 50);
  const acquired = waiter.worker.eventsOf(waiter.slot).find((e) => e.event === "acquired");
  return {
    gapMs: poll.start - t0,
    waiterFirstCallMs: preflight ? preflight.time - t0 : null,
    confirm: confirmRecord
      ? {
          atMs: confirmRecord.start - t0,
          throttled: confirmRecord.throttled.timeout,
          servedMs: confirmRecord.end === undefined ? null : confirmRecord.end - confirmRecord.start,
        }
      : null,
    releasedMs: released ? released.at - t0 : null,
    acquiredMs: acquired ? acquired.at - t0 : null,
    conflictsHeard: conflictsHeard(snapshot),
  };
}

/** One handover per lane, many lanes at once: for slow waiters (the fixed-period baselines), where a sample takes seconds. */
export async function laneHandovers(
  ctx: BenchContext,
  options: {
    readonly label: string;
    readonly lock: LockSpec;
    readonly holders: Worker;
    readonly waiters: Worker;
    readonly lanes: number;
    readonly rounds: number;
    /** Waiters start at random points of this span, so their retry cycles are out of step with each other. */
    readonly staggerMs: number;
  },
): Promise<number[]> {
  const { emulator } = ctx;
  const gaps: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const lanes = await Promise.all(
      Array.from({ length: options.lanes }, async () => {
        const token = ctx.newToken();
        const holder = await startSupervised(options.holders, options.label, token, emulator.apiRoot, options.lock);
        await holder.worker.waitForEvent(holder.slot, "polling");
        await sleep(Math.random() * options.staggerMs);
        const waiter = await startSupervised(options.waiters, options.label, token, emulator.apiRoot, options.lock);
        await waiter.worker.waitForEvent(waiter.slot, "standby");
        return { token, holder, waiter };
      }),
    );
    // Waiters have been retrying for a random while: the release lands at a random phase of their period.
    await sleep(Math.random() * options.staggerMs);
    const t0 = now();
    await Promise.all(lanes.map(({ holder }) => holder.worker.stop(holder.slot)));
    await Promise.all(
      lanes.map(async ({ token, waiter }) => {
        await waiter.worker.waitForEvent(waiter.slot, "polling", 30_000);
        const { poller } = await waitForNewPoller(emulator.bot(token), t0);
        gaps.push(poller.poll.start - t0);
        await waiter.worker.stop(waiter.slot);
      }),
    );
    for (const { holder, waiter } of lanes) {
      holder.worker.forgetSlot(holder.slot);
      waiter.worker.forgetSlot(waiter.slot);
    }
    ctx.log(`  ${options.label}: round ${round + 1}/${options.rounds} (${gaps.length} samples)`);
  }
  return gaps;
}

/**
 * The lead to check: grammY's own `bot.stop()` during an idle long poll
 * confirms with the same offset as the poll it aborted; the Bot API's
 * same-offset throttle makes that a 3 s long poll. Runs `lanes` plain bots
 * at once (one token each) and returns, per bot, the time from its stop to
 * the end of that confirmation at the emulator.
 */
export async function frameworkStopDuration(ctx: BenchContext, worker: Worker, lanes: number): Promise<{ stopMs: number[]; throttled: number }> {
  const { emulator } = ctx;
  const bots: { token: string; slot: string }[] = [];
  for (let i = 0; i < lanes; i++) {
    const token = ctx.newToken();
    const slot = nextSlot("plain-stop");
    await worker.request({ cmd: "plain", slot, token, apiRoot: emulator.apiRoot });
    await worker.waitForEvent(slot, "polling");
    await emulator.bot(token).waitFor((s) => s.longPollPending, { timeoutMs: 10_000 });
    bots.push({ token, slot });
  }
  await sleep(200);
  const stopMs: number[] = [];
  let throttled = 0;
  await Promise.all(
    bots.map(async ({ token, slot }) => {
      const t0 = now();
      await worker.stop(slot);
      const done = now();
      const confirm = emulator.bot(token).snapshot().getUpdates.find((g) => g.start > t0 && Number(g.params["timeout"] ?? 0) === 0);
      if (confirm?.throttled.timeout) throttled += 1;
      // Measured at the emulator: when the confirmation was answered.
      stopMs.push(confirm?.end !== undefined ? confirm.end - t0 : done - t0);
      worker.forgetSlot(slot);
    }),
  );
  return { stopMs, throttled };
}
