import { describe, expect, it } from "vitest";
import { CONFLICT_DESCRIPTIONS } from "../../src/testing/index.js";
import { NO_DELAYS, pause, TOKEN, useEmulators } from "./harness.js";

const OTHER_POLLER = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";

describe("long polling (raw HTTP)", () => {
  const emulators = useEmulators();

  it("answers the older long poll with the exact 409 when a newer one arrives; the newer one keeps waiting", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);

    const older = api.send("getUpdates", { timeout: 30 });
    await bot.waitFor((s) => s.longPollPending);
    const newer = api.send("getUpdates", { offset: 0, timeout: 30 });

    expect(await older.answer).toMatchObject({
      status: 409,
      body: { ok: false, error_code: 409, description: OTHER_POLLER },
    });
    expect((await older.answer).body).toStrictEqual({ ok: false, error_code: 409, description: OTHER_POLLER });
    const snapshot = bot.snapshot();
    expect(snapshot.getUpdates.map((r) => r.outcome.kind)).toEqual(["conflict", "pending"]);
    expect(snapshot.conflicts).toEqual({ poller: 1, webhook: 0, "set-webhook": 0 });
    expect(snapshot.longPollPending).toBe(true);

    bot.pushMessage("hello");
    const answer = await newer.answer;
    expect(answer.status).toBe(200);
    expect(answer.body.result).toHaveLength(1);
    expect(answer.body.result[0]).toMatchObject({ update_id: 1, message: { text: "hello" } });
    expect(CONFLICT_DESCRIPTIONS.poller).toBe(OTHER_POLLER);
  });

  it("never kicks the pending long poll with timeout=0", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    const poller = api.send("getUpdates", { timeout: 30 });
    await bot.waitFor((s) => s.longPollPending);

    for (const timeout of [0, undefined]) {
      const probe = await api.call("getUpdates", timeout === undefined ? {} : { timeout });
      expect(probe.body).toStrictEqual({ ok: true, result: [] });
    }
    const snapshot = bot.snapshot();
    expect(snapshot.getUpdates.map((r) => r.outcome.kind)).toEqual(["pending", "empty", "empty"]);
    expect(snapshot.conflicts.poller).toBe(0);

    bot.pushMessage("still mine");
    expect((await poller.answer).body.result[0].message.text).toBe("still mine");
  });

  it("keeps a disconnected client's long poll in the slot until it times out", async () => {
    const emulator = await emulators.start({ timing: { ...NO_DELAYS, longPollSecondMs: 100 } });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    const gone = api.send("getUpdates", { timeout: 10 });
    await bot.waitFor((s) => s.longPollPending);
    gone.disconnect();

    const afterDisconnect = await bot.waitFor((s) => s.getUpdates[0]?.clientGoneAt !== undefined);
    expect(afterDisconnect.longPollPending).toBe(true);
    expect(afterDisconnect.getUpdates[0]?.outcome.kind).toBe("pending");

    const ended = await bot.waitFor((s) => s.getUpdates[0]?.outcome.kind !== "pending");
    const record = ended.getUpdates[0]!;
    expect(record.outcome).toEqual({ kind: "empty" });
    expect(record.end!).toBeGreaterThan(record.clientGoneAt!);
    expect(ended.longPollPending).toBe(false);
  });

  it("keeps a disconnected client's long poll until a newer one kicks it, and that 409 still starts the 409 delay", async () => {
    // Long enough that the steps between two kicks always fit in the window.
    const conflictDelayMs = 1000;
    const emulator = await emulators.start({ timing: { ...NO_DELAYS, conflictDelayMs } });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    const gone = api.send("getUpdates", { timeout: 30 });
    await bot.waitFor((s) => s.longPollPending);
    gone.disconnect();
    await bot.waitFor((s) => s.getUpdates[0]?.clientGoneAt !== undefined);

    const second = api.send("getUpdates", { timeout: 30 });
    const kicked = await bot.waitFor((s) => s.getUpdates[0]?.outcome.kind === "conflict");
    expect(kicked.getUpdates[0]).toMatchObject({ outcome: { kind: "conflict", conflict: "poller" } });
    expect(kicked.conflicts.poller).toBe(1);
    expect(kicked.getUpdates[1]?.outcome.kind).toBe("pending");

    // The 409 went to nobody, yet the next one within the window is held back.
    const sentAt = performance.now();
    api.send("getUpdates", { timeout: 30 });
    const answer = await second.answer;
    expect(answer.body.description).toBe(OTHER_POLLER);
    expect(answer.receivedAt - sentAt).toBeGreaterThanOrEqual(conflictDelayMs - 5);
  });

  it("holds a 409 back by conflictDelayMs when the previous 409 was less than that ago; held ones do not move the window", async () => {
    const conflictDelayMs = 1000;
    const emulator = await emulators.start({ timing: { ...NO_DELAYS, conflictDelayMs } });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);

    const first = api.send("getUpdates", { timeout: 30 });
    await bot.waitFor((s) => s.longPollPending);
    const second = api.send("getUpdates", { timeout: 30 });
    await bot.waitFor((s) => s.getUpdates.length === 2 && s.getUpdates[1]!.longPoll);
    const third = api.send("getUpdates", { timeout: 30 });
    await bot.waitFor((s) => s.getUpdates.length === 3 && s.getUpdates[2]!.longPoll);

    const [firstAnswer, secondAnswer] = await Promise.all([first.answer, second.answer]);
    expect(firstAnswer.body.description).toBe(OTHER_POLLER);
    expect(secondAnswer.body.description).toBe(OTHER_POLLER);
    expect(firstAnswer.receivedAt).toBeLessThan(secondAnswer.receivedAt);

    const records = bot.snapshot().getUpdates;
    const immediate = records[0]!;
    const held = records[1]!;
    expect(immediate.end! - immediate.kickedAt!).toBeLessThan(conflictDelayMs / 2);
    expect(held.end! - held.kickedAt!).toBeGreaterThanOrEqual(conflictDelayMs - 2);

    // Once the window after the first (immediate) 409 has passed, the next 409 is immediate again.
    await pause(immediate.end! + conflictDelayMs - (performance.timeOrigin + performance.now()) + 10);
    api.send("getUpdates", { timeout: 30 });
    const thirdAnswer = await third.answer;
    expect(thirdAnswer.body.description).toBe(OTHER_POLLER);
    const afterWindow = bot.snapshot().getUpdates[2]!;
    expect(afterWindow.end! - afterWindow.kickedAt!).toBeLessThan(conflictDelayMs / 2);
  });

  it("uses the real 3 s conflict delay by default", async () => {
    const emulator = await emulators.start();
    expect(emulator.timing.conflictDelayMs).toBe(3000);
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);

    api.send("getUpdates", { timeout: 30 });
    await bot.waitFor((s) => s.longPollPending);
    const second = api.send("getUpdates", { offset: 1, timeout: 30 });
    await bot.waitFor((s) => s.conflicts.poller === 1 && s.getUpdates.length === 2);
    const kickedAt = performance.now();
    api.send("getUpdates", { offset: 2, timeout: 30 });
    const answer = await second.answer;
    expect(answer.body.description).toBe(OTHER_POLLER);
    expect(answer.receivedAt - kickedAt).toBeGreaterThanOrEqual(2995);
  });

  it("answers a long poll with an empty list when its timeout runs out, clamping timeout to 0..50", async () => {
    const emulator = await emulators.start({ timing: { ...NO_DELAYS, longPollSecondMs: 10 } });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);

    expect((await api.call("getUpdates", { timeout: 1000 })).body).toStrictEqual({ ok: true, result: [] });
    expect((await api.call("getUpdates", { timeout: -5 })).body).toStrictEqual({ ok: true, result: [] });
    expect((await api.call("getUpdates", { timeout: "7abc" })).body).toStrictEqual({ ok: true, result: [] });
    const records = bot.snapshot().getUpdates;
    expect(records.map((r) => [r.timeout, r.longPoll])).toEqual([
      [50, true],
      [0, false],
      [7, true],
    ]);
    const clamped = records[0]!;
    expect(clamped.end! - clamped.start).toBeGreaterThanOrEqual(50 * 10 - 2);
  });
});

