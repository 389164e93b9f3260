import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { InvalidOptionError } from "../errors.js";
import { redactTokens } from "../token.js";
import type { AcquireRequest, HolderRecord } from "./types.js";

/** The longest TTL a timer can represent (setTimeout's limit, about 24.8 days). */
const MAX_TTL_MS = 2_147_483_647;

/**
 * The holder record for this process: the given instance id with this
 * machine's hostname, this process's pid and the current time.
 *
 * @param instanceId - The supervisor's instance id. @default a random UUID
 * @param since - When this holder started waiting or holding. @default now
 */
export function createHolderRecord(instanceId: string = randomUUID(), since: Date = new Date()): HolderRecord {
  if (typeof instanceId !== "string" || instanceId.length === 0) {
    throw new InvalidOptionError("instanceId", `Expected \`instanceId\` to be a non-empty string, got ${describeValue(instanceId)}`);
  }
  if (!(since instanceof Date) || Number.isNaN(since.getTime())) {
    throw new InvalidOptionError("since", `Expected \`since\` to be a valid Date, got ${describeValue(since)}`);
  }
  return { instanceId, hostname: hostname(), pid: process.pid, since: since.toISOString() };
}

/**
 * Throws {@link InvalidOptionError} unless `request` has a non-empty name, a
 * holder record and a TTL a timer can represent. Backends call it first in
 * `tryAcquire` and `acquire`, so a bad request fails the same way everywhere.
 */
export function assertAcquireRequest(request: AcquireRequest): void {
  const { name, holder, ttlMs } = request;
  if (typeof name !== "string" || name.length === 0) {
    throw new InvalidOptionError("name", `Expected the lock \`name\` to be a non-empty string, got ${describeValue(name)}`);
  }
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TTL_MS) {
    throw new InvalidOptionError(
      "ttlMs",
      `Expected \`ttlMs\` to be a positive finite number of milliseconds up to ${MAX_TTL_MS}, got ${describeValue(ttlMs)}`,
    );
  }
  if (typeof holder !== "object" || holder === null || typeof holder.instanceId !== "string") {
    throw new InvalidOptionError(
      "holder",
      `Expected \`holder\` to be a holder record ({ instanceId, hostname, pid, since }), got ${describeValue(holder)}`,
    );
  }
}

/**
 * Throws {@link InvalidOptionError} unless `options` is an options object (or
 * undefined): `redisLock(process.env.REDIS_URL)` must not silently mean
 * "no options". The value is not shown: it may be a URL with a password.
 */
export function assertOptionsObject(options: unknown, usage: string): void {
  if (options === undefined || (typeof options === "object" && options !== null && !Array.isArray(options))) return;
  const got = options === null ? "null" : Array.isArray(options) ? "an array" : `a ${typeof options}`;
  throw new InvalidOptionError("options", `Expected an options object, as in ${usage}, got ${got}.`);
}

/** A short rendering of a bad option value for error messages; a token passed by mistake shows as `<botId>:***`. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(redactTokens(value));
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  return `a value of type ${typeof value}`;
}
