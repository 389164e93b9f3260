import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { advisoryKey, postgresLock } from "../../src/locks/postgres.js";
import type { LockBackend } from "../../src/locks/types.js";
import { PollingSupervisor } from "../../src/supervisor/polling-supervisor.js";
import { createBotApiEmulator, type BotApiEmulator, type BotControl, type BotSnapshot } from "../../src/testing/index.js";
import { parseBotToken } from "../../src/token.js";
import { loopBot, type LoopBot } from "../helpers/loop-bot.js";
import { makeToken } from "../helpers/tokens.js";

// Supervisors in this process, each with its own postgresLock (its own connections, as
// separate processes would have), and a real fault: pg_terminate_backend on the holder's
// connection, from an admin connection. The emulator runs with the real timing.

const CONNECTION_STRING = "postgres://postgres@127.0.0.1:5432/test";

let admin: pg.Client;
let emulator: BotApiEmulator;
let token: string;
let bot: BotControl;
let lockName: string;
/** What happened, in order: `<instance> <event>`. */
let events: string[];
let eventTimes: Map<string, number>;
const supervisors: PollingSupervisor[] = [];
const locks: LockBackend[] = [];

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${events.join(", ")}`);
    await sleep(10);
  }
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: CONNECTION_STRING });
  await admin.connect();
});

afterAll(async () => {
  await admin.end();
});

beforeEach(async () => {
  emulator = await createBotApiEmulator();
  token = makeToken();
  bot = emulator.registerBot(token);
  lockName = `bot-${parseBotToken(token).botId}`;
  events = [];
  eventTimes = new Map();
});

afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop()));
  await Promise.all(locks.splice(0).map((l) => l.close()));
  await emulator.close();
});

function note(entry: string): void {
  events.push(entry);
  eventTimes.set(entry, now());
}

function supervisor(name: string): { supervisor: PollingSupervisor; loop: LoopBot } {
  const lock = postgresLock({ connectionString: CONNECTION_STRING });
  locks.push(lock);
  const loop = loopBot({ token, apiRoot: emulator.apiRoot, reply: true });
  const s = new PollingSupervisor({ adapter: loop.adapter, lock, ttlMs: 2000, logger: false, instanceId: name });
  s.on("standby", () => note(`${name} standby`));
  s.on("lockAcquired", () => note(`${name} lockAcquired`));
  s.on("pollingStarted", () => note(`${name} pollingStarted`));
  s.on("lockLost", () => note(`${name} lockLost`));
  s.on("stopped", (e) => note(`${name} stopped ${e.reason}`));
  supervisors.push(s);
  return { supervisor: s, loop };
}

/** Server pids holding (granted) or waiting for the advisory lock. */
async function lockSessions(): Promise<{ pid: number; granted: boolean }[]> {
  const { rows } = await admin.query<{ pid: number; granted: boolean }>(
    `select pid, granted from pg_locks where locktype = 'advisory' and objsubid = 1
       and classid = (($1::bigint >> 32) & 4294967295)::oid and objid = ($1::bigint & 4294967295)::oid`,
    [advisoryKey(lockName).toString()],
  );
  return rows;
}

/** 409s answered to a client still connected, i.e. heard by a live poller. */
function conflictsHeard(snapshot: BotSnapshot): number {
  return snapshot.getUpdates.filter((g) => g.outcome.kind === "conflict" && g.clientGoneAt === undefined).length;
}

describe("a supervisor on PostgreSQL under server faults", () => {
  it("pg_terminate_backend on the holder's connection: it reports lockLost and stops, the waiting supervisor polls, no 409 heard, no update lost", async () => {
    const { supervisor: a, loop: loopA } = supervisor("a");
    await a.start();
    const { supervisor: b, loop: loopB } = supervisor("b");
    void b.start().catch(() => undefined);
    await until(async () => b.state === "standby" && (await lockSessions()).some((s) => !s.granted), "b blocked in pg_advisory_lock");
    bot.startUpdateStream({ ratePerSecond: 50, count: 100 });
    await bot.waitFor((s) => s.replies.length >= 20);

    const lockLost = new Promise<string>((resolve) => a.once("lockLost", (e) => resolve(e.reason)));
    const [holder] = (await lockSessions()).filter((s) => s.granted);
    await admin.query("select pg_terminate_backend($1)", [holder!.pid]);

    expect(["backend", "refused"]).toContain(await lockLost);
    const { reason, error } = await a.finished;
    expect(reason).toBe("lock-lost");
    expect(error?.code).toBe("LOCK_LOST");
    await until(() => b.state === "polling", "b polling");

    const snapshot = await bot.waitFor((s) => s.streams[0]?.active === false && s.updates.every((u) => u.confirmed), {
      timeoutMs: 20_000,
    });
    expect(events.filter((e) => e.startsWith("a "))).toEqual(["a lockAcquired", "a pollingStarted", "a lockLost", "a stopped lock-lost"]);
    expect(events.filter((e) => e.startsWith("b "))).toEqual(["b standby", "b lockAcquired", "b pollingStarted"]);
    expect(conflictsHeard(snapshot)).toBe(0);
    // A's last long poll was cut before B's first one went out.
    const bFirstPollAt = snapshot.getUpdates.find((g) => g.start > eventTimes.get("b lockAcquired")!)!.start;
    const lastOfA = snapshot.getUpdates.filter((g) => g.start < eventTimes.get("a lockLost")!).at(-1)!;
    expect(lastOfA.clientGoneAt ?? lastOfA.end).toBeLessThan(bFirstPollAt);
    // No update lost; the batch A had not confirmed may come again, nothing more.
    const handled = [...loopA.handled, ...loopB.handled];
    expect(new Set(handled).size).toBe(100);
    const largestBatch = Math.max(...snapshot.getUpdates.map((g) => (g.outcome.kind === "updates" ? g.outcome.updateIds.length : 0)));
    expect(handled.length - 100).toBeLessThanOrEqual(largestBatch);
    // The lock now sits on B's connection alone.
    expect((await lockSessions()).filter((s) => s.granted)).toHaveLength(1);
    expect(a.state).toBe("stopped");
  });
});
