import { describe, expect, it } from "vitest";
import {
  EmulatorClosedError,
  EmulatorControlClient,
  EmulatorControlError,
  WaitTimeoutError,
} from "../../src/testing/index.js";
import { NO_DELAYS, OTHER_TOKEN, pause, TOKEN, useEmulators } from "./harness.js";

describe("control API", () => {
  const emulators = useEmulators();

  it("pushes updates over HTTP that the in-process control and getUpdates both see", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const remote = new EmulatorControlClient(emulator.apiRoot).bot(TOKEN);
    expect(await remote.pushMessage({ text: "/start", chatId: 77 })).toMatchObject({
      update_id: 1,
      message: { text: "/start", chat: { id: 77 }, entities: [{ type: "bot_command", offset: 0, length: 6 }] },
    });
    expect(await remote.pushCallbackQuery("yes")).toMatchObject({ update_id: 2, callback_query: { data: "yes" } });
    expect(await remote.pushUpdate({ edited_message: { message_id: 1, text: "edited" } })).toMatchObject({ update_id: 3 });
    expect(await remote.pushUpdate({ chat_member: {} })).toBeNull();

    expect(emulator.bot(TOKEN).snapshot().updates.map((u) => u.type)).toEqual(["message", "callback_query", "edited_message"]);
    const served = (await emulators.raw(emulator).call("getUpdates")).body.result;
    expect(served.map((u: { update_id: number }) => u.update_id)).toEqual([1, 2, 3]);
    expect((await remote.snapshot()).updates.map((u) => u.deliveries)).toEqual([1, 1, 1]);
  });

  it("streams updates at a steady rate until count, or until stopped", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const bot = emulator.bot(TOKEN);
    const remote = new EmulatorControlClient(emulator.apiRoot).bot(TOKEN);

    const counted = await remote.startUpdateStream({ ratePerSecond: 500, count: 20, message: { text: "load", chatId: 5 } });
    const done = await bot.waitFor((s) => s.streams.some((stream) => stream.id === counted && !stream.active));
    expect(done.updates).toHaveLength(20);
    expect(done.streams[0]).toEqual({ id: counted, ratePerSecond: 500, count: 20, pushed: 20, active: false });

    const endless = bot.startUpdateStream({ ratePerSecond: 200, update: { channel_post: { text: "tick" } } });
    await bot.waitFor((s) => s.updates.length >= 25);
    const stopped = await remote.stopUpdateStream(endless);
    await pause(30);
    const after = bot.snapshot();
    expect(stopped.active).toBe(false);
    expect(after.updates.length).toBe(20 + stopped.pushed);
    expect(after.updates.at(-1)?.type).toBe("channel_post");
  });

  it("injects faults for the next N calls of a method: 429, 5xx, connection reset, latency", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const remote = new EmulatorControlClient(emulator.apiRoot).bot(TOKEN);

    await remote.injectFault({ method: "getMe", times: 2, fault: { kind: "too-many-requests", retryAfter: 7 } });
    for (let n = 0; n < 2; n++) {
      const limited = await api.call("getMe");
      expect(limited.body).toStrictEqual({
        ok: false,
        error_code: 429,
        description: "Too Many Requests: retry after 7",
        parameters: { retry_after: 7 },
      });
      expect(limited.headers.get("retry-after")).toBe("7");
    }
    expect((await api.call("getMe")).status).toBe(200);

    await remote.injectFault({ method: "getUpdates", fault: { kind: "server-error", status: 502, description: "Bad Gateway" } });
    expect((await api.call("getUpdates")).body).toStrictEqual({ ok: false, error_code: 502, description: "Bad Gateway" });

    await remote.injectFault({ method: "*", fault: { kind: "connection-reset" } });
    await expect(api.call("sendMessage", { chat_id: 1, text: "x" })).rejects.toThrow(TypeError);

    await remote.injectFault({ method: "getmE", fault: { kind: "latency", ms: 150 } });
    const sentAt = performance.now();
    const delayed = await api.call("getMe");
    expect(delayed.status).toBe(200);
    expect(delayed.receivedAt - sentAt).toBeGreaterThanOrEqual(145);

    const snapshot = await remote.snapshot();
    expect(snapshot.getUpdates[0]?.outcome).toEqual({ kind: "fault", fault: "server-error" });
    expect(snapshot.calls.map((c) => [c.method, c.fault ?? "none", c.response?.ok ?? "no answer"])).toEqual([
      ["getMe", "too-many-requests", false],
      ["getMe", "too-many-requests", false],
      ["getMe", "none", true],
      ["sendMessage", "connection-reset", "no answer"],
      ["getMe", "latency", true],
    ]);
  });

  it("sets a webhook as an outsider would, kicking the bot's long poll", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const remote = new EmulatorControlClient(emulator.apiRoot).bot(TOKEN);
    const poller = api.send("getUpdates", { timeout: 30 });
    await remote.waitFor((s) => s.longPollPending);

    expect(await remote.setWebhook({ url: "https://intruder.example/hook" })).toStrictEqual({
      ok: true,
      result: true,
      description: "Webhook was set",
    });
    expect((await poller.answer).body.description).toBe("Conflict: terminated by setWebhook request");
    expect((await api.call("getWebhookInfo")).body.result.url).toBe("https://intruder.example/hook");
    expect(await remote.deleteWebhook({ drop_pending_updates: true })).toMatchObject({ description: "Webhook was deleted" });
    expect((await remote.snapshot()).calls.map((c) => [c.method, c.source])).toEqual([
      ["setWebhook", "control"],
      ["getWebhookInfo", "http"],
      ["deleteWebhook", "control"],
    ]);
  });

  it("resolves nextGetUpdates with the getUpdates after a given one, when it arrives or is answered, in-process and over HTTP", async () => {
    const emulator = await emulators.start({ timing: { ...NO_DELAYS, longPollSecondMs: 20 } });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    const remote = new EmulatorControlClient(emulator.apiRoot).bot(TOKEN);

    const arrived = bot.nextGetUpdates();
    const answered = remote.nextGetUpdates({ after: 0, until: "answered" });
    api.send("getUpdates", { timeout: 2, offset: 3 });
    const [first, second] = await Promise.all([arrived, answered]);
    expect(first).toMatchObject({ seq: 1, offset: 3, timeout: 2 });
    expect(second).toMatchObject({ seq: 1, outcome: { kind: "empty" } });
    expect(second.end).toBeGreaterThan(second.start);
    const later = remote.nextGetUpdates({ after: 1 });
    api.send("getUpdates", { offset: 4 });
    expect(await later).toMatchObject({ seq: 2, offset: 4 });
  });

  it("records the gaps with no long poll pending, from the first long poll on", async () => {
    const emulator = await emulators.start({ timing: { ...NO_DELAYS, longPollSecondMs: 20 } });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    expect(bot.snapshot().pollGaps).toEqual([]);

    await api.call("getUpdates", { timeout: 1 });
    await pause(50);
    const second = api.send("getUpdates", { timeout: 30 });
    const snapshot = await bot.waitFor((s) => s.longPollPending);
    const [first, pending] = snapshot.getUpdates;
    expect(snapshot.pollGaps).toHaveLength(1);
    const gap = snapshot.pollGaps[0]!;
    expect(gap.start).toBeGreaterThan(first!.start);
    expect(gap.start).toBeLessThanOrEqual(first!.end!);
    expect(gap.end).toBeGreaterThanOrEqual(pending!.start);
    expect(snapshot.longestPollGapMs).toBe(gap.end! - gap.start);
    expect(snapshot.longestPollGapMs).toBeGreaterThanOrEqual(45);

    // A newer long poll replacing the pending one leaves no gap.
    api.send("getUpdates", { timeout: 30 });
    await second.answer;
    expect(bot.snapshot().pollGaps).toHaveLength(1);
  });

  it("registers and revokes bots over HTTP, and reports bad input and unknown bots", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS, bots: [TOKEN] });
    const client = new EmulatorControlClient(emulator.apiRoot);
    expect(await client.info()).toEqual({ apiRoot: emulator.apiRoot, acceptsAnyToken: false, botIds: ["123456"] });

    await expect(client.bot(OTHER_TOKEN).snapshot()).rejects.toMatchObject({ name: "EmulatorControlError", status: 404 });
    const other = await client.registerBot({ token: OTHER_TOKEN, username: "other_bot" });
    expect((await emulators.raw(emulator, OTHER_TOKEN).call("getMe")).body.result.username).toBe("other_bot");
    await client.revokeToken(OTHER_TOKEN);
    expect((await emulators.raw(emulator, OTHER_TOKEN).call("getMe")).status).toBe(401);
    expect((await other.snapshot()).botId).toBe("654321");

    const badFault = client.bot(TOKEN).injectFault({ method: "getMe", fault: { kind: "explode" } as never });
    await expect(badFault).rejects.toThrow(EmulatorControlError);
    await expect(badFault).rejects.toMatchObject({ status: 400, message: expect.stringContaining("fault.kind") });
    const badRoute = await fetch(`${emulator.controlUrl}/nowhere`);
    expect(badRoute.status).toBe(404);
    expect(await badRoute.json()).toMatchObject({ ok: false });
  });

  it("rejects a wait that times out with WaitTimeoutError, and pending waits with EmulatorClosedError on close", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const bot = emulator.bot(TOKEN);
    await expect(bot.waitFor((s) => s.replies.length > 0, { timeoutMs: 30 })).rejects.toThrow(WaitTimeoutError);
    await expect(new EmulatorControlClient(emulator.apiRoot).bot(TOKEN).nextGetUpdates({ timeoutMs: 30 })).rejects.toMatchObject({
      status: 408,
    });

    const waiting = bot.nextGetUpdates();
    await emulator.close();
    await expect(waiting).rejects.toThrow(EmulatorClosedError);
  });
});
