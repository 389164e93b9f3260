/** The machine, the versions, and the cleanup of what a run leaves in Redis and PostgreSQL. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { redisLock } from "../src/locks/redis.js";
import type { Versions } from "./results.js";

const require = createRequire(import.meta.url);
const ROOT = fileURLToPath(new URL("..", import.meta.url));

function packageVersion(name: string): string {
  try {
    const file = name === "." ? `${ROOT}package.json` : require.resolve(`${name}/package.json`, { paths: [ROOT] });
    return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

export async function collectVersions(redisUrl: string, databaseUrl: string): Promise<Versions> {
  let redisServer: string | null = null;
  let postgresServer: string | null = null;
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    redisServer = /redis_version:(\S+)/.exec(await redis.info("server"))?.[1] ?? null;
  } catch {
    // Reported as null; the Redis suites fail with their own message.
  } finally {
    redis.disconnect();
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    postgresServer = (await client.query<{ server_version: string }>("show server_version")).rows[0]?.server_version ?? null;
  } catch {
    // As above.
  } finally {
    await client.end().catch(() => undefined);
  }
  return {
    node: process.versions.node,
    pollingSupervisor: packageVersion("."),
    grammy: packageVersion("grammy"),
    ioredis: packageVersion("ioredis"),
    pg: packageVersion("pg"),
    redisServer,
    postgresServer,
  };
}

export function machineBasics(): { platform: string; arch: string; cpuModel: string; cpuCount: number; totalMemoryMb: number } {
  const cpus = os.cpus();
  return {
    platform: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cpuCount: cpus.length,
    totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
  };
}

/**
 * Waits until a lock with the default TTL can be granted under `keyPrefix`:
 * on a Redis that has never seen the prefix (or lost its data) the backend
 * refuses grants for one TTL, which is not what the suites measure.
 * Resolves with how long that took.
 */
export async function primeRedis(url: string, keyPrefix: string): Promise<number> {
  const lock = redisLock({ url, keyPrefix });
  const started = performance.now();
  const holder = { instanceId: "bench-prime", hostname: os.hostname(), pid: process.pid, since: new Date().toISOString() };
  try {
    const lease = await lock.acquire({ name: "bench-prime", holder, ttlMs: 10_000 }, AbortSignal.timeout(30_000));
    await lease.release();
  } finally {
    await lock.close();
  }
  return performance.now() - started;
}

/** Removes the Redis keys of the run's locks (fencing counters outlive their locks) and the PostgreSQL holders table. */
export async function cleanUp(redisUrl: string, keyPrefix: string, lockNames: readonly string[], databaseUrl: string, table: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = lockNames.flatMap((name) => [`${keyPrefix}lock:${name}`, `${keyPrefix}fencing:${name}`]);
    for (let i = 0; i < keys.length; i += 1000) await redis.unlink(...keys.slice(i, i + 1000));
  } catch {
    // Best effort.
  } finally {
    redis.disconnect();
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    await client.query(`drop table if exists "${table}"`);
  } catch {
    // Best effort.
  } finally {
    await client.end().catch(() => undefined);
  }
}
