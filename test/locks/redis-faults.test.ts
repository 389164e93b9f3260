import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BackendUnavailableError } from "../../src/errors.js";
import { redisLock } from "../../src/locks/redis.js";
import type { HolderRecord, Lease, LockBackend } from "../../src/locks/types.js";
import { PrivateRedisServer } from "../helpers/redis-server.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

// Real faults on a private redis-server (never the shared one): SIGKILL and
// restart, SIGSTOP past the TTL, and a connection cut by a TCP proxy.

const SINCE = new Date().toISOString();

function holder(instanceId: string): HolderRecord {
  return { instanceId, hostname: "test-host", pid: process.pid, since: SINCE };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** renew() until Redis answers (the client reconnects on its own after a fault); the answer. */
async function renewOnceReachable(lease: Lease): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await lease.renew();
    } catch (error) {
      if (!(error instanceof BackendUnavailableError) || attempt > 100) throw error;
      await delay(50);
    }
  }
}

let server: PrivateRedisServer;
const cleanups: (() => Promise<void> | void)[] = [];

function track<T extends LockBackend>(backend: T): T {
  cleanups.push(() => backend.close());
  return backend;
}

/** A second client to the private server, standing in for another process. */
function otherProcessClient(): Redis {
  const client = new Redis(server.url, { maxRetriesPerRequest: 0 });
  // Connection errors are expected here (the server gets killed); the lock reports them itself.
  client.on("error", () => undefined);
  cleanups.push(() => client.disconnect());
  return client;
}

beforeAll(async () => {
  server = await PrivateRedisServer.start();
});

beforeEach(async () => {
  // Each test starts on a server that has been up a while (a brand-new or restarted one grants nothing for
  // one TTL, see RedisLockOptions); the tests that restart it meet that guard afterwards.
  await server.markDataOld();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await server.stop();
});

describe("redisLock under Redis faults", () => {
  it("server killed while a lease is held: renew rejects; after a restart another backend is granted (one TTL later) and the old lease is lost", async () => {
    const name = `kill-${randomUUID()}`;
    const a = track(redisLock({ url: server.url, commandTimeoutMs: 500 }));
    const lease = (await a.tryAcquire({ name, holder: holder("a"), ttlMs: 1_000 }))!;
    expect(lease).not.toBeNull();

    await server.kill();
    await expect(lease.renew()).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(lease.lost.aborted).toBe(false);

    await server.restart();
    const b = track(redisLock({ client: otherProcessClient() }));
    // The restarted server lost its data: it grants nothing for one TTL, while A may still think it holds the lock.
    expect(await b.tryAcquire({ name, holder: holder("b"), ttlMs: 1_000 })).toBeNull();
    const taken = await b.acquire({ name, holder: holder("b"), ttlMs: 1_000 }, new AbortController().signal);
    expect(taken).not.toBeNull();

    expect(await renewOnceReachable(lease)).toBe(false);
    expect(lease.lost.aborted).toBe(true);
    expect(await b.inspect(name)).toEqual(holder("b"));
  });

  it("server paused past the TTL: the old holder never renews again, the waiter is granted once, never two holders", async () => {
    const name = `pause-${randomUUID()}`;
    const a = track(redisLock({ url: server.url, commandTimeoutMs: 300 }));
    const b = track(redisLock({ client: otherProcessClient(), retryIntervalMs: 100 }));

    const lease = (await a.tryAcquire({ name, holder: holder("a"), ttlMs: 600 }))!;
    const events: string[] = [];
    const waiting = b.acquire({ name, holder: holder("b"), ttlMs: 10_000 }, new AbortController().signal).then((granted) => {
      events.push("b granted");
      return granted;
    });
    await delay(50);

    server.pause();
    try {
      // A paused server answers nothing: renew must reject (the supervisor retries until its deadline).
      await expect(lease.renew()).rejects.toBeInstanceOf(BackendUnavailableError);
      await delay(700);
    } finally {
      server.resume();
    }

    const granted = await waiting;
    const renewed = await renewOnceReachable(lease);
    events.push(`a renewed: ${renewed}`);
    expect(renewed).toBe(false);
    expect(lease.lost.aborted).toBe(true);
    expect(await b.inspect(name)).toEqual(holder("b"));
    expect(await granted.renew()).toBe(true);
    expect(events).toEqual(["b granted", "a renewed: false"]);
  });

  it("client connection cut by a proxy: renew rejects, the other side is granted after the TTL, the cut holder then learns it lost", async () => {
    const name = `cut-${randomUUID()}`;
    const proxy = await TcpProxy.start(server.port);
    cleanups.push(() => proxy.close());
    const a = track(redisLock({ url: `redis://127.0.0.1:${proxy.port}`, commandTimeoutMs: 500 }));
    const b = track(redisLock({ url: server.url, retryIntervalMs: 100 }));

    const lease = (await a.tryAcquire({ name, holder: holder("a"), ttlMs: 800 }))!;
    const waiting = b.acquire({ name, holder: holder("b"), ttlMs: 10_000 }, new AbortController().signal);
    proxy.cut();
    await expect(lease.renew()).rejects.toBeInstanceOf(BackendUnavailableError);

    const granted = await waiting;
    expect(await b.inspect(name)).toEqual(holder("b"));

    proxy.restore();
    expect(await renewOnceReachable(lease)).toBe(false);
    expect(lease.lost.aborted).toBe(true);
    // The cut holder's release must not delete the new holder's key.
    await lease.release();
    expect(await b.inspect(name)).toEqual(holder("b"));
    await granted.release();
  });

  it("a waiter survives a Redis restart while it waits and is granted afterwards", async () => {
    const name = `restart-waiter-${randomUUID()}`;
    const a = track(redisLock({ url: server.url, commandTimeoutMs: 500 }));
    const b = track(redisLock({ client: otherProcessClient(), retryIntervalMs: 100, commandTimeoutMs: 500 }));
    await a.tryAcquire({ name, holder: holder("a"), ttlMs: 60_000 });
    // The restarted server grants nothing for one TTL of the request (b's): a short one keeps the test short.
    const waiting = b.acquire({ name, holder: holder("b"), ttlMs: 1_000 }, new AbortController().signal);
    await delay(50);
    await server.kill();
    await delay(300);
    await server.restart();
    const granted = await waiting;
    expect(await b.inspect(name)).toEqual(holder("b"));
    await granted.release();
  });

  it("a grant that lands after tryAcquire() gave up waiting is undone, so it does not block others for the TTL", async () => {
    const name = `late-grant-${randomUUID()}`;
    const a = track(redisLock({ url: server.url, commandTimeoutMs: 200 }));
    await a.inspect(name);
    server.pause();
    let attempt: Promise<unknown>;
    try {
      attempt = a.tryAcquire({ name, holder: holder("a"), ttlMs: 60_000 });
      await expect(attempt).rejects.toBeInstanceOf(BackendUnavailableError);
    } finally {
      server.resume();
    }
    // The grant script still runs once the server resumes; the release that follows it runs right after.
    const b = track(redisLock({ client: otherProcessClient() }));
    let holderSeen: HolderRecord | null = holder("a");
    for (let i = 0; i < 100 && holderSeen !== null; i++) {
      await delay(20);
      holderSeen = await b.inspect(name);
    }
    expect(holderSeen).toBeNull();
    expect(await server.command("GET", `polling-supervisor:fencing:${name}`)).toBe("1");
  });
});
