import type { Random } from "../random.js";
import { ChaosRedisServer } from "./redis-server.js";
import type { ChaosStore, StoreFaultRecord } from "./types.js";

const KEY_PATTERN = "polling-supervisor:*";

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /**
   * Also restart Redis with its data wiped (a Redis without persistence
   * restarting): the lock key is gone while its holder still polls.
   * @default false
   */
  readonly dataLoss?: boolean;
}

/**
 * The Redis lock store: a private redis-server with an append-only file, as
 * a Redis that keeps its keys across restarts is configured. Faults: the
 * server crashes and restarts (keys kept), every client connection is
 * dropped (`CLIENT KILL`), and optionally a restart that loses every key.
 */
export async function createRedisStore(options: RedisStoreOptions = {}): Promise<ChaosStore> {
  const server = await ChaosRedisServer.start({ persistent: true });
  const faultKinds = ["redis-restart", "redis-drop-connections", ...(options.dataLoss ? ["redis-restart-empty"] : [])];
  return {
    kind: "redis",
    example: "examples/grammy-runner-redis.ts",
    longPollTimeoutSeconds: 30,
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
          return { kind, detail: `SIGKILL redis-server, down ${downMs} ms, restarted with no data`, mayLoseLease: true };
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