describe("same-offset throttle (raw HTTP)", () => {
  const emulators = useEmulators();

  it("turns a same-offset getUpdates with timeout < 3 within the window into a 3 s long poll that kicks the other poller", async () => {
    const emulator = await emulators.start({
      timing: { ...NO_DELAYS, sameOffsetWindowMs: 60_000, longPollSecondMs: 50 },
    });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    const poller = api.send("getUpdates", { offset: 0, timeout: 30 });
    await bot.waitFor((s) => s.longPollPending);

    const firstProbe = await api.call("getUpdates", { offset: 7, timeout: 0 });
    expect(firstProbe.body).toStrictEqual({ ok: true, result: [] });
    expect(bot.snapshot().getUpdates[0]?.outcome.kind).toBe("pending");

    const secondProbe = api.send("getUpdates", { offset: 7, timeout: 0 });
    expect((await poller.answer).body.description).toBe(OTHER_POLLER);
    expect((await secondProbe.answer).body).toStrictEqual({ ok: true, result: [] });

    const records = bot.snapshot().getUpdates;
    expect(records[1]).toMatchObject({ timeout: 0, longPoll: false, throttled: { timeout: false } });
    expect(records[2]).toMatchObject({ offset: 7, timeout: 3, longPoll: true, throttled: { timeout: true }, outcome: { kind: "empty" } });
    expect(records[2]!.end! - records[2]!.start).toBeGreaterThanOrEqual(3 * 50 - 2);
  });

  it("leaves a same-offset getUpdates alone once sameOffsetWindowMs has passed", async () => {
    const emulator = await emulators.start({ timing: { ...NO_DELAYS, sameOffsetWindowMs: 100 } });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    await api.call("getUpdates", { offset: 7 });
    await pause(150);
    expect((await api.call("getUpdates", { offset: 7 })).body).toStrictEqual({ ok: true, result: [] });
    expect(bot.snapshot().getUpdates[1]).toMatchObject({ timeout: 0, longPoll: false, throttled: { timeout: false, limit: false } });
  });

  it("also gives limit = 1 to a same-offset getUpdates within sameOffsetLimitWindowMs", async () => {
    const emulator = await emulators.start({ timing: { ...NO_DELAYS, sameOffsetLimitWindowMs: 60_000 } });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    for (const text of ["a", "b", "c"]) bot.pushMessage(text);

    const first = await api.call("getUpdates", { offset: 0 });
    const second = await api.call("getUpdates", { offset: 0 });
    const third = await api.call("getUpdates", { offset: 1 });
    expect(first.body.result.map((u: { update_id: number }) => u.update_id)).toEqual([1, 2, 3]);
    expect(second.body.result.map((u: { update_id: number }) => u.update_id)).toEqual([1]);
    expect(third.body.result.map((u: { update_id: number }) => u.update_id)).toEqual([1, 2, 3]);
    expect(bot.snapshot().getUpdates.map((r) => [r.limit, r.throttled.limit])).toEqual([
      [100, false],
      [1, true],
      [100, false],
    ]);
  });
});
