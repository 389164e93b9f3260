import { describe, expect, it } from "vitest";
import { REAL_TIMING } from "../../src/testing/index.js";
import { NO_DELAYS, pause, TOKEN, useEmulators } from "./harness.js";

type Served = { update_id: number };
const ids = (result: Served[]): number[] => result.map((update) => update.update_id);

describe("the update queue (raw HTTP)", () => {
  const emulators = useEmulators();

  it("confirms every update below the offset of any getUpdates, a timeout=0 probe included", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    for (const text of ["1", "2", "3"]) bot.pushMessage(text);

    expect(ids((await api.call("getUpdates", { offset: 0 })).body.result)).toEqual([1, 2, 3]);
    expect(ids((await api.call("getUpdates", { offset: 0 })).body.result)).toEqual([1, 2, 3]);
    expect(ids((await api.call("getUpdates", { offset: 2 })).body.result)).toEqual([2, 3]);
    expect(ids((await api.call("getUpdates", { offset: 0 })).body.result)).toEqual([2, 3]);
    expect((await api.call("getWebhookInfo")).body.result.pending_update_count).toBe(2);

    expect((await api.call("getUpdates", { offset: 4, timeout: 0 })).body.result).toEqual([]);
    expect((await api.call("getWebhookInfo")).body.result.pending_update_count).toBe(0);
    expect(bot.snapshot().updates.map((u) => [u.updateId, u.deliveries, u.confirmed])).toEqual([
      [1, 2, true],
      [2, 4, true],
      [3, 4, true],
    ]);
  });

  it("keeps only the last N updates for offset -N and serves them", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    for (const text of ["1", "2", "3", "4", "5"]) bot.pushMessage(text);

    expect(ids((await api.call("getUpdates", { offset: -2 })).body.result)).toEqual([4, 5]);
    expect((await api.call("getWebhookInfo")).body.result.pending_update_count).toBe(2);
    expect(bot.snapshot().updates.map((u) => u.removed?.reason ?? "pending")).toEqual(["trimmed", "trimmed", "trimmed", "pending", "pending"]);
  });

  it("ignores an offset more than 10 past the next update id and serves from the first pending one (source behaviour)", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    for (const text of ["1", "2"]) bot.pushMessage(text);

    expect(ids((await api.call("getUpdates", { offset: 1000 })).body.result)).toEqual([1, 2]);
    expect((await api.call("getWebhookInfo")).body.result.pending_update_count).toBe(2);
    expect((await api.call("getUpdates", { offset: 13 })).body.result).toEqual([]);
    expect((await api.call("getWebhookInfo")).body.result.pending_update_count).toBe(0);
  });

  it("clamps limit to 1..100 with 100 as the default", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    for (let n = 1; n <= 120; n++) bot.pushMessage(`#${n}`);

    expect((await api.call("getUpdates")).body.result).toHaveLength(100);
    expect((await api.call("getUpdates", { limit: 1000 })).body.result).toHaveLength(100);
    expect((await api.call("getUpdates", { limit: 0 })).body.result).toHaveLength(1);
    expect((await api.call("getUpdates", { limit: -3 })).body.result).toHaveLength(1);
    expect((await api.call("getUpdates", { limit: 7 })).body.result).toHaveLength(7);
    expect(bot.snapshot().getUpdates.map((r) => r.limit)).toEqual([100, 100, 1, 1, 7]);
  });

  it("keeps an update for updateTtlMs (the real 24 hours by default), then drops it", async () => {
    expect(REAL_TIMING.updateTtlMs).toBe(24 * 60 * 60 * 1000);
    const emulator = await emulators.start({ timing: { ...NO_DELAYS, updateTtlMs: 100 } });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    bot.pushMessage("short-lived");
    expect((await api.call("getWebhookInfo")).body.result.pending_update_count).toBe(1);
    await pause(150);
    expect((await api.call("getWebhookInfo")).body.result.pending_update_count).toBe(0);
    expect((await api.call("getUpdates")).body.result).toEqual([]);
    expect(bot.snapshot().updates[0]).toMatchObject({ deliveries: 0, confirmed: false, removed: { reason: "expired" } });
  });

  it("drops updates of types the bot's allowed_updates exclude, when they are created", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    const chatMember = { chat_member: { chat: { id: -1, type: "group", title: "g" } } };

    expect(bot.pushUpdate(chatMember)).toBeNull();
    await api.call("getUpdates", { allowed_updates: ["chat_member"] });
    expect(bot.pushUpdate(chatMember)).toMatchObject({ update_id: 1 });
    expect(bot.pushMessage("not allowed now")).toBeNull();
    await api.call("getUpdates", { allowed_updates: [] });
    expect(bot.pushMessage("allowed again")).toMatchObject({ update_id: 2 });
  });

  it("assigns update ids itself, starting at firstUpdateId", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS, firstUpdateId: 500_000 });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    bot.pushUpdate({ update_id: 7, message: { text: "given id is ignored" } });
    bot.pushCallbackQuery("button-1");
    const served = (await api.call("getUpdates")).body.result;
    expect(ids(served)).toEqual([500_000, 500_001]);
    expect(served[1].callback_query).toMatchObject({ data: "button-1", message: { from: { is_bot: true } } });
  });
});
