import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { genericAdapter } from "../../src/adapters/generic.js";
import { memoryLock } from "../../src/locks/memory.js";
import type { SupervisorState } from "../../src/supervisor/events.js";
import { PollingSupervisor } from "../../src/supervisor/polling-supervisor.js";
import { createBotApiEmulator, type BotApiEmulator, type BotControl } from "../../src/testing/index.js";
import { loopBot } from "../helpers/loop-bot.js";
import { makeToken } from "../helpers/tokens.js";

let emulator: BotApiEmulator;
let token: string;
let bot: BotControl;
let namespace: string;
const supervisors: PollingSupervisor[] = [];

beforeEach(async () => {
  emulator = await createBotApiEmulator({ timing: { longPollSecondMs: 20 } });
  token = makeToken();
  bot = emulator.registerBot(token);
  namespace = randomUUID();
});

afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop()));
  await emulator.close();
});

function supervise(extra: { handleMs?: number; standbyTimeoutMs?: number } = {}) {
  const loop = loopBot({ token, apiRoot: emulator.apiRoot, ...(extra.handleMs ? { handleMs: extra.handleMs } : {}) });
  const supervisor = new PollingSupervisor({
    adapter: loop.adapter,
    lock: memoryLock({ namespace }),
    logger: false,
    ...(extra.standbyTimeoutMs ? { standbyTimeoutMs: extra.standbyTimeoutMs } : {}),
  });
  const states: SupervisorState[] = [supervisor.state];
  supervisor.on("stateChange", ({ to }) => states.push(to));
  supervisors.push(supervisor);
  return { supervisor, handled: loop.handled, received: loop.received, states };
}

const lockName = () => `bot-${token.split(":")[0]}`;

async function holdLock() {
  const lease = await memoryLock({ namespace }).tryAcquire({
    name: lockName(),
    holder: { instanceId: "other", hostname: hostname(), pid: 1, since: new Date().toISOString() },
    ttlMs: 60_000,
  });
  return lease!;
}

