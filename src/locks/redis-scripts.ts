import { createHash } from "node:crypto";

/** A Lua script sent with EVALSHA, falling back to EVAL when the server has not cached it yet. */
export interface RedisScript {
  readonly source: string;
  readonly sha1: string;
}

function script(source: string): RedisScript {
  return { source, sha1: createHash("sha1").update(source).digest("hex") };
}

/**
 * Grants the lock when the key is free: `SET key value NX PX ttl` and `INCR`
 * of the fencing counter in one atomic step, so every grant gets a larger
 * token and no token is spent on a refused attempt.
 *
 * Refuses every grant for one TTL after the store lost its data (a restart
 * without persistence, FLUSHALL/FLUSHDB, a brand-new server or key prefix):
 * the epoch marker, a key with no expiry, holds the server time (ms, from
 * `TIME`) when it was first written, and a grant needs `now - epoch >= ttl`.
 * A holder from before the loss was last renewed before the loss, and gives
 * its lease up at its renew deadline (below its TTL) after that renewal, so
 * nobody from before can still believe it holds the lock once one TTL has
 * passed since the marker was written. Where the marker survives (AOF, RDB),
 * nothing changes. A marker later than `now` (the server clock stepped back)
 * is rewritten to `now`: the guard starts over rather than running for as
 * long as the clock went back.
 *
 * `TIME` is not deterministic: a script may write after it only while Redis
 * replicates the script's effects, not the script (always since Redis 7,
 * the default since 5, switched on with `redis.replicate_commands()` in
 * 3.2 to 4). Where that is not available (before 3.2), or `TIME` fails in a
 * script (a Redis-compatible server without it), the guard is skipped and
 * the lock is granted as before: no protection against data loss there.
 *
 * KEYS[1] lock key, KEYS[2] fencing counter, KEYS[3] epoch marker;
 * ARGV[1] holder record JSON, ARGV[2] ttl in ms, ARGV[3] a nonce that makes
 * every grant's value unique.
 * Returns `{1, token, value}` when granted, `{0, pttl}` when held or while
 * the guard lasts (pttl: ms until it ends).
 */
export const grantScript = script(`
local ttl = tonumber(ARGV[2])
local now = nil
local effects = redis.REDIS_VERSION_NUM ~= nil
if not effects and redis.replicate_commands then
  effects = redis.replicate_commands()
end
if effects then
  local ok, time = pcall(redis.call, 'time')
  if ok and type(time) == 'table' and time[2] then
    now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  end
end
local epoch = nil
if now then
  epoch = tonumber(redis.call('get', KEYS[3]))
  if epoch == nil or epoch > now then
    epoch = now
    redis.call('set', KEYS[3], tostring(now))
  end
end
if redis.call('exists', KEYS[1]) == 1 then
  return {0, redis.call('pttl', KEYS[1])}
end
if now and now - epoch < ttl then
  return {0, ttl - (now - epoch)}
end
local token = redis.call('incr', KEYS[2])
local value = '{"fencingToken":' .. token .. ',"nonce":"' .. ARGV[3] .. '","holder":' .. ARGV[1] .. '}'
redis.call('set', KEYS[1], value, 'NX', 'PX', ARGV[2])
return {1, token, value}
`);

/**
 * Compare-and-pexpire over any number of leases: one round trip renews every
 * lease whose renewal is due in the same tick.
 *
 * KEYS[i] lock key; ARGV[2i-1] the value the lease was granted with,
 * ARGV[2i] ttl in ms. Returns one 1 (renewed) or 0 (not ours) per key.
 */
export const renewScript = script(`
local renewed = {}
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[2 * i - 1] then
    redis.call('pexpire', key, ARGV[2 * i])
    renewed[i] = 1
  else
    renewed[i] = 0
  end
end
return renewed
`);

/**
 * Compare-and-delete, then a publish so waiters retry at once.
 *
 * KEYS[1] lock key; ARGV[1] the lease's value, ARGV[2] the release channel.
 * Returns 1 when it deleted the key, 0 when the lease was no longer ours.
 */
export const releaseScript = script(`
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  redis.call('publish', ARGV[2], 'released')
  return 1
end
return 0
`);
