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
 * KEYS[1] lock key, KEYS[2] fencing counter; ARGV[1] holder record JSON,
 * ARGV[2] ttl in ms, ARGV[3] a nonce that makes every grant's value unique.
 * Returns `{1, token, value}` when granted, `{0, pttl}` when held.
 */
export const grantScript = script(`
if redis.call('exists', KEYS[1]) == 1 then
  return {0, redis.call('pttl', KEYS[1])}
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
