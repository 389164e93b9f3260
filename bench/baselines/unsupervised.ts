/**
 * Baseline: two plain grammY `bot.start()` on one token, as a deploy with
 * overlap or a second replica runs them. The old instance polls alone for a
 * moment, the new one starts, updates keep coming; the emulator records the
 * 409s, who handled what, and when one instance went deaf (its loop ended on
 * a 409 it heard while its process stays up).
 */
import type { BenchContext } from "../context.js";
import { STREAM_RATE } from "../context.js";
import { now, sleep, type Worker } from "../workers.js";

export interface UnsupervisedSample {
  /** The new instance's first getUpdates to the 409 that made one instance deaf, at the emulator; null if none went deaf. */
  readonly deafAfterMs: number | null;
  /** Which instance went deaf. "new" means the deploy's new code is the deaf one. */
  readonly deaf: "old" | "new" | null;
  readonly conflicts: number;
  readonly pushed: number;
  /** Of those, pushed before the second instance started (the old one had them to itself). */
  readonly pushedBeforeSecondStart: number;
  /** Updates pushed after the second start: handled by the old instance only, the new only, both, neither (by the end of the sample). */
  readonly afterSecondStart: { readonly old: number; readonly new: number; readonly both: number; readonly neither: number };
}

let counter = 0;
const background = new Set<Promise<unknown>>();

/** Waits for the stops left running in the background. */
export async function unsupervisedSettled(): Promise<void> {
  while (background.size > 0) await Promise.allSettled([...background]);
}

export async function unsupervisedSample(ctx: BenchContext, oldWorker: Worker, newWorker: Worker): Promise<UnsupervisedSample> {
  const { emulator } = ctx;
  const token = ctx.newToken();
  const control = emulator.bot(token);
  const oldSlot = `plain-old-${++counter}`;
  const newSlot = `plain-new-${counter}`;
  await oldWorker.request({ cmd: "plain", slot: oldSlot, token, apiRoot: emulator.apiRoot });
  await oldWorker.waitForEvent(oldSlot, "polling");
  await control.waitFor((s) => s.getUpdates.length > 0);
  const stream = control.startUpdateStream({ ratePerSecond: STREAM_RATE });
  await sleep(300);
  const pushedBeforeSecondStart = control.snapshot().streams.find((st) => st.id === stream)?.pushed ?? 0;
  const t0 = now();
  await newWorker.request({ cmd: "plain", slot: newSlot, token, apiRoot: emulator.apiRoot });
  // Until one goes deaf, then a little longer: both may still be handling a batch.
  const deafness = await firstOf([
    oldWorker.waitForEvent(oldSlot, "loopEnded", 8_000).then(() => "old" as const, () => null),
    newWorker.waitForEvent(newSlot, "loopEnded", 8_000).then(() => "new" as const, () => null),
  ]);
  await sleep(500);
  const { pushed } = control.stopUpdateStream(stream);
  await sleep(200);
  const snapshot = control.snapshot();
  const [oldStop, newStop] = await Promise.all([
    oldWorker.request<{ handled: number[] }>({ cmd: "handled", slot: oldSlot }),
    newWorker.request<{ handled: number[] }>({ cmd: "handled", slot: newSlot }),
  ]);
  // The survivor's own stop pays grammY's 3 s same-offset confirmation when idle: let it run in the background.
  for (const [worker, slot] of [[oldWorker, oldSlot], [newWorker, newSlot]] as const) {
    const stopping = worker.stop(slot).then(() => worker.forgetSlot(slot), () => undefined);
    background.add(stopping);
    const forget = () => background.delete(stopping);
    void stopping.then(forget, forget);
  }

  const getMe = snapshot.calls.filter((c) => c.method === "getMe" && c.time > t0)[0];
  const newFirstPoll = snapshot.getUpdates.find((g) => g.start > (getMe?.time ?? t0));
  const heard = snapshot.getUpdates.find((g) => g.outcome.kind === "conflict" && g.clientGoneAt === undefined);
  const oldIds = new Set(oldStop.handled);
  const newIds = new Set(newStop.handled);
  const after = { old: 0, new: 0, both: 0, neither: 0 };
  for (let id = pushedBeforeSecondStart + 1; id <= pushed; id++) {
    const byOld = oldIds.has(id);
    const byNew = newIds.has(id);
    if (byOld && byNew) after.both += 1;
    else if (byOld) after.old += 1;
    else if (byNew) after.new += 1;
    else after.neither += 1;
  }
  return {
    deafAfterMs: heard?.end !== undefined && newFirstPoll ? heard.end - newFirstPoll.start : null,
    deaf: deafness,
    conflicts: snapshot.conflicts.poller + snapshot.conflicts.webhook + snapshot.conflicts["set-webhook"],
    pushed,
    pushedBeforeSecondStart,
    afterSecondStart: after,
  };
}

/** The first non-null value, or null once every promise settled with null. */
function firstOf<T>(promises: readonly Promise<T | null>[]): Promise<T | null> {
  return new Promise((resolve) => {
    let left = promises.length;
    for (const promise of promises) {
      void promise.then((value) => {
        if (value !== null) resolve(value);
        else if (--left === 0) resolve(null);
      });
    }
  });
}
