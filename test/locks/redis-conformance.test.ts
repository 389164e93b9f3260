import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { afterAll, beforeAll } from "vitest";
import { redisLock } from "../../src/locks/redis.js";
import { DATA_SINCE_EVER, epochKey } from "../helpers/redis-server.js";
import { describeLockBackend } from "./conformance.js";

const SHARED_URL = "redis://127.0.0.1:6379";
// A prefix of this run's own, so the fencing counters (which never expire) can be dropped afterwards.
const keyPrefix = `ps-conformance-${randomUUID()}:`;

let ioredis: Redis;
let nodeRedis: ReturnType<typeof createClient>;

beforeAll(async () => {
  ioredis = new Redis(SHARED_URL);
  nodeRedis = createClient({ url: SHARED_URL });
  await nodeRedis.connect();
  // A prefix nobody used yet is a brand-new store to redisLock, which grants nothing under it for one TTL
  // (a Redis that lost its data must). The suite expects a store that has been up a while: say so.
  await ioredis.set(epochKey(keyPrefix), DATA_SINCE_EVER);
});

afterAll(async () => {
  const keys = await ioredis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await ioredis.del(...keys);
  ioredis.disconnect();
  nodeRedis.destroy();
});

describeLockBackend("redis (url, owned ioredis connections)", () => redisLock({ url: SHARED_URL, keyPrefix }));
describeLockBackend("redis (injected ioredis client)", () => redisLock({ client: ioredis, keyPrefix }));
describeLockBackend("redis (injected node-redis client)", () => redisLock({ client: nodeRedis, keyPrefix }));
