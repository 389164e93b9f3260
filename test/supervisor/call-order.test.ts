import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { memoryLock } from "../../src/locks/memory.js";
import { PollingSupervisor } from "../../src/supervisor/polling-supervisor.js";
import { createBotApiEmulator, type BotApiEmulator, type BotControl } from "../../src/testing/index.js";
import { loopBot } from "../helpers/loop-bot.js";
import { makeToken } from "../helpers/tokens.js";

let emulator: BotApiEmulator;
let token: string;
let bot: BotControl;
const supervisors: PollingSupervisor[] = [];

beforeEach(async () => {
  emulator = await createBotApiEmulator({ timing: { longPollSecondMs: 20 } });
  token = makeToken();
  bot = emulator.registerBot(token);
});

afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop()));
  await emulator.close();
});

function supervise(options: { dropPendingUpdates?: boolean; namespace?: string } = {}) {
  const { adapter, handled } = loopBot({ token, apiRoot: emulator.apiRoot });
  const supervisor = new PollingSupervisor({
    adapter,
    lock: memoryLock({ namespace: options.namespace ?? randomUUID() }),
    logger: false,
    ...(options.dropPendingUpdates === undefined ? {} : { dropPendingUpdates: options.dropPendingUpdates }),
  });
  supervisors.push(supervisor);
  return { supervisor, handled };
}

const methods = () => bot.snapshot().calls.filter((c) => c.source === "http").map((c) => c.method);

describe("preflight and the order of Bot API calls", () => {
  it("makes no Bot API call at all while another instance holds the lock (invariant 1)", async () => {
    const namespace = randomUUID();
    const outsider = await memoryLock({ namespace }).tryAcquire({
      name: `bot-${token.split(":")[0]}`,
      holder: { instanceId: "outsider", hostname: hostname(), pid: process.pid, since: new Date().toISOString() },
      ttlMs: 60_000,
    });
    expect(outsider).not.toBeNull();
    const { supervisor } = supervise({ namespace });
    const standby = new Promise((resolve) => supervisor.once("standby", resolve));
    const started = supervisor.start();
    await expect(standby).resolves.toMatchObject({ holder: { instanceId: "outsider" } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(supervisor.state).toBe("standby");
    expect(bot.snapshot().calls).toHaveLength(0);
    expect(bot.snapshot().getUpdates).toHaveLength(0);

    const releasedAt = performance.timeOrigin + performance.now();
    await outsider!.release();
    await started;
    const first = bot.snapshot().calls[0]!;
    expect(first.method).toBe("getWebhookInfo");
    expect(first.time).toBeGreaterThanOrEqual(releasedAt);
  });

  it("with no webhook set: getWebhookInfo only, no deleteWebhook, then polling", async () => {
    const { supervisor } = supervise();
    await supervisor.start();
    await bot.waitFor((snapshot) => snapshot.getUpdates.length === 1);
    expect(methods()).toEqual(["getWebhookInfo"]);
    expect(supervisor.state).toBe("polling");
  });

  it("deletes a webhook that is set, without dropping pending updates, and verifies it (invariant 7)", async () => {
    await bot.setWebhook({ url: "https://example.invalid/hook" });
    bot.pushMessage("sent while the webhook was set");
    const { supervisor, handled } = supervise();
    const cleared = new Promise((resolve) => supervisor.once("webhookCleared", resolve));
    await supervisor.start();
    await expect(cleared).resolves.toEqual({
      url: "https://example.invalid/hook",
      pendingUpdateCount: 1,
      droppedPendingUpdates: false,
    });
    expect(methods()).toEqual(["getWebhookInfo", "deleteWebhook", "getWebhookInfo"]);
    const deleteCall = bot.snapshot().calls.find((c) => c.method === "deleteWebhook")!;
    expect(deleteCall.params["drop_pending_updates"]).toBe(false);
    await bot.waitFor(() => handled.length === 1);
    expect(bot.snapshot().updates[0]).toMatchObject({ deliveries: 1 });
  });

  it("drops pending updates only when asked", async () => {
    bot.pushMessage("old");
    const { supervisor, handled } = supervise({ dropPendingUpdates: true });
    await supervisor.start();
    expect(methods()).toEqual(["getWebhookInfo", "deleteWebhook", "getWebhookInfo"]);
    expect(bot.snapshot().calls[1]!.params["drop_pending_updates"]).toBe(true);
    expect(bot.snapshot().updates[0]).toMatchObject({ deliveries: 0, removed: { reason: "dropped" } });
    expect(handled).toEqual([]);
  });

  it("fails with UNAUTHORIZED, before polling, when the token is revoked", async () => {
    emulator.revokeToken(token);
    const { supervisor } = supervise();
    await expect(supervisor.start()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(supervisor.finished).resolves.toMatchObject({ reason: "fatal", error: { code: "UNAUTHORIZED" } });
    expect(supervisor.status().holder).toBeNull();
  });

  it("retries preflight on 429 and 5xx, then polls", async () => {
    bot.injectFault({ method: "getWebhookInfo", times: 1, fault: { kind: "server-error", status: 502 } });
    bot.injectFault({ method: "getWebhookInfo", times: 1, fault: { kind: "too-many-requests", retryAfter: 1 } });
    const { supervisor } = supervise();
    await supervisor.start();
    expect(methods()).toEqual(["getWebhookInfo", "getWebhookInfo", "getWebhookInfo"]);
  });

  it("gives up preflight after the configured attempts with PREFLIGHT_FAILED and releases the lock", async () => {
    bot.injectFault({ method: "getWebhookInfo", times: 5, fault: { kind: "server-error" } });
    const namespace = randomUUID();
    const { supervisor } = supervise({ namespace });
    await expect(supervisor.start()).rejects.toMatchObject({ code: "PREFLIGHT_FAILED" });
    expect(methods()).toEqual(["getWebhookInfo", "getWebhookInfo", "getWebhookInfo"]);
    await expect(memoryLock({ namespace }).inspect(`bot-${token.split(":")[0]}`)).resolves.toBeNull();
  });
});
