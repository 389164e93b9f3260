import { randomUUID } from "node:crypto";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";
import { createClient, createCluster } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackendUnavailableError, InvalidOptionError, LockLostError } from "../../src/errors.js";
import type { RedisClientLike, RedisLockOptions } from "../../src/locks/redis.js";
import { redisLock } from "../../src/locks/redis.js";
import type { HolderRecord, Lease, LockBackend } from "../../src/locks/types.js";
import { DATA_SINCE_EVER, epochKey, freePort, PrivateRedisServer } from "../helpers/redis-server.js";

const SHARED_URL = "redis://127.0.0.1:6379";
const SINCE = new Date().toISOString();

function holder(instanceId: string): HolderRecord {
  return { instanceId, hostname: "test-host", pid: process.pid, since: SINCE };
}

const namesUsed: string[] = [];

function uniqueName(label: string): string {
  const name = `${label}-${randomUUID()}`;
  namesUsed.push(name);
  return name;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves to "pending" unless `promise` settled within a few turns of the event loop. */
async function stateOf(promise: Promise<unknown>): Promise<"pending" | "settled"> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await delay(50);
  return settled ? "settled" : "pending";
}

/**
 * Calls renew() from one timer per lease, all due at the same moment, as when
 * several supervisors' renew timers fire together. The busy wait makes sure
 * every timer is due before the timers phase runs (creating them may cross a
 * millisecond boundary).
 */
function renewFromTimersDueTogether(leases: readonly Lease[]): Promise<boolean[]> {
  const renewed = Promise.all(leases.map((lease) => new Promise<boolean>((resolve, reject) => setTimeout(() => lease.renew().then(resolve, reject), 5))));
  const until = performance.now() + 20;
  while (performance.now() < until);
  return renewed;
}

let ioredis: Redis;
let nodeRedis: ReturnType<typeof createClient>;

beforeAll(async () => {
  ioredis = new Redis(SHARED_URL);
  nodeRedis = createClient({ url: SHARED_URL });
  await nodeRedis.connect();
  // The shared Redis has been up a while; on a brand-new one (a fresh CI server), the first grant would wait one
  // TTL (up to a minute here), as redisLock must on a Redis that lost its data. Left in place for other tests.
  await ioredis.set(epochKey(), DATA_SINCE_EVER);
});

afterAll(async () => {
  // Fencing counters never expire (they must keep growing); drop the ones these tests made on the shared Redis.
  if (namesUsed.length > 0) await ioredis.del(...namesUsed.map((name) => `polling-supervisor:fencing:${name}`));
  ioredis.disconnect();
  nodeRedis.destroy();
});

const clientKinds: readonly [string, () => RedisLockOptions][] = [
  ["url (owned ioredis connections)", () => ({ url: SHARED_URL })],
  ["an injected ioredis client", () => ({ client: ioredis })],
  ["an injected node-redis client", () => ({ client: nodeRedis })],
];

