import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBotApiEmulator, type BotApiEmulator, type BotControl } from "../../src/testing/index.js";
import { conflictsHeard, repliesPerMessage } from "../helpers/cross-process-handover.js";
import { killAll, startReplica, type Replica } from "../helpers/replica.js";
import { makeToken } from "../helpers/tokens.js";

// Every example is a program a user copies: each one runs here as two real
// processes against the emulator (real timing), with real signals and the
// real lock stores (shared Redis and PostgreSQL; a fresh bot id per test
// gives a fresh lock name). Type-checking them is `npm run typecheck`:
// tsconfig includes examples/.

const REDIS_URL = "redis://127.0.0.1:6379";
const DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

let emulator: BotApiEmulator;
let token: string;
let bot: BotControl;
let lockDir: string;
const replicas: Replica[] = [];

beforeEach(async () => {
  emulator = await createBotApiEmulator();
  token = makeToken();
  bot = emulator.registerBot(token);
  lockDir = mkdtempSync(join(tmpdir(), "ps-examples-"));
});

afterEach(async () => {
  await killAll(replicas);
  await emulator.close();
  rmSync(lockDir, { recursive: true, force: true });
});

function replica(name: string, script: string): Replica {
  const r = startReplica(name, script, {
    BOT_TOKEN: token,
    BOT_API_ROOT: emulator.apiRoot,
    LOCK_DIR: lockDir,
    REDIS_URL,
    DATABASE_URL,
  });
  replicas.push(r);
  return r;
}

const COUNT = 200;

describe.each([
  "examples/generic-loop.ts",
  "examples/grammy-file-lock.ts",
  "examples/grammy-runner-redis.ts",
  "examples/telegraf-postgres.ts",
])("%s", (script) => {
  it("copies: one polls, a waiting one stops cleanly, SIGTERM hands over, every message answered exactly once, no 409 heard", async () => {
    const a = replica("A", script);
    await a.waitForLine(/polling started/);
    const b = replica("B", script);
    const c = replica("C", script);
    await Promise.all([b.waitForLine(/standby/), c.waitForLine(/standby/)]);
    // A copy stopped while it waits leaves the queue and exits like any other.
    c.child.kill("SIGTERM");
    await expect(c.exited).resolves.toEqual({ code: null, signal: "SIGTERM" });
    expect(c.lines.join("\n")).toMatch(/SIGTERM received[\s\S]*stopped \(stopped\)/);
    expect([...b.lines, ...c.lines].join("\n")).not.toMatch(/polling started/);

    bot.startUpdateStream({ ratePerSecond: 100, count: COUNT });
    await bot.waitFor((s) => s.replies.length >= COUNT / 4);
    a.child.kill("SIGTERM");
    await b.waitForLine(/polling started/);
    await expect(a.exited).resolves.toEqual({ code: null, signal: "SIGTERM" });
    expect(a.lines.join("\n")).toMatch(/SIGTERM received[\s\S]*lock released[\s\S]*stopped \(stopped\)/);

    const snapshot = await bot.waitFor(
      (s) => s.streams[0]?.active === false && s.replies.length >= COUNT && s.updates.every((u) => u.confirmed),
      { timeoutMs: 20_000 },
    );
    const counts = repliesPerMessage(snapshot);
    expect(counts.size).toBe(COUNT);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    expect(snapshot.replies.length).toBe(COUNT);
    expect(snapshot.updates).toHaveLength(COUNT);
    expect(conflictsHeard(snapshot)).toBe(0);
    expect(snapshot.calls.filter((c) => c.method === "deleteWebhook" && c.params["drop_pending_updates"] !== undefined)).toEqual([]);

    b.child.kill("SIGTERM");
    await expect(b.exited).resolves.toEqual({ code: null, signal: "SIGTERM" });
    expect(conflictsHeard(bot.snapshot())).toBe(0);
  });
});

describe("examples/unsupervised-grammy.ts", () => {
  it("reproduces the problem: of two copies, one hears the 409 and stops polling while its process stays up", async () => {
    const a = replica("A", "examples/unsupervised-grammy.ts");
    await a.waitForLine(/polling started \(unsupervised\)/);
    const b = replica("B", "examples/unsupervised-grammy.ts");
    await b.waitForLine(/polling started \(unsupervised\)/);

    const stopped = await Promise.any([a, b].map((r) => r.waitForLine(/polling stopped: .*409/)));
    expect(stopped).toMatch(/terminated by other getUpdates request/);
    // Deaf, not dead: both processes are still running.
    expect([a, b].map((r) => r.child.exitCode)).toEqual([null, null]);
    expect(conflictsHeard(bot.snapshot())).toBeGreaterThan(0);
  });
});
