import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fileLock } from "../../src/locks/file.js";
import { memoryLock } from "../../src/locks/memory.js";
import { postgresLock } from "../../src/locks/postgres.js";
import { redisLock } from "../../src/locks/redis.js";
import type { LockBackend } from "../../src/locks/types.js";
import { PollingSupervisor } from "../../src/supervisor/polling-supervisor.js";
import { createBotApiEmulator, type BotApiEmulator, type BotControl } from "../../src/testing/index.js";
import { loopBot } from "../helpers/loop-bot.js";
import { makeToken } from "../helpers/tokens.js";

// Wall-clock jumps (NTP stepping the clock, a VM resumed, someone running
// `date -s`): the supervisor times its lease with performance.now(), so a jump
// must change nothing. The jump is faked in this process only (Date.now and
// new Date, through vitest's fake Date; timers stay real), which is enough:
// lease timing never reads the wall clock, so a test that jumps it here shows
// that. The lock stores keep their own time (Redis TTLs, PostgreSQL sessions),
// and the file lock compares owner-file mtimes with the wall clock, which is
// what the last test looks at.

const HOUR = 3_600_000;
let emulator: BotApiEmulator;
const cleanups: (() => unknown)[] = [];

beforeEach(async () => {
  emulator = await createBotApiEmulator({ timing: { longPollSecondMs: 50 } });
});

afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await emulator.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** From now on Date.now() and new Date() read `offsetMs` away from the real clock, and keep running. */
function jumpWallClock(offsetMs: number): void {
  const real = performance.timeOrigin + performance.now();
  vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
  vi.setSystemTime(real + offsetMs);
}

/** A holder A and a waiter B of one bot, each with its own backend from `makeLock`. */
async function pair(makeLock: () => LockBackend) {
  const token = makeToken();
  const bot = emulator.registerBot(token);
  const events: string[] = [];
  const make = (name: string) => {
    const lock = makeLock();
    cleanups.push(() => lock.close());
    const { adapter, handled } = loopBot({ token, apiRoot: emulator.apiRoot, reply: true });
    const s = new PollingSupervisor({ adapter, lock, logger: false, instanceId: name, ttlMs: 1_500, renewDeadlineMs: 1_100, renewIntervalMs: 300 });
    for (const event of ["lockAcquired", "lockLost", "pollingStarted", "conflict", "lockReleased", "stopped"] as const) {
      s.on(event, () => events.push(`${name} ${event}`));
    }
    cleanups.push(() => s.stop());
    return { supervisor: s, handled };
  };
  const a = make("A");
  const b = make("B");
  await a.supervisor.start();
  const bStarted = b.supervisor.start();
  bStarted.catch(() => undefined); // a test that never lets B poll stops it in cleanup: STOPPED
  await new Promise((resolve) => b.supervisor.once("standby", resolve));
  return { bot, events, a, b, bStarted };
}

const heardConflicts = (bot: BotControl) =>
  bot.snapshot().getUpdates.filter((g) => g.outcome.kind === "conflict" && g.clientGoneAt === undefined);

describe("wall-clock jumps", () => {
  it("forwards and backwards by hours, each for longer than the TTL, with the memory, Redis and PostgreSQL locks: the holder keeps polling, the waiter keeps waiting, handover still works", async () => {
    const memorySpace = randomUUID();
    const pairs = await Promise.all([
      pair(() => memoryLock({ namespace: memorySpace })),
      pair(() => redisLock({ url: "redis://127.0.0.1:6379" })),
      pair(() => postgresLock({ connectionString: "postgres://postgres@127.0.0.1:5432/test" })),
    ]);
    for (const offset of [HOUR, -HOUR, 24 * HOUR, 0]) {
      jumpWallClock(offset);
      for (const { bot } of pairs) bot.pushMessage(`after a jump of ${offset} ms`);
      await sleep(1_600); // longer than the TTL: a lease timed by the wall clock would have expired
      for (const { a, b } of pairs) {
        const status = a.supervisor.status();
        expect(status).toMatchObject({ state: "polling", isPoller: true });
        expect(status.leaseValidForMs).toBeGreaterThan(0);
        expect(status.leaseValidForMs).toBeLessThanOrEqual(1_100);
        expect(b.supervisor.state).toBe("standby");
      }
    }
    for (const { bot, a, b, events, bStarted } of pairs) {
      await bot.waitFor(() => a.handled.length === 4);
      expect(events).toEqual(["A lockAcquired", "A pollingStarted"]);
      await a.supervisor.stop();
      await bStarted;
      expect(events.filter((e) => e.startsWith("B"))).toEqual(["B lockAcquired", "B pollingStarted"]);
      expect(events.indexOf("A lockReleased")).toBeGreaterThan(1);
      expect(events.indexOf("A lockReleased")).toBeLessThan(events.indexOf("B lockAcquired"));
      expect(b.handled.length + a.handled.length).toBe(4);
      expect(heardConflicts(bot)).toEqual([]);
    }
  }, 30_000);
});

describe("wall-clock jumps with the file lock", () => {
  // The file lock is the exception: owner files carry their last renewal as an
  // mtime, and both the holder's own expiry check and a waiter's staleness
  // check compare it with the wall clock (src/locks/file.ts). A jump forward
  // past the TTL therefore ends the holder's lease although it renewed on
  // time, and hands the lock over. What must still hold is that nobody polls
  // on a lease that is gone: the old holder stops before the new one polls.
  function fileDir(): string {
    const dir = mkdtempSync(join(tmpdir(), "ps-clock-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  it("a jump backwards changes nothing", async () => {
    const dir = fileDir();
    const { bot, events, a, b } = await pair(() => fileLock({ dir }));
    jumpWallClock(-HOUR);
    bot.pushMessage("after the jump");
    await sleep(2_000);
    await bot.waitFor(() => a.handled.length === 1);
    expect(a.supervisor.status()).toMatchObject({ state: "polling", isPoller: true });
    expect(b.supervisor.state).toBe("standby");
    expect(events).toEqual(["A lockAcquired", "A pollingStarted"]);
  }, 20_000);

  it("a jump forwards past the TTL hands the lock over (a spurious lockLost), but never to two pollers", async () => {
    const dir = fileDir();
    const { bot, events, a, b, bStarted } = await pair(() => fileLock({ dir }));
    jumpWallClock(HOUR);
    await bStarted;
    await expect(a.supervisor.finished).resolves.toMatchObject({ reason: "lock-lost" });
    expect(events.indexOf("A lockLost")).toBeGreaterThan(-1);
    expect(events.indexOf("A lockLost")).toBeLessThan(events.indexOf("B pollingStarted"));
    bot.pushMessage("after the handover");
    await bot.waitFor(() => b.handled.length === 1);
    expect(heardConflicts(bot)).toEqual([]);
  }, 20_000);
});
