import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { postgresLock } from "../../src/locks/postgres.js";
import type { HolderRecord, Lease, LockBackend } from "../../src/locks/types.js";
import { PollingSupervisor } from "../../src/supervisor/polling-supervisor.js";
import { createBotApiEmulator, type BotApiEmulator } from "../../src/testing/index.js";
import { loopBot } from "../helpers/loop-bot.js";
import { makeToken } from "../helpers/tokens.js";
import { TerminatingPgProxy } from "./pg-terminating-proxy.js";

// Found by `npm run chaos -- --backend postgres`: pg_terminate_backend on every
// session of the bot's replicas grants the lock to a waiter, then kills that
// waiter's session too. When the FATAL reaches the client in the same read as
// the result of the grant's last statement (the holder-record INSERT), the
// connection is gone before the lease exists. The lease must then say so at
// once; before the fix it looked valid until its first heartbeat, while
// PostgreSQL already granted the lock to the next waiter (two pollers).
// The proxy produces that byte sequence on cue; see pg-terminating-proxy.ts.

const PG_PORT = 5432;
const direct = `postgres://postgres@127.0.0.1:${PG_PORT}/test`;
const SINCE = new Date().toISOString();

function holder(instanceId: string): HolderRecord {
  return { instanceId, hostname: "test-host", pid: process.pid, since: SINCE };
}

let proxy: TerminatingPgProxy;
const backends: LockBackend[] = [];
let emulator: BotApiEmulator | undefined;

beforeEach(async () => {
  proxy = await TerminatingPgProxy.start(PG_PORT);
});

afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
  await proxy.close();
  await emulator?.close();
  emulator = undefined;
});

function backend(url: string): LockBackend {
  const created = postgresLock({ connectionString: url });
  backends.push(created);
  return created;
}

function lostWithin(lease: Lease, ms: number): Promise<boolean> {
  if (lease.lost.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    lease.lost.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe("a PostgreSQL connection that dies right as the lock is granted", () => {
  it("tryAcquire: the lease is lost at once, not at its first heartbeat", async () => {
    const name = `lost-at-grant-${randomUUID()}`;
    const a = backend(`postgres://postgres@127.0.0.1:${proxy.port}/test`);
    await a.inspect(name); // connect and create the table first: the next INSERT is the grant's
    proxy.armAfterNextInsert();
    const lease = await a.tryAcquire({ name, holder: holder("a"), ttlMs: 10_000 });
    expect(proxy.terminated).toBe(1);
    expect(lease).not.toBeNull();
    // PostgreSQL freed the lock with the session: anyone may take it now.
    const other = await backend(direct).tryAcquire({ name, holder: holder("b"), ttlMs: 10_000 });
    expect(other).not.toBeNull();
    // So the first lease must not look valid (a heartbeat would tell only after renewIntervalMs).
    expect(await lostWithin(lease!, 500)).toBe(true);
  });

  it("a waiter granted on a connection that dies: lost at once, so the supervisor never polls on it", async () => {
    const name = `lost-at-grant-waiter-${randomUUID()}`;
    const holderBackend = backend(direct);
    const first = (await holderBackend.tryAcquire({ name, holder: holder("a"), ttlMs: 10_000 }))!;
    const waiterBackend = backend(`postgres://postgres@127.0.0.1:${proxy.port}/test`);
    await waiterBackend.inspect(name);
    const waiting = waiterBackend.acquire({ name, holder: holder("b"), ttlMs: 10_000 }, new AbortController().signal);
    await new Promise((resolve) => setTimeout(resolve, 300)); // blocked in pg_advisory_lock by now
    proxy.armAfterNextInsert();
    await first.release();
    const lease = await waiting;
    expect(proxy.terminated).toBe(1);
    expect(await lostWithin(lease, 500)).toBe(true);
  });

  it("under the supervisor: it reports lockLost and sends no getUpdates", async () => {
    emulator = await createBotApiEmulator({ timing: { longPollSecondMs: 50 } });
    const token = makeToken();
    const bot = emulator.registerBot(token);
    const lock = backend(`postgres://postgres@127.0.0.1:${proxy.port}/test`);
    await lock.inspect(`bot-${token.split(":")[0]}`);
    proxy.armAfterNextInsert();
    const supervisor = new PollingSupervisor({
      adapter: loopBot({ token, apiRoot: emulator.apiRoot }).adapter,
      lock,
      logger: false,
      ttlMs: 10_000,
    });
    const events: string[] = [];
    supervisor.on("lockAcquired", () => events.push("lockAcquired"));
    supervisor.on("lockLost", (e) => events.push(`lockLost ${e.reason}`));
    supervisor.on("pollingStarted", () => events.push("pollingStarted"));
    await expect(supervisor.start()).rejects.toMatchObject({ code: "LOCK_LOST" });
    expect(events).toEqual(["lockAcquired", "lockLost backend"]);
    expect(bot.snapshot().getUpdates).toEqual([]);
  });
});