describe("lifecycle", () => {
  it("start() is idempotent: one promise, one polling loop (invariant 8)", async () => {
    const { supervisor, states } = supervise();
    const first = supervisor.start();
    expect(supervisor.start()).toBe(first);
    await first;
    await bot.waitFor((s) => s.longPollPending);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bot.snapshot().calls.filter((c) => c.method === "getWebhookInfo")).toHaveLength(1);
    expect(bot.snapshot().conflicts.poller).toBe(0);
    expect(states).toEqual(["idle", "acquiring", "preflight", "polling"]);
  });

  it("stop() ends with stopped, runs the states in order, and releases the lock", async () => {
    const { supervisor, states } = supervise();
    const events: string[] = [];
    supervisor.on("lockReleased", () => events.push("lockReleased"));
    supervisor.on("stopped", (e) => events.push(`stopped ${e.reason}`));
    await supervisor.start();
    const stopping = supervisor.stop();
    expect(supervisor.stop()).toBeInstanceOf(Promise);
    await Promise.all([stopping, supervisor.stop()]);
    expect(events).toEqual(["lockReleased", "stopped stopped"]);
    expect(states).toEqual(["idle", "acquiring", "preflight", "polling", "stopping", "stopped"]);
    await expect(supervisor.finished).resolves.toEqual({ reason: "stopped" });
    await expect(memoryLock({ namespace }).inspect(lockName())).resolves.toBeNull();
  });

  it("stop() before start() makes no call and start() then rejects with STOPPED", async () => {
    const { supervisor } = supervise();
    await supervisor.stop();
    await expect(supervisor.start()).rejects.toMatchObject({ code: "STOPPED" });
    expect(bot.snapshot().calls).toEqual([]);
    await expect(supervisor.finished).resolves.toEqual({ reason: "stopped" });
  });

  it("stop() in standby leaves the queue: start() rejects with STOPPED and the lock is not taken later", async () => {
    const lease = await holdLock();
    const { supervisor, states } = supervise();
    const started = supervisor.start();
    await new Promise((resolve) => supervisor.once("standby", resolve));
    await supervisor.stop();
    await expect(started).rejects.toMatchObject({ code: "STOPPED" });
    await lease.release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(memoryLock({ namespace }).inspect(lockName())).resolves.toBeNull();
    expect(bot.snapshot().calls).toEqual([]);
    expect(states).toEqual(["idle", "acquiring", "standby", "stopping", "stopped"]);
  });

  it("gives up standby after standbyTimeoutMs with LOCK_TIMEOUT naming the holder", async () => {
    await holdLock();
    const { supervisor } = supervise({ standbyTimeoutMs: 100 });
    const error = await supervisor.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "LOCK_TIMEOUT" });
    expect((error as Error).message).toMatch(/instance other/);
    await expect(supervisor.finished).resolves.toMatchObject({ reason: "fatal" });
  });

  it("stop() lets the update being handled finish, confirms it, then releases", async () => {
    const { supervisor, handled, received } = supervise({ handleMs: 300 });
    await supervisor.start();
    const pushed = bot.pushMessage("slow")!;
    await bot.waitFor(() => received.length === 1);
    expect(handled).toEqual([]);
    await supervisor.stop();
    expect(handled).toEqual([pushed.update_id]);
    expect(bot.snapshot().updates[0]).toMatchObject({ confirmed: true });
  });

  it("a listener that throws does not break the run: stop() still releases the lock and settles", async () => {
    const lines: string[] = [];
    const loop = loopBot({ token, apiRoot: emulator.apiRoot });
    const logger = { info: () => undefined, warn: () => undefined, error: (m: string) => lines.push(m) };
    const supervisor = new PollingSupervisor({ adapter: loop.adapter, lock: memoryLock({ namespace }), logger });
    supervisor.on("lockReleased", () => {
      throw new Error("listener bug");
    });
    await supervisor.start();
    await supervisor.stop();
    await expect(supervisor.finished).resolves.toEqual({ reason: "stopped" });
    await expect(memoryLock({ namespace }).inspect(lockName())).resolves.toBeNull();
    expect(lines).toEqual(['a "lockReleased" listener threw: listener bug']);
  });

  it("status() describes the poller for health checks", async () => {
    const { supervisor, handled } = supervise();
    expect(supervisor.status()).toMatchObject({ state: "idle", isPoller: false, holder: null, lastGetUpdatesAt: null });
    await supervisor.start();
    bot.pushMessage("hi");
    await bot.waitFor(() => handled.length === 1);
    const status = supervisor.status();
    expect(status).toMatchObject({
      state: "polling",
      isPoller: true,
      lock: { name: lockName(), backend: "memory" },
      holder: { instanceId: supervisor.instanceId, pid: process.pid },
      lastConflict: null,
      stopReason: null,
    });
    expect(status.leaseValidForMs).toBeGreaterThan(0);
    expect(status.lastGetUpdatesAt).toEqual(expect.any(Number));
  });

  it("rejects a bad adapter or a bad token before any lock is taken", () => {
    expect(() => new PollingSupervisor({ adapter: {} as never })).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
    expect(() => genericAdapter({ token: "not-a-token", start() {}, stop() {} })).toThrow(
      expect.objectContaining({ code: "INVALID_TOKEN" }),
    );
  });

  it("with an opaque start/stop framework: start() once the lock is held, stop() before the release", async () => {
    const calls: string[] = [];
    const lock = memoryLock({ namespace });
    const supervisor = new PollingSupervisor({
      adapter: genericAdapter({
        token,
        apiRoot: emulator.apiRoot,
        start: () => calls.push("start"),
        stop: () => {
          calls.push("stop");
        },
      }),
      lock,
      logger: false,
    });
    supervisor.on("lockAcquired", () => calls.push("lockAcquired"));
    supervisor.on("lockReleased", () => calls.push("lockReleased"));
    await supervisor.start();
    await supervisor.stop();
    expect(calls).toEqual(["lockAcquired", "start", "stop", "lockReleased"]);
  });
});
