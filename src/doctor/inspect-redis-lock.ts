import type { HolderRecord } from "../locks/types.js";
import { lockFree, lockHeld, lockHolderDead } from "./findings.js";
import { checkHolderProcess } from "./holder-liveness.js";
import { freeLockReport, uncheckedLock, type LockInspection } from "./lock-report.js";

/**
 * redisLock's default `keyPrefix`: the lock named `n` lives at
 * `polling-supervisor:lock:n`. A bot that sets its own prefix is not covered.
 */
const LOCK_KEY_PREFIX = "polling-supervisor:lock:";
const COMMAND_TIMEOUT_MS = 2000;

/**
 * The holder of a `redisLock({ url })` lock, with the key's PTTL: a live
 * holder renews it (every `ttlMs / 5` by default), a dead one lets it expire.
 * Reads only (GET and PTTL).
 */
export async function inspectRedisLock(url: string, name: string): Promise<LockInspection> {
  // Loaded on demand, so that the doctor without --redis never touches the Redis modules.
  const [{ redisLock }, { RedisConnection }] = await Promise.all([import("../locks/redis.js"), import("../locks/redis-connection.js")]);
  const backend = redisLock({ url, commandTimeoutMs: COMMAND_TIMEOUT_MS });
  const base = freeLockReport("redis", name, backend.describe(name));
  // The same shared connection redisLock uses for this URL; it never logs the password.
  const connection = RedisConnection.forUrl(url);
  try {
    const holder = await backend.inspect(name);
    const pttl = holder ? Number(await connection.command(["PTTL", LOCK_KEY_PREFIX + name], COMMAND_TIMEOUT_MS)) : -2;
    // -2: the key is gone (released between the two commands).
    if (!holder || pttl === -2) return { lock: base, findings: [lockFree(base)] };
    const { alive, evidence } = checkHolderProcess(holder);
    const lock = { ...base, state: "held" as const, holder, holderAlive: alive, pttlMs: pttl };
    if (alive === false) {
      return { lock, findings: [lockHolderDead(lock, holder, `the key expires in ${pttl} ms without renewals, then a waiting instance takes over at once; start one if none waits`)] };
    }
    return { lock, findings: [lockHeld(lock, holder, `${evidence}; ${ttlEvidence(pttl, alive, holder)}`)] };
  } catch (error) {
    return uncheckedLock(base, error);
  } finally {
    connection.unref();
    await backend.close();
  }
}

function ttlEvidence(pttl: number, alive: boolean | null, holder: HolderRecord): string {
  if (pttl < 0) return "the key has no expiry (not written by redisLock?)";
  const renewal = alive === true ? "" : `; if ${holder.hostname} stopped renewing, it expires then and a waiting instance takes over`;
  return `the key lives ${pttl} ms more unless renewed${renewal}`;
}
