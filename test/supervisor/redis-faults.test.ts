import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PollingSupervisorError } from "../../src/errors.js";
import { redisLock } from "../../src/locks/redis.js";
import type { LockBackend } from "../../src/locks/types.js";
import type { SupervisorOptions } from "../../src/supervisor/options.js";
import { PollingSupervisor } from "../../src/supervisor/polling-supervisor.js";
import { createBotApiEmulator, type BotApiEmulator, type BotControl, type BotSnapshot } from "../../src/testing/index.js";
import { parseBotToken } from "../../src/token.js";
import { loopBot, type LoopBot } from "../helpers/loop-bot.js";
import { DATA_SINCE_EVER, epochKey, PrivateRedisServer } from "../helpers/redis-server.js";
import { makeToken } from "../helpers/tokens.js";

// Supervisors (in this process, each with its own lock backend, as separate processes
// would have) on a private redis-server that the tests kill, restart, SIGSTOP and SIGCONT.
// Never the shared Redis. The emulator runs with the real timing.

const TTL_MS = 2000;

let server: PrivateRedisServer;
let emulator: BotApiEmulator;
let token: string;
let bot: BotControl;
let lockKey: string;
/** What happened, in order: `<instance> <event>`. */
let events: string[];
/** When each entry of `events` happened (emulator clock). */
let eventTimes: Map<string, number>;
const supervisors: PollingSupervisor[] = [];
const cleanups: (() => unknown)[] = [];

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${events.join(", ")}`);
    await sleep(10);
  }
}

beforeEach(async () => {
  server = await PrivateRedisServer.start();
  // A server that has been up a while: a brand-new (or restarted) one grants nothing for one TTL (RedisLockOptions).
  await server.markDataOld();
  emulator = await createBotApiEmulator();
  token = makeToken();
  bot = emulator.registerBot(token);
  lockKey = `polling-supervisor:lock:bot-${parseBotToken(token).botId}`;
  events = [];
  eventTimes = new Map();
});

afterEach(async () => {
  // A failed test may leave the server paused; stop() would then wait for the release to time out.
  try {
    server.resume();
  } catch {
    // Not running (killed): nothing to resume.
  }
  await Promise.all(supervisors.splice(0).map((s) => s.stop()));
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await emulator.close();
  await server.stop();
});

function track<T extends LockBackend>(lock: T): T {
  cleanups.push(() => lock.close());
  return lock;
}

/** A backend on its own ioredis client, as another process would have. */
function lockOnOwnClient(url = server.url): LockBackend {
  const client = new Redis(url, { maxRetriesPerRequest: 0 });
  client.on("error", () => undefined);
  cleanups.push(() => client.disconnect());
  return track(redisLock({ client, retryIntervalMs: 100 }));
}

function note(entry: string): void {
  events.push(entry);
  eventTimes.set(entry, now());
}

function supervisor(
  name: string,
  lock: LockBackend,
  timing: Partial<Pick<SupervisorOptions, "ttlMs" | "renewDeadlineMs">> = {},
): { supervisor: PollingSupervisor; loop: LoopBot } {
  const loop = loopBot({ token, apiRoot: emulator.apiRoot, reply: true });
  const s = new PollingSupervisor({ adapter: loop.adapter, lock, ttlMs: TTL_MS, ...timing, logger: false, instanceId: name });
  s.on("standby", (e) => note(`${name} standby (held by ${e.holder?.instanceId ?? "?"})`));
  s.on("lockAcquired", () => note(`${name} lockAcquired`));
  s.on("pollingStarted", () => note(`${name} pollingStarted`));
  s.on("lockLost", (e) => note(`${name} lockLost ${e.reason}`));
  s.on("stopped", (e) => note(`${name} stopped ${e.reason}`));
  supervisors.push(s);
  return { supervisor: s, loop };
}

/** 409s answered to a client still connected, i.e. heard by a live poller. */
function conflictsHeard(snapshot: BotSnapshot): number {
  return snapshot.getUpdates.filter((g) => g.outcome.kind === "conflict" && g.clientGoneAt === undefined).length;
}

/**
 * Waits for the holder to renew (its key's PTTL jumps up), and returns the earliest
 * moment the key can expire on the server: the PTTL read right after that renewal,
 * counted from when the read was sent. The next renewal is a renew interval away.
 */
async function expiryRightAfterARenewal(readPttl = async () => Number(await server.command("PTTL", lockKey))): Promise<number> {
  let previous = Number.POSITIVE_INFINITY;
  for (;;) {
    const sentAt = now();
    const pttl = await readPttl();
    expect(pttl).toBeGreaterThan(0);
    if (pttl > previous) return sentAt + pttl;
    previous = pttl;
    await sleep(5);
  }
}

/** Rejoining as a caller would: a new supervisor each attempt, while the store is still unreachable. */
async function rejoin(name: string, lock: LockBackend): Promise<PollingSupervisor> {
  for (let attempt = 0; ; attempt++) {
    const { supervisor: s } = supervisor(`${name}.${attempt}`, lock);
    try {
      await s.start();
      return s;
    } catch (error) {
      if (!(error instanceof PollingSupervisorError) || error.code !== "BACKEND_UNAVAILABLE" || attempt > 50) throw error;
      await sleep(100);
    }
  }
}

describe("a supervisor on Redis under server faults", () => {
  it("server killed: polling stops and lockLost comes before the lease could expire on the server; no restart by itself; a rejoin gives exactly one poller", async () => {
    const lockA = track(redisLock({ url: server.url }));
    const { supervisor: a } = supervisor("a", lockA);
    await a.start();
    await bot.waitFor((s) => s.longPollPending);

    const expiresAt = await expiryRightAfterARenewal();
    await server.kill();
    const killedAt = now();
    const { reason, error } = await a.finished;

    expect(reason).toBe("lock-lost");
    expect(error?.code).toBe("LOCK_LOST");
    expect(events).toEqual(["a lockAcquired", "a pollingStarted", "a lockLost expired", "a stopped lock-lost"]);
    // Invariant 3: lockLost before the key could have expired on the server, so before anyone else could be granted it.
    expect(eventTimes.get("a lockLost expired")!).toBeLessThan(expiresAt);
    // The long poll in flight was aborted, and nothing was sent after it. The emulator sees the aborted request's
    // socket close a moment after `finished` settles (no longer later: the release on the dead connection fails at
    // once instead of waiting in ioredis's offline queue), so wait for it to see that.
    const afterLoss = await bot.waitFor((s) => s.getUpdates.at(-1)?.clientGoneAt !== undefined, { timeoutMs: 1000 });
    const lastPoll = afterLoss.getUpdates.at(-1)!;
    expect(lastPoll.start).toBeLessThan(killedAt);
    expect(lastPoll.clientGoneAt).toBeGreaterThanOrEqual(killedAt);
    expect(lastPoll.clientGoneAt).toBeLessThan(expiresAt);

    // Bring the server back (empty, as a restart without persistence is) once the key would have expired.
    await sleep(Math.max(0, expiresAt - now()) + 50);
    await server.restart();
    await sleep(300);
    expect(a.state).toBe("stopped");
    expect(bot.snapshot().getUpdates).toHaveLength(afterLoss.getUpdates.length);

    // The callers rejoin: the old one with its lock backend, and another instance on its own connection.
    const joining = [rejoin("a2", lockA), rejoin("b", lockOnOwnClient())];
    for (const join of joining) join.catch(() => undefined);
    // Exactly one polls; the other waits in standby (its start() stays pending).
    await Promise.race(joining);
    await until(() => supervisors.filter((s) => s.state === "polling").length === 1, "one poller");
    await until(() => supervisors.filter((s) => s.state === "standby").length === 1, "one standby");

    bot.pushMessage("after the restart");
    const snapshot = await bot.waitFor((s) => s.replies.length === 1 && s.updates.every((u) => u.confirmed));
    expect(conflictsHeard(snapshot)).toBe(0);
    expect(supervisors.map((s) => s.state).filter((state) => state !== "stopped").sort()).toEqual(["polling", "standby"]);
  });

  it("server paused past the TTL: never two pollers; the old holder reports lockLost before the waiter is granted", async () => {
    const { supervisor: a, loop: loopA } = supervisor("a", track(redisLock({ url: server.url })));
    await a.start();
    const { supervisor: b, loop: loopB } = supervisor("b", lockOnOwnClient());
    void b.start().catch(() => undefined);
    await until(() => b.state === "standby", "b in standby");
    expect(events).toContain("b standby (held by a)");
    bot.startUpdateStream({ ratePerSecond: 50, count: 150 });
    await bot.waitFor((s) => s.replies.length >= 20);

    server.pause();
    const pausedAt = performance.now();
    try {
      await until(() => events.includes("a lockLost expired"), "a lockLost");
      // Keep it paused past the TTL, as a long GC pause or a frozen VM would.
      await sleep(pausedAt + TTL_MS + 300 - performance.now());
      expect(b.state).toBe("standby");
    } finally {
      server.resume();
    }
    await until(() => b.state === "polling", "b polling");
    expect((await a.finished).reason).toBe("lock-lost");

    const snapshot = await bot.waitFor((s) => s.streams[0]?.active === false && s.updates.every((u) => u.confirmed), {
      timeoutMs: 20_000,
    });
    expect(events.slice(0, 4)).toEqual(["a lockAcquired", "a pollingStarted", "b standby (held by a)", "a lockLost expired"]);
    expect(events.filter((e) => e.startsWith("b "))).toEqual(["b standby (held by a)", "b lockAcquired", "b pollingStarted"]);
    expect(conflictsHeard(snapshot)).toBe(0);
    // Nothing polled between A's loss and B's grant: A's long poll was aborted, and A sent no other.
    const lostAt = eventTimes.get("a lockLost expired")!;
    expect(snapshot.getUpdates.filter((g) => g.start > lostAt && g.start < eventTimes.get("b lockAcquired")!)).toEqual([]);
    const lastOfA = snapshot.getUpdates.filter((g) => g.start < lostAt).at(-1)!;
    expect(lastOfA.clientGoneAt ?? lastOfA.end).toBeLessThan(eventTimes.get("b lockAcquired")!);
    // No update lost; the one batch A had not confirmed when it stopped may come again.
    const handled = [...loopA.handled, ...loopB.handled];
    expect(new Set(handled).size).toBe(150);
    const largestBatch = Math.max(...snapshot.getUpdates.map((g) => (g.outcome.kind === "updates" ? g.outcome.updateIds.length : 0)));
    expect(handled.length - 150).toBeLessThanOrEqual(largestBatch);
    // The key is B's: A's renewals and release, answered after SIGCONT, did not touch it.
    const stored = JSON.parse(String(await server.command("GET", lockKey))) as { holder: { instanceId: string } };
    expect(stored.holder.instanceId).toBe("b");
  });

  it("server killed and restarted with its data (AOF): lockLost comes before the key expires, and an instance on the restarted server is granted only after", async () => {
    const persistent = await PrivateRedisServer.start({ persistent: true });
    cleanups.push(() => persistent.stop());
    // Up a while, as above; the marker is data, so the AOF keeps it and the restart below brings no grant guard.
    const seed = new Redis(persistent.url);
    await seed.set(epochKey(), DATA_SINCE_EVER);
    seed.disconnect();
    // The key outlives the holder's renew deadline by seconds, so it is still there after the restart.
    const timing = { ttlMs: 5000, renewDeadlineMs: 1500 };
    const { supervisor: a } = supervisor("a", track(redisLock({ url: persistent.url })), timing);
    await a.start();
    await bot.waitFor((s) => s.longPollPending);

    const observer = new Redis(persistent.url, { maxRetriesPerRequest: 0 });
    observer.on("error", () => undefined);
    cleanups.push(() => observer.disconnect());
    const expiresAt = await expiryRightAfterARenewal(() => observer.pttl(lockKey));
    observer.disconnect();
    await persistent.kill();
    // A gives up (its release fails while the server is down) long before its key expires.
    expect((await a.finished).reason).toBe("lock-lost");
    const polls = bot.snapshot().getUpdates.length;
    await persistent.restart();

    // Another instance joins the restarted server at once: it finds A's key and waits for it to expire.
    const { supervisor: b } = supervisor("b", lockOnOwnClient(persistent.url), timing);
    await b.start();
    expect(events).toEqual([
      "a lockAcquired",
      "a pollingStarted",
      "a lockLost expired",
      "a stopped lock-lost",
      "b standby (held by a)",
      "b lockAcquired",
      "b pollingStarted",
    ]);
    expect(eventTimes.get("a lockLost expired")!).toBeLessThan(expiresAt);
    expect(eventTimes.get("b lockAcquired")!).toBeGreaterThanOrEqual(expiresAt);
    // A sent nothing after its loss and never polled again by itself; the polls since are B's.
    expect(a.state).toBe("stopped");
    const snapshot = bot.snapshot();
    expect(snapshot.getUpdates.slice(polls).every((g) => g.start > eventTimes.get("b lockAcquired")!)).toBe(true);
    bot.pushMessage("after the restart");
    expect(conflictsHeard(await bot.waitFor((s) => s.replies.length === 1 && s.updates.every((u) => u.confirmed)))).toBe(0);
  });

  it("server killed and restarted at once without its data: the holder reports lockLost, not conflict, before the waiter is granted; no live 409, no update lost", async () => {
    const { supervisor: a, loop: loopA } = supervisor("a", track(redisLock({ url: server.url })));
    await a.start();
    const { supervisor: b, loop: loopB } = supervisor("b", lockOnOwnClient());
    void b.start().catch(() => undefined);
    await until(() => b.state === "standby", "b in standby");
    bot.startUpdateStream({ ratePerSecond: 50, count: 150 });
    await bot.waitFor((s) => s.replies.length >= 20);

    // A restart without persistence (a crashed container, a Redis without AOF/RDB): A's key is gone,
    // while A's lease is still valid by its own clock until its renew deadline.
    await server.kill();
    const killedAt = now();
    await server.restart();
    await until(() => b.state === "polling", "b polling");
    const { reason } = await a.finished;

    expect(reason).toBe("lock-lost");
    const lostEntry = events.find((e) => e.startsWith("a lockLost"));
    expect(lostEntry, events.join(", ")).toBeDefined();
    expect(events.filter((e) => e.startsWith("a "))).toEqual(["a lockAcquired", "a pollingStarted", lostEntry, "a stopped lock-lost"]);
    expect(events.filter((e) => e.startsWith("b "))).toEqual(["b standby (held by a)", "b lockAcquired", "b pollingStarted"]);
    // Invariant 3: A's lockLost came before B was granted the lock.
    const lostAt = eventTimes.get(lostEntry!)!;
    const grantedAt = eventTimes.get("b lockAcquired")!;
    expect(lostAt).toBeLessThan(grantedAt);
    // The restarted server granted nothing for one TTL after it came back (it came back after the kill).
    expect(grantedAt).toBeGreaterThanOrEqual(killedAt + TTL_MS - 50);

    const snapshot = await bot.waitFor((s) => s.streams[0]?.active === false && s.updates.every((u) => u.confirmed), {
      timeoutMs: 20_000,
    });
    expect(conflictsHeard(snapshot)).toBe(0);
    // Nothing polled between A's loss and B's grant, and A's last long poll was gone before B's grant.
    expect(snapshot.getUpdates.filter((g) => g.start > lostAt && g.start < grantedAt)).toEqual([]);
    const lastOfA = snapshot.getUpdates.filter((g) => g.start < lostAt).at(-1)!;
    expect(lastOfA.clientGoneAt ?? lastOfA.end).toBeLessThan(grantedAt);
    // No update lost; the one batch A had not confirmed when it stopped may come again.
    const handled = [...loopA.handled, ...loopB.handled];
    expect(new Set(handled).size).toBe(150);
    const largestBatch = Math.max(...snapshot.getUpdates.map((g) => (g.outcome.kind === "updates" ? g.outcome.updateIds.length : 0)));
    expect(handled.length - 150).toBeLessThanOrEqual(largestBatch);
    expect(a.state).toBe("stopped");
  });
});
