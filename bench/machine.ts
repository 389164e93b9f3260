/** The machine, the versions, and the cleanup of what a run leaves in Redis and PostgreSQL. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
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

/** Removes the run's Redis keys (fencing counters outlive their locks) and PostgreSQL holders table. */
export async function cleanUp(redisUrl: string, keyPrefix: string, databaseUrl: string, table: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== "0");
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
