/**
 * Startup cost: Bot API calls and time from start() to the first getUpdates
 * reaching the emulator, the supervisor against grammY's own `bot.start()`,
 * with and without a webhook set. Each start uses a fresh Bot, a fresh
 * token and (for the supervisor) a fresh lock backend, so connecting to
 * Redis or PostgreSQL counts; importing modules does not (the worker is warm).
 */
import type { BenchContext } from "./context.js";
import type { BackendKind } from "./fixtures/locks.js";
import { now, type Worker } from "./workers.js";

export type StartupMode = "grammy" | BackendKind;

export interface StartupSample {
  readonly mode: StartupMode;
  readonly webhook: boolean;
  /** start() (the command leaving the bench) to the first getUpdates at the emulator. */
  readonly timeMs: number;
  /** Bot API methods the emulator saw up to and including that getUpdates, in order. */
  readonly calls: readonly string[];
  /** Supervisor only: start() to the lock being granted (worker clock, corrected). */
  readonly lockMs: number | null;
}

let counter = 0;
const background = new Set<Promise<unknown>>();

/** Waits for the stops left running in the background. */
export async function startupSettled(): Promise<void> {
  while (background.size > 0) await Promise.allSettled([...background]);
}

export async function startupSample(ctx: BenchContext, worker: Worker, mode: StartupMode, webhook: boolean): Promise<StartupSample> {
  const { emulator } = ctx;
  const token = ctx.newToken();
  const control = emulator.bot(token);
  if (webhook) {
    const answer = await control.setWebhook({ url: "https://example.com/bench-hook" });
    if (!answer.ok) throw new Error(`setWebhook failed: ${JSON.stringify(answer)}`);
  }
  control.clearRecords();
  const slot = `startup-${++counter}`;
  const t0 = now();
  if (mode === "grammy") {
    await worker.request({ cmd: "plain", slot, token, apiRoot: emulator.apiRoot });
  } else {
    await worker.request({ cmd: "supervise", slot, token, apiRoot: emulator.apiRoot, lock: ctx.lockSpec(mode), freshLock: true });
  }
  const snapshot = await control.waitFor((s) => s.getUpdates.length > 0, { timeoutMs: 15_000 });
  const poll = snapshot.getUpdates[0]!;
  const calls = [
    ...snapshot.calls.filter((c) => c.source === "http" && c.time <= poll.start).map((c) => ({ method: c.method, time: c.time })),
    { method: "getUpdates", time: poll.start },
  ]
    .sort((a, b) => a.time - b.time)
    .map((c) => c.method);
  const acquired = mode === "grammy" ? undefined : await worker.waitForEvent(slot, "acquired");
  const stopping = worker.stop(slot).then(() => worker.forgetSlot(slot));
  // grammY's own stop of an idle poll takes 3 s (the same-offset throttle); not what is measured here, so not waited for.
  if (mode === "grammy") {
    background.add(stopping);
    const forget = () => background.delete(stopping);
    void stopping.then(forget, forget);
  } else {
    await stopping;
  }
  return { mode, webhook, timeMs: poll.start - t0, calls, lockMs: acquired ? acquired.at - t0 : null };
}
