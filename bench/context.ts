import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createBotApiEmulator, type BotApiEmulator, type BotControl, type BotSnapshot, type GetUpdatesRecord, type MethodCallRecord } from "../src/testing/index.js";
import type { BackendKind, LockSpec } from "./fixtures/locks.js";

export const REDIS_URL = process.env["BENCH_REDIS_URL"] ?? "redis://127.0.0.1:6379";
export const DATABASE_URL = process.env["BENCH_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_KEY_PREFIX = "polling-supervisor-bench:";
/** Updates per second pushed during the graceful handovers. */
export const STREAM_RATE = 200;

/** What one bench run shares between its suites. */
export interface BenchContext {
  readonly quick: boolean;
  readonly emulator: BotApiEmulator;
  readonly runId: string;
  /** Unique per run: lock directory, PostgreSQL table. */
  readonly lockDir: string;
  readonly pgTable: string;
  /**
   * The same for every run: a new prefix would make the first grant wait one
   * TTL (the Redis backend's data-loss guard keeps `<prefix>epoch`). Lock
   * names are unique per run (bot ids), and only this run's keys are removed.
   */
  readonly redisKeyPrefix: string;
  /** Every lock name this run used (`bot-<id>`), for the cleanup. */
  readonly lockNames: readonly string[];
  /** A lock spec for `kind` with this run's locations. */
  lockSpec(kind: BackendKind): LockSpec;
  /** A fresh, well-formed token with its own bot id: a new bot in the emulator, a new lock name. */
  newToken(): string;
  log(line: string): void;
  dispose(): Promise<void>;
}

export async function createContext(options: { quick: boolean; log: (line: string) => void }): Promise<BenchContext> {
  // The real server's timing throughout: the 3 s rules are part of what is measured.
  const emulator = await createBotApiEmulator();
  const runId = randomBytes(4).toString("hex");
  const lockDir = mkdtempSync(path.join(tmpdir(), `polling-supervisor-bench-${runId}-`));
  const redisKeyPrefix = REDIS_KEY_PREFIX;
  const lockNames: string[] = [];
  const pgTable = `polling_supervisor_bench_${runId}`;
  let nextBotId = 800_000_000 + Math.floor(Math.random() * 100_000_000);
  return {
    quick: options.quick,
    emulator,
    runId,
    lockDir,
    redisKeyPrefix,
    pgTable,
    lockNames,
    lockSpec(kind) {
      switch (kind) {
        case "memory":
          return { kind, namespace: `bench-${runId}` };
        case "file":
          return { kind, dir: lockDir };
        case "redis":
          return { kind, url: REDIS_URL, keyPrefix: redisKeyPrefix };
        case "postgres":
          return { kind, connectionString: DATABASE_URL, tableName: pgTable };
      }
    },
    newToken() {
      nextBotId += 1 + Math.floor(Math.random() * 1000);
      const token = `${nextBotId}:${randomBytes(27).toString("base64url").slice(0, 35)}`;
      lockNames.push(`bot-${nextBotId}`);
      emulator.registerBot(token);
      return token;
    },
    log: options.log,
    async dispose() {
      await emulator.close();
      rmSync(lockDir, { recursive: true, force: true });
    },
  };
}

/** How a new poller started, as the emulator saw it after `t0`. */
export interface NewPoller {
  /** Its first long poll (a getUpdates sent with `timeout > 0`). */
  readonly poll: GetUpdatesRecord;
  /** Its first Bot API call: the supervisor's preflight getWebhookInfo (absent for a plain bot). */
  readonly preflight: MethodCallRecord | undefined;
}

/**
 * Finds the new poller's start in the records: only a freshly built grammY
 * Bot sends getMe, so its first long poll is the first one after its getMe,
 * and its preflight is the last getWebhookInfo before that getMe (an old
 * holder's own calls come before its release, so before any of these).
 */
export function newPollerAfter(snapshot: BotSnapshot, t0: number): NewPoller | undefined {
  const getMe = snapshot.calls.find((c) => c.method === "getMe" && c.time > t0);
  if (!getMe) return undefined;
  const poll = snapshot.getUpdates.find((g) => g.start > getMe.time && Number(g.params["timeout"] ?? 0) > 0);
  if (!poll) return undefined;
  const preflight = snapshot.calls.filter((c) => c.method === "getWebhookInfo" && c.time > t0 && c.time <= getMe.time).at(-1);
  return { poll, preflight };
}

/** Waits until the emulator has seen the new poller's first long poll after `t0`. */
export async function waitForNewPoller(control: BotControl, t0: number, timeoutMs = 30_000): Promise<{ poller: NewPoller; snapshot: BotSnapshot }> {
  const snapshot = await control.waitFor((s) => newPollerAfter(s, t0) !== undefined, { timeoutMs });
  return { poller: newPollerAfter(snapshot, t0)!, snapshot };
}

/** 409 answers that reached a client still connected: two pollers at once (none for a supervised bot). */
export function conflictsHeard(snapshot: BotSnapshot): number {
  return snapshot.getUpdates.filter((g) => g.outcome.kind === "conflict" && g.clientGoneAt === undefined).length;
}

/** Duplicates and misses in what handlers saw, against the update ids 1..pushed the emulator handed out. */
export function countLostAndDuplicated(pushed: number, handled: readonly number[]): { lost: number; duplicated: number; handled: number } {
  const seen = new Set<number>();
  let duplicated = 0;
  for (const id of handled) {
    if (seen.has(id)) duplicated += 1;
    seen.add(id);
  }
  let lost = 0;
  for (let id = 1; id <= pushed; id++) if (!seen.has(id)) lost += 1;
  return { lost, duplicated, handled: seen.size };
}
