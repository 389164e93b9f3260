import { Redis } from "ioredis";
import { createClient } from "redis";
import { afterAll, beforeAll } from "vitest";
import { redisLock } from "../../src/locks/redis.js";
import { describeLockBackend } from "./conformance.js";

const SHARED_URL = "redis://127.0.0.1:6379";

let ioredis: Redis;
let nodeRedis: ReturnType<typeof createClient>;

beforeAll(async () => {
  ioredis = new Redis(SHARED_URL);
  nodeRedis = createClient({ url: SHARED_URL });
  await nodeRedis.connect();
});

afterAll(() => {
  ioredis.disconnect();
  nodeRedis.destroy();
});

describeLockBackend("redis (url, owned ioredis connections)", () => redisLock({ url: SHARED_URL }));
describeLockBackend("redis (injected ioredis client)", () => redisLock({ client: ioredis }));
describeLockBackend("redis (injected node-redis client)", () => redisLock({ client: nodeRedis }));
