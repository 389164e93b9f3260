import { describe, expect, it } from "vitest";
import { classifyApiError } from "../../src/api/classify-error.js";
import { LeaseNotValidError } from "../../src/errors.js";
import { FRAMEWORKS, latch, onCleanup, outcomeOf, pollsMadeToWait, startEmulator, TestGate, TOKEN, until } from "./harness.js";

describe.each(FRAMEWORKS)("$name adapter with a test gate", (framework) => {
  it("handles each update once and has confirmed all of them when stop() resolves", async () => {
    const { emulator, control } = await startEmulator();
    const bot = framework.create(emulator.apiRoot);
    const gate = new TestGate();
    const run = bot.adapter.startPolling(gate);
    await control.nextGetUpdates();
    const pushed = [control.pushMessage("a"), control.pushMessage("b"), control.pushMessage("c")].map((u) => u!.update_id);
    await until(() => bot.handled.length === 3, "three updates handled");

    await run.stop();

    await expect(run.done).resolves.toBeUndefined();
    expect(bot.handled).toEqual(pushed);
    const { updates, getUpdates } = control.snapshot();
    expect(updates.map((u) => [u.updateId, u.confirmed, u.deliveries])).toEqual(pushed.map((id) => [id, true, 1]));
    // Every getUpdates that reached the Bot API passed the gate first.
    expect(gate.entered.length).toBeGreaterThanOrEqual(getUpdates.length);
  });

  it("a stop while a batch is being handled loses and duplicates nothing", async () => {
    const { emulator, control } = await startEmulator();
    const pushed = [1, 2, 3, 4, 5].map((n) => control.pushMessage(`m${n}`)!.update_id);
    const hold = latch();
    const started: number[] = [];
    const first = framework.create(emulator.apiRoot, async (id) => {
      started.push(id);
      if (id === pushed[0]) await hold.promise;
    });
    const run = first.adapter.startPolling(new TestGate());
    await until(() => started.length > 0, "the first update being handled");
    // @grammyjs/runner fetches the next batch while handling this one: let that request reach the Bot API.
    if (framework.name === "grammy-runner") await until(() => control.snapshot().getUpdates.length === 2, "the next getUpdates");

    const stopped = run.stop();
    hold.release();
    await stopped;

    const second = framework.create(emulator.apiRoot);
    const secondRun = second.adapter.startPolling(new TestGate());
    await until(() => control.snapshot().longPollPending, "the second bot's long poll");
    await until(() => first.handled.length + second.handled.length === pushed.length, "every update handled");
    await secondRun.stop();

    expect([...first.handled, ...second.handled].sort((a, b) => a - b)).toEqual(pushed);
    if (framework.finishesBatchOnStop) expect(second.handled).toEqual([]);
    else expect(first.handled).toEqual(pushed.slice(0, 1));
    expect(control.snapshot().updates.every((u) => u.confirmed)).toBe(true);
  });

  it("a graceful stop during an idle long poll is not turned into a 3 s poll by the same-offset throttle", async () => {
    const { emulator, control } = await startEmulator();
    const bot = framework.create(emulator.apiRoot);
    const run = bot.adapter.startPolling(new TestGate());
    await control.nextGetUpdates();
    control.pushMessage("a");
    control.pushMessage("b");
    await until(() => bot.handled.length === 2, "two updates handled");
    await until(() => control.snapshot().longPollPending, "the next long poll");
    const before = control.snapshot().getUpdates.length;

    await run.stop();

    const { getUpdates, updates } = control.snapshot();
    expect(pollsMadeToWait(getUpdates)).toEqual([]);
    // The framework's own confirmation repeats the pending poll's offset: it is answered without a request.
    expect(getUpdates.length).toBe(before);
    expect(updates.every((u) => u.confirmed)).toBe(true);
  });

  it.each([
    ["while the gate lets it through", (stop: () => void) => stop()],
    ["just after it was handed to the transport", (stop: () => void) => queueMicrotask(stop)],
  ])("a stop %s that aborts the getUpdates confirming a batch still confirms the batch, without the throttle", async (_, when) => {
    const { emulator, control } = await startEmulator();
    const pushed = [control.pushMessage("a")!.update_id, control.pushMessage("b")!.update_id];
    const bot = framework.create(emulator.apiRoot);
    const gate = new TestGate();
    let stopped: Promise<void> | undefined;
    gate.onEnter = (count) => {
      if (count === 2) when(() => (stopped = run.stop()));
    };
    const run = bot.adapter.startPolling(gate);
    await until(() => stopped !== undefined, "the second getUpdates");
    await stopped;

    const { updates, getUpdates } = control.snapshot();
    expect(bot.handled).toEqual(pushed);
    expect(updates.every((u) => u.confirmed)).toBe(true);
    expect(pollsMadeToWait(getUpdates)).toEqual([]);
    // At most: the batch's poll, the aborted one if it got through, one confirmation.
    expect(getUpdates.length).toBeLessThanOrEqual(3);
  });

  it("a stop before the first getUpdates ends the run without polling", async () => {
    const { emulator, control } = await startEmulator();
    const bot = framework.create(emulator.apiRoot);
    const gate = new TestGate();
    const run = bot.adapter.startPolling(gate);

    await run.stop();

    await expect(run.done).resolves.toBeUndefined();
    // node-telegram-bot-api calls getUpdates synchronously inside startPolling(); the stop aborts it before it is sent.
    expect(gate.entered.length).toBeLessThanOrEqual(1);
    expect(control.snapshot().getUpdates).toEqual([]);
  });

  it("a gate aborted before polling starts ends the run at once, sending nothing", async () => {
    const { emulator, control } = await startEmulator();
    const bot = framework.create(emulator.apiRoot);
    const gate = new TestGate();
    const lost = new Error("lease lost");
    gate.abort(lost);

    const run = bot.adapter.startPolling(gate);

    await expect(run.done).rejects.toBe(lost);
    expect(control.snapshot().calls).toEqual([]);
    expect(control.snapshot().getUpdates).toEqual([]);
  });

  it("a refusing gate ends the loop at once, without sending or retrying", async () => {
    const { emulator, control } = await startEmulator();
    const bot = framework.create(emulator.apiRoot);
    const gate = new TestGate();
    gate.allow = 1;
    const run = bot.adapter.startPolling(gate);
    await control.nextGetUpdates();
    const id = control.pushMessage("a")!.update_id;

    const result = await outcomeOf(run.done);

    expect(result).toMatchObject({ ok: false, error: expect.any(LeaseNotValidError) });
    expect(bot.handled).toEqual([id]);
    expect(control.snapshot().getUpdates).toHaveLength(1);
    // The loop has ended: the refused getUpdates was tried at most twice (the loop's, then the stop's confirmation).
    expect(gate.refused.length).toBeGreaterThanOrEqual(1);
    expect(gate.refused.length).toBeLessThanOrEqual(2);
    // Nothing may confirm the update without a lease: the next holder gets it again.
    expect(control.snapshot().updates[0]!.confirmed).toBe(false);
  });

  it("aborting the gate cancels the in-flight long poll and ends the loop with the gate's reason", async () => {
    const { emulator, control } = await startEmulator();
    const bot = framework.create(emulator.apiRoot);
    const gate = new TestGate();
    const run = bot.adapter.startPolling(gate);
    const poll = await control.nextGetUpdates();
    const lost = new Error("lease lost");

    gate.abort(lost);
    const result = await outcomeOf(run.done);

    expect(result).toEqual({ ok: false, error: lost });
    const { getUpdates } = await control.waitFor((s) => s.getUpdates[0]?.clientGoneAt !== undefined);
    expect(getUpdates.map((g) => g.seq)).toEqual([poll.seq]);
    expect(gate.outcomes.map((o) => ("error" in o ? classifyApiError(o.error).kind : "updates"))).toEqual(["aborted"]);
  });

  it("reports a 409 from an outside poller to the gate and rejects done with it", async () => {
    const { emulator, control } = await startEmulator();
    const bot = framework.create(emulator.apiRoot);
    const gate = new TestGate();
    const run = bot.adapter.startPolling(gate);
    await until(() => control.snapshot().longPollPending, "the long poll");

    const outsider = await fetch(`${emulator.apiRoot}/bot${TOKEN}/getUpdates`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ timeout: 1 }),
    });
    const result = await outcomeOf(run.done);

    expect(outsider.status).toBe(200);
    expect(result.ok).toBe(false);
    expect(classifyApiError(!result.ok && result.error)).toMatchObject({ kind: "conflict", conflict: "poller" });
    const reported = gate.outcomes.filter((o) => "error" in o).map((o) => "error" in o && classifyApiError(o.error).kind);
    expect(reported).toEqual(["conflict"]);
  });

  it("refuses polling started directly, before any request", async () => {
    const { emulator, control } = await startEmulator();
    const bot = framework.create(emulator.apiRoot);

    if (framework.name === "grammy-runner") {
      // run(bot) cannot be guarded; its getUpdates are refused one by one and never sent.
      void bot.startDirectly().catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(control.snapshot().getUpdates).toEqual([]);
      return;
    }
    await expect(bot.startDirectly()).rejects.toBeInstanceOf(LeaseNotValidError);
    expect(control.snapshot().calls).toEqual([]);
    expect(control.snapshot().getUpdates).toEqual([]);
  });

  it("refuses a direct start while the supervisor's run polls, and keeps one interceptor per bot", async () => {
    const { emulator, control } = await startEmulator();
    const bot = framework.create(emulator.apiRoot);
    const gate = new TestGate();
    const run = bot.adaptAgain().startPolling(gate);
    onCleanup(() => run.stop());
    await until(() => control.snapshot().longPollPending, "the long poll");

    if (framework.name !== "grammy-runner") await expect(bot.startDirectly()).rejects.toBeInstanceOf(LeaseNotValidError);
    control.pushMessage("a");
    await until(() => bot.handled.length === 1, "the update handled");
    await until(() => control.snapshot().longPollPending, "the next long poll");
    await run.stop();

    // Adapted twice, yet each getUpdates passed the gate once.
    expect(gate.entered.length).toBe(control.snapshot().getUpdates.length);
  });
});
