import { createHash } from "node:crypto";

/**
 * The PostgreSQL advisory lock key of a lock name: the first 8 bytes of
 * SHA-256 of the name (UTF-8), read as a signed 64-bit integer, the type
 * `pg_advisory_lock(bigint)` takes. Every process derives the same key.
 */
export function advisoryKey(name: string): bigint {
  return createHash("sha256").update(name, "utf8").digest().readBigInt64BE(0);
}
