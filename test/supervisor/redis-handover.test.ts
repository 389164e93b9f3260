import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crashTakeover, fencingTokenOf, gracefulHandover, now, useHandover } from "../helpers/cross-process-handover.js";

// Two real processes under redisLock on the shared Redis (a fresh bot id per test is a
// fresh key), the emulator in this process, real signals. The server itself is never touched.

const REDIS_URL = "redis://127.0.0.1:6379";
/** Short, so the crash takeover (which waits for the key to expire) stays quick. */
const TTL_MS = "2000";

const ctx = useHandover({ LOCK_BACKEND: "redis", REDIS_URL });
let redis: Redis;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});

afterAll(() => {
  redis.disconnect();
});

describe("redisLock across processes", () => {
  it("SIGTERM: the waiter takes over on the release message; no update lost or repeated; a larger fencing token", async () => {
    const { a, b } = await gracefulHandover(ctx, { TTL_MS });
    expect(fencingTokenOf(b)).toBeGreaterThan(fencingTokenOf(a)!);
    // Released, not expired: the key now belongs to B.
    const stored = await redis.get(`polling-supervisor:lock:bot-${ctx.botId}`);
    expect(JSON.parse(stored!).fencingToken).toBe(fencingTokenOf(b));
  });

  it("SIGKILL: the key outlives the holder; the waiter polls only once it expired; no update lost, at most one batch repeated", async () => {
    const key = `polling-supervisor:lock:bot-${ctx.botId}`;
    let lastSeenHeldAt = 0;
    let heldAfterKillBy: number | undefined;
    const { a, b, killedAt, snapshot } = await crashTakeover(ctx, { TTL_MS, HANDLE_MS: "5" }, async () => {
      // Watch the dead holder's key until Redis expires it.
      for (;;) {
        const sentAt = now();
        const value = await redis.get(key);
        const token = value === null ? undefined : (JSON.parse(value) as { fencingToken: number }).fencingToken;
        if (token === undefined || (heldAfterKillBy !== undefined && token !== heldAfterKillBy)) return;
        heldAfterKillBy = token;
        lastSeenHeldAt = sentAt;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    // The key outlived A, and B's first getUpdates came after the last moment it was seen.
    expect(heldAfterKillBy).toBe(fencingTokenOf(a));
    const firstPollOfB = snapshot.getUpdates.find((g) => g.start > killedAt);
    expect(firstPollOfB!.start).toBeGreaterThan(lastSeenHeldAt);
    expect(fencingTokenOf(b)).toBeGreaterThan(fencingTokenOf(a)!);
  });
});