describe.each(clientKinds)("redisLock with %s", (_, options) => {
  const backends: LockBackend[] = [];
  function backend(extra: Partial<RedisLockOptions> = {}): LockBackend {
    const created = redisLock({ ...options(), ...extra });
    backends.push(created);
    return created;
  }

  afterAll(async () => {
    await Promise.all(backends.map((b) => b.close()));
  });

  it("grants one holder, stores the holder record and a fencing token as JSON, and counts tokens up", async () => {
    const name = uniqueName("grant");
    const a = backend();
    const b = backend();
    const before = performance.now();
    const first = await a.tryAcquire({ name, holder: holder("a"), ttlMs: 10_000 });
    expect(first).not.toBeNull();
    expect(first!.grantedAt).toBeGreaterThanOrEqual(before);
    expect(first!.grantedAt).toBeLessThanOrEqual(performance.now());
    expect(await b.tryAcquire({ name, holder: holder("b"), ttlMs: 10_000 })).toBeNull();

    const stored = JSON.parse((await ioredis.get(`polling-supervisor:lock:${name}`))!) as Record<string, unknown>;
    expect(stored).toMatchObject({ fencingToken: first!.fencingToken, holder: holder("a") });
    expect(await ioredis.pttl(`polling-supervisor:lock:${name}`)).toBeGreaterThan(9_000);

    await first!.release();
    const second = await b.tryAcquire({ name, holder: holder("b"), ttlMs: 10_000 });
    expect(second!.fencingToken).toBeGreaterThan(first!.fencingToken!);
    await second!.release();
  });

  it("renews while the key is ours; once it is not, renew() is false, lost aborts and release() leaves the new holder alone", async () => {
    const name = uniqueName("renew");
    const a = backend();
    const b = backend();
    const lease = (await a.tryAcquire({ name, holder: holder("a"), ttlMs: 10_000 }))!;
    await ioredis.pexpire(`polling-supervisor:lock:${name}`, 1000);
    expect(await lease.renew()).toBe(true);
    expect(await ioredis.pttl(`polling-supervisor:lock:${name}`)).toBeGreaterThan(9_000);

    // The key expires behind our back and someone else is granted the lock.
    await ioredis.del(`polling-supervisor:lock:${name}`);
    const other = (await b.tryAcquire({ name, holder: holder("b"), ttlMs: 10_000 }))!;
    expect(lease.lost.aborted).toBe(false);
    expect(await lease.renew()).toBe(false);
    expect(lease.lost.aborted).toBe(true);
    expect(lease.lost.reason).toBeInstanceOf(LockLostError);

    await lease.release();
    expect(await b.inspect(name)).toEqual(holder("b"));
    expect(await other.renew()).toBe(true);
    await other.release();
  });

  it("release() is idempotent, inspect() then says nobody holds the lock, renew() says false", async () => {
    const name = uniqueName("release");
    const a = backend();
    const lease = (await a.tryAcquire({ name, holder: holder("a"), ttlMs: 10_000 }))!;
    expect(await a.inspect(name)).toEqual(holder("a"));
    await lease.release();
    await lease.release();
    expect(await a.inspect(name)).toBeNull();
    expect(await lease.renew()).toBe(false);
    expect(lease.lost.aborted).toBe(false);
  });

  it("wakes a waiter by the release message, not by polling (retry interval and TTL are a minute)", async () => {
    const name = uniqueName("wake");
    const a = backend();
    const b = backend({ retryIntervalMs: 60_000 });
    const lease = (await a.tryAcquire({ name, holder: holder("a"), ttlMs: 60_000 }))!;
    const waiting = b.acquire({ name, holder: holder("b"), ttlMs: 60_000 }, new AbortController().signal);
    expect(await stateOf(waiting)).toBe("pending");
    await lease.release();
    const granted = await waiting;
    expect(granted.fencingToken).toBeGreaterThan(lease.fencingToken!);
    expect(await a.inspect(name)).toEqual(holder("b"));
    await granted.release();
  });

  it("wakes a waiter when the holder's key expires (PTTL), without a release message", async () => {
    const name = uniqueName("expire");
    const a = backend();
    const b = backend({ retryIntervalMs: 60_000 });
    const lease = (await a.tryAcquire({ name, holder: holder("a"), ttlMs: 300 }))!;
    const granted = await b.acquire({ name, holder: holder("b"), ttlMs: 10_000 }, new AbortController().signal);
    expect(await lease.renew()).toBe(false);
    expect(lease.lost.aborted).toBe(true);
    await granted.release();
  });

  it("falls back to a jittered retry when the release message is missed", async () => {
    const name = uniqueName("missed");
    const a = backend();
    const b = backend({ retryIntervalMs: 50 });
    await a.tryAcquire({ name, holder: holder("a"), ttlMs: 60_000 });
    const waiting = b.acquire({ name, holder: holder("b"), ttlMs: 10_000 }, new AbortController().signal);
    expect(await stateOf(waiting)).toBe("pending");
    // Deleted without a publish, as when a message is lost while the subscriber reconnects.
    await ioredis.del(`polling-supervisor:lock:${name}`);
    const granted = await waiting;
    await granted.release();
  });

  it("rejects a waiting acquire() with the signal's reason and never takes the lock afterwards", async () => {
    const name = uniqueName("abort");
    const a = backend();
    const b = backend({ retryIntervalMs: 20 });
    const lease = (await a.tryAcquire({ name, holder: holder("a"), ttlMs: 60_000 }))!;
    const controller = new AbortController();
    const waiting = b.acquire({ name, holder: holder("b"), ttlMs: 10_000 }, controller.signal);
    expect(await stateOf(waiting)).toBe("pending");
    const reason = new Error("stop waiting");
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await lease.release();
    await delay(100);
    expect(await a.inspect(name)).toBeNull();
  });

  it("close() releases the leases it granted and rejects its waiters", async () => {
    const name = uniqueName("close");
    const other = uniqueName("close-other");
    const a = redisLock(options());
    const b = backend();
    await a.tryAcquire({ name, holder: holder("a"), ttlMs: 60_000 });
    await b.tryAcquire({ name: other, holder: holder("b"), ttlMs: 60_000 });
    const waiting = a.acquire({ name: other, holder: holder("a"), ttlMs: 60_000 }, new AbortController().signal);
    expect(await stateOf(waiting)).toBe("pending");
    await a.close();
    await expect(waiting).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(await b.inspect(name)).toBeNull();
    await expect(a.tryAcquire({ name, holder: holder("a"), ttlMs: 1000 })).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it("puts keys and channels under keyPrefix", async () => {
    const name = uniqueName("prefix");
    const prefix = `ps-test-${randomUUID()}:`;
    const a = backend({ keyPrefix: prefix });
    const b = backend({ keyPrefix: prefix, retryIntervalMs: 60_000 });
    // A new prefix is a brand-new store: nothing granted for one TTL, since when the marker under the prefix says.
    expect(await a.tryAcquire({ name, holder: holder("a"), ttlMs: 60_000 })).toBeNull();
    expect(Number(await ioredis.get(`${prefix}epoch`))).toBeGreaterThan(0);
    await ioredis.set(`${prefix}epoch`, DATA_SINCE_EVER);
    const lease = (await a.tryAcquire({ name, holder: holder("a"), ttlMs: 60_000 }))!;
    expect(a.describe(name)).toBe(`redis 127.0.0.1:6379 ${prefix}lock:${name}`);
    expect(await ioredis.exists(`${prefix}lock:${name}`, `${prefix}fencing:${name}`, `${prefix}epoch`)).toBe(3);
    const waiting = b.acquire({ name, holder: holder("b"), ttlMs: 60_000 }, new AbortController().signal);
    expect(await stateOf(waiting)).toBe("pending");
    await lease.release();
    await (await waiting).release();
    await ioredis.del(`${prefix}fencing:${name}`, `${prefix}epoch`);
  });
});

describe("redisLock options", () => {
  it("refuses neither or both of url and client, and bad values, naming the option", () => {
    const cases: [() => unknown, string][] = [
      [() => redisLock(), "url"],
      [() => redisLock({ url: undefined }), "url"],
      [() => redisLock({ url: SHARED_URL, client: ioredis }), "url"],
      [() => redisLock({ url: "http://127.0.0.1:6379" }), "url"],
      [() => redisLock({ client: {} as RedisClientLike }), "client"],
      [() => redisLock({ client: { isCluster: true } as unknown as RedisClientLike }), "client"],
      [() => redisLock({ client: createCluster({ rootNodes: [{ url: SHARED_URL }] }) as unknown as RedisClientLike }), "client"],
      [() => redisLock({ client: new Cluster([{ host: "127.0.0.1", port: 6379 }], { lazyConnect: true }) as unknown as RedisClientLike }), "client"],
      [() => redisLock({ url: SHARED_URL, commandTimeoutMs: 0 }), "commandTimeoutMs"],
      [() => redisLock({ url: SHARED_URL, retryIntervalMs: Number.NaN }), "retryIntervalMs"],
    ];
    for (const [make, option] of cases) {
      expect(make).toThrow(InvalidOptionError);
      try {
        make();
      } catch (error) {
        expect((error as InvalidOptionError).option).toBe(option);
      }
    }
  });

  it("never repeats a URL it refuses, which may carry a password", () => {
    expect(() => redisLock({ url: "not a url with s3cret" })).toThrow(/not a valid URL/);
    expect(() => redisLock({ url: "not a url with s3cret" })).not.toThrow(/s3cret/);
  });

  it("rejects a bad acquire request with InvalidOptionError", async () => {
    const lock = redisLock({ url: SHARED_URL });
    await expect(lock.tryAcquire({ name: "", holder: holder("a"), ttlMs: 1000 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(lock.acquire({ name: "x", holder: holder("a"), ttlMs: -1 }, new AbortController().signal)).rejects.toBeInstanceOf(
      InvalidOptionError,
    );
    await lock.close();
  });
});

describe("redisLock when Redis cannot be reached", () => {
  it("rejects with BackendUnavailableError naming host:port and REDIS_URL, never the password", async () => {
    const port = await freePort();
    const lock = redisLock({ url: `redis://user:s3cret-pw@127.0.0.1:${port}`, commandTimeoutMs: 1000 });
    const request = { name: uniqueName("down"), holder: holder("a"), ttlMs: 1000 };
    const error = (await lock.tryAcquire(request).catch((e: unknown) => e)) as BackendUnavailableError;
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.code).toBe("BACKEND_UNAVAILABLE");
    expect(error.message).toContain(`could not reach Redis at 127.0.0.1:${port}`);
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.message).toContain("REDIS_URL");
    expect(error.message).not.toContain("s3cret");
    await expect(lock.acquire(request, new AbortController().signal)).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(lock.inspect(request.name)).rejects.toBeInstanceOf(BackendUnavailableError);
    await lock.close();
  });

  it("says to connect a node-redis client that was passed unconnected", async () => {
    const client = createClient({ url: SHARED_URL });
    const lock = redisLock({ client });
    await expect(lock.tryAcquire({ name: uniqueName("closed"), holder: holder("a"), ttlMs: 1000 })).rejects.toThrow(
      /call `await client.connect\(\)`/,
    );
    await lock.close();
  });
});

describe("redisLock connection sharing and renew batching (private redis-server)", () => {
  let server: PrivateRedisServer;

  beforeAll(async () => {
    server = await PrivateRedisServer.start();
    // A server that has been up a while (a brand-new one grants nothing for one TTL, covered below).
    await server.markDataOld();
  });

  afterAll(async () => {
    await server.stop();
  });

  async function evalshaCalls(): Promise<number> {
    const info = String(await server.command("INFO", "commandstats"));
    return Number(/cmdstat_evalsha:calls=(\d+)/.exec(info)?.[1] ?? 0);
  }

  async function lockClients(): Promise<number> {
    const list = String(await server.command("CLIENT", "LIST"));
    return list.split("\n").filter((line) => line.includes("addr=") && !line.includes("cmd=client|list")).length;
  }

  it("renews the leases of many backends due in the same tick with one script call", async () => {
    const backends = Array.from({ length: 4 }, () => redisLock({ url: server.url }));
    const leases = await Promise.all(
      Array.from({ length: 20 }, (_, i) => backends[i % 4]!.tryAcquire({ name: uniqueName(`batch-${i}`), holder: holder(`h${i}`), ttlMs: 60_000 })),
    );
    // Load the script into the server's cache first, so the counts below are EVALSHA only.
    expect(await leases[0]!.renew()).toBe(true);

    await server.command("CONFIG", "RESETSTAT");
    expect(await Promise.all(leases.map((lease) => lease!.renew()))).toEqual(Array(20).fill(true));
    expect(await evalshaCalls()).toBe(1);

    // Timers that fire together (each supervisor's own renew timer) are one tick too.
    await server.command("CONFIG", "RESETSTAT");
    const renewed = await renewFromTimersDueTogether(leases.map((lease) => lease!));
    expect(renewed).toEqual(Array(20).fill(true));
    expect(await evalshaCalls()).toBe(1);

    // One batch mixes leases that are ours and one that is not.
    await server.command("DEL", `polling-supervisor:lock:${leases[3]!.name}`);
    await server.command("CONFIG", "RESETSTAT");
    const mixed = await Promise.all(leases.map((lease) => lease!.renew()));
    expect(mixed.filter((r) => !r)).toHaveLength(1);
    expect(mixed[3]).toBe(false);
    expect(await evalshaCalls()).toBe(1);
    await Promise.all(backends.map((b) => b.close()));
  });

  it("uses one command and one subscriber connection for every redisLock with the same url", async () => {
    const backends = Array.from({ length: 3 }, () => redisLock({ url: server.url, retryIntervalMs: 60_000 }));
    const name = uniqueName("shared");
    const lease = await backends[0]!.tryAcquire({ name, holder: holder("a"), ttlMs: 60_000 });
    const waiters = backends.slice(1).map((b, i) => b.acquire({ name, holder: holder(`w${i}`), ttlMs: 60_000 }, new AbortController().signal));
    await delay(50);
    expect(await lockClients()).toBe(2);
    await lease!.release();
    const granted = await Promise.race(waiters);
    await granted.release();
    await Promise.all(waiters.map((w) => w.then((l) => l.release())));
    await Promise.all(backends.map((b) => b.close()));
    await delay(50);
    expect(await lockClients()).toBe(0);
  });
});

describe("redisLock after Redis lost its data (private redis-server)", () => {
  let server: PrivateRedisServer;
  const backends: LockBackend[] = [];

  beforeAll(async () => {
    server = await PrivateRedisServer.start();
  });

  afterAll(async () => {
    await Promise.all(backends.map((b) => b.close()));
    await server.stop();
  });

  function backend(extra: Partial<RedisLockOptions> = {}): LockBackend {
    const created = redisLock({ url: server.url, ...extra });
    backends.push(created);
    return created;
  }

  /** The server's clock in ms (TIME), the clock the grant script reads. */
  async function serverMs(): Promise<number> {
    const [seconds, micros] = String(await server.command("EVAL", "return table.concat(redis.call('TIME'), ' ')", "0")).split(" ");
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  async function grantScriptCalls(): Promise<number> {
    const info = String(await server.command("INFO", "commandstats"));
    return Number(/cmdstat_evalsha:calls=(\d+)/.exec(info)?.[1] ?? 0) + Number(/cmdstat_eval:calls=(\d+)/.exec(info)?.[1] ?? 0);
  }

  it("after FLUSHALL, tryAcquire is refused until one TTL has passed since the store came back, then granted; a waiting acquire() wakes when it ends", async () => {
    const ttlMs = 400;
    const name = uniqueName("flushed");
    const a = backend();
    const b = backend({ retryIntervalMs: 60_000 });
    await server.markDataOld();
    const before = (await a.tryAcquire({ name, holder: holder("a"), ttlMs }))!;
    expect(before).not.toBeNull();
    expect(before.fencingToken).toBe(1);
    await before.release();

    // Data lost: the lock key, the fencing counter and the marker are gone.
    await server.command("FLUSHALL");
    const attempts: { readonly sentAfter: number; readonly answeredBefore: number; readonly granted: boolean }[] = [];
    let lease: Lease | null = null;
    while (lease === null) {
      const sentAfter = await serverMs();
      lease = await a.tryAcquire({ name, holder: holder("a"), ttlMs });
      attempts.push({ sentAfter, answeredBefore: await serverMs(), granted: lease !== null });
      // Nobody holds the lock meanwhile, and inspect() says so.
      if (lease === null) expect(await a.inspect(name)).toBeNull();
      await delay(50);
    }
    const epoch = Number(await server.command("GET", epochKey()));
    expect(attempts[0]!.granted).toBe(false);
    expect(attempts.filter((attempt) => attempt.granted)).toHaveLength(1);
    // In the server's own clock: every attempt refused ran less than one TTL after the marker, the grant at least one TTL after.
    for (const attempt of attempts) {
      if (attempt.granted) expect(attempt.answeredBefore - epoch).toBeGreaterThanOrEqual(ttlMs);
      else expect(attempt.sentAfter - epoch).toBeLessThan(ttlMs);
    }
    // Refused attempts spend no fencing token: the counter, lost with the data, starts again.
    expect(lease.fencingToken).toBe(1);
    await lease.release();

    // A waiter sleeps until the guard ends (the refusal's PTTL), not a retry interval (a minute) or a release message.
    await server.command("FLUSHALL");
    await server.command("CONFIG", "RESETSTAT");
    const waited = await b.acquire({ name, holder: holder("b"), ttlMs }, new AbortController().signal);
    const epochAgain = Number(await server.command("GET", epochKey()));
    const expiresAt = Number(await server.command("PEXPIRETIME", `polling-supervisor:lock:${name}`));
    // Granted one TTL after the marker (the key's expiry is its grant + TTL), on the second attempt.
    expect(expiresAt - ttlMs).toBeGreaterThanOrEqual(epochAgain + ttlMs - 1);
    expect(await grantScriptCalls()).toBe(2);
    await waited.release();
  });

  it("a marker ahead of the server clock (the clock stepped back) starts the guard over instead of waiting for the clock", async () => {
    const ttlMs = 300;
    const name = uniqueName("clock-back");
    const a = backend({ retryIntervalMs: 60_000 });
    await server.command("SET", epochKey(), String((await serverMs()) + 3_600_000));
    expect(await a.tryAcquire({ name, holder: holder("a"), ttlMs })).toBeNull();
    const rewritten = Number(await server.command("GET", epochKey()));
    expect(rewritten).toBeLessThanOrEqual(await serverMs());
    const lease = await a.acquire({ name, holder: holder("a"), ttlMs }, new AbortController().signal);
    expect(await a.inspect(name)).toEqual(holder("a"));
    await lease.release();
  });

  it("with its data kept, nothing changes: a marker older than the TTL grants at once, under each prefix on its own", async () => {
    const name = uniqueName("kept");
    const prefix = `ps-test-${randomUUID()}:`;
    await server.markDataOld();
    const lease = await backend().tryAcquire({ name, holder: holder("a"), ttlMs: 60_000 });
    expect(lease).not.toBeNull();
    // Another prefix has its own marker: its first grant waits (it is a new store), the default prefix's is unchanged.
    expect(await backend({ keyPrefix: prefix }).tryAcquire({ name, holder: holder("b"), ttlMs: 60_000 })).toBeNull();
    expect(await server.command("GET", epochKey())).toBe(DATA_SINCE_EVER);
    await lease!.release();
  });
});

describe("redisLock without a client package installed", () => {
  const fixture = fileURLToPath(new URL("./fixtures/redis-missing-client.ts", import.meta.url));
  async function runFixture(hide: string): Promise<Record<string, unknown>> {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", fixture], {
      env: { ...process.env, HIDE_PACKAGES: hide, REDIS_URL: SHARED_URL },
    });
    return JSON.parse(stdout.trim()) as Record<string, unknown>;
  }

  it("uses ioredis when it is installed, falls back to node-redis, and names ioredis when neither is", async () => {
    const [both, noIORedis, neither] = await Promise.all([runFixture(""), runFixture("ioredis"), runFixture("ioredis,redis")]);
    expect(both).toEqual({ granted: true, loaded: ["ioredis"] });
    expect(noIORedis).toEqual({ granted: true, loaded: ["redis"] });
    expect(neither).toMatchObject({
      error: { name: "MissingDependencyError", code: "MISSING_DEPENDENCY", packageName: "ioredis" },
      loaded: [],
    });
    expect((neither["error"] as { message: string }).message).toContain("npm install ioredis");
  });
});
