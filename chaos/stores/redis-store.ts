import type { Random } from "../random.js";
import { ChaosRedisServer } from "./redis-server.js";
import type { ChaosStore, StoreFaultRecord } from "./types.js";

const KEY_PATTERN = "polling-supervisor:*";

/**
 * The Redis lock store: a private redis-server with an append-only file, as
 * a Redis that keeps its keys across restarts is configured. Faults: the
 * server crashes and restarts with its keys, crashes and restarts with its
 * data gone (a Redis without persistence: the lock key vanishes while its
 * holder polls, which redisLock's data-loss guard must cover), and every
 * client connection is dropped (`CLIENT KILL`).
 */
export async function createRedisStore(): Promise<ChaosStore> {
  const server = await ChaosRedisServer.start({ persistent: true });
  await markDataKeptSince(server, 86_400_000);
  const faultKinds = ["redis-restart", "redis-restart-empty", "redis-drop-connections"];
  return {
    kind: "redis",
    example: "examples/grammy-runner-redis.ts",
    longPollTimeoutSeconds: 30,
    confirmsBeforeHandling: true,
    faultKinds,
    env: () => ({ REDIS_URL: server.url }),
    async injectFault(kind: string, random: Random): Promise<StoreFaultRecord> {
      switch (kind) {
        case "redis-restart": {
          const downMs = random.int(100, 1500);
          await server.crashAndRestart(downMs, false);
          return { kind, detail: `SIGKILL redis-server, down ${downMs} ms, restarted with its append-only file`, mayLoseLease: false };
        }
        case "redis-restart-empty": {
          const downMs = random.int(100, 1500);
          await server.crashAndRestart(downMs, true);
          return { kind, detail: `SIGKILL redis-server, down ${downMs} ms, restarted with its data gone`, mayLoseLease: true };
        }
        case "redis-drop-connections": {
          const normal = Number(await server.admin.call("CLIENT", "KILL", "TYPE", "normal"));
          const pubsub = Number(await server.admin.call("CLIENT", "KILL", "TYPE", "pubsub"));
          return { kind, detail: `CLIENT KILL: ${normal} command and ${pubsub} pub/sub connections dropped`, mayLoseLease: false };
        }
        default:
          throw new Error(`the redis store has no fault "${kind}"`);
      }
    },
    async contents() {
      const keys = (await server.admin.keys(KEY_PATTERN)) as string[];
      const found: string[] = [];
      for (const key of keys) {
        const value = await server.admin.get(key).catch(() => null);
        found.push(`${key}\n${value ?? ""}`);
      }
      return found;
    },
    close: () => server.stop(),
  };
}

/**
 * redisLock refuses grants for one TTL after it finds Redis without its
 * `<keyPrefix>epoch` marker (a data loss, or a brand-new server). The
 * private server stands for one that has kept its data for `ageMs`, so the
 * first grant does not wait; the marker then survives the restarts that
 * keep the data, and goes with the ones that do not.
 */
async function markDataKeptSince(server: ChaosRedisServer, ageMs: number): Promise<void> {
  const [seconds, micros] = (await server.admin.time()) as [string | number, string | number];
  const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  await server.admin.set("polling-supervisor:epoch", String(nowMs - ageMs));
}
