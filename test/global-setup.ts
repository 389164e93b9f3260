import { Redis } from "ioredis";

/**
 * The shared test Redis is long-lived, not a server that just lost a holder's
 * data; mark it so (redisLock's data-loss guard otherwise refuses grants for
 * one TTL on a brand-new server, e.g. the one .ci/run starts). Tests of the
 * guard itself use private servers.
 */
export default async function setup(): Promise<void> {
  const redis = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.set("polling-supervisor:epoch", "0");
  } catch {
    // No shared Redis: the tests that need it fail with their own message.
  } finally {
    redis.disconnect();
  }
}
