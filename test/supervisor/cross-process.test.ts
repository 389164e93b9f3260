import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createBotApiEmulator, type BotApiEmulator, type BotControl } from "../../src/testing/index.js";
import { killAll, startReplica, type Replica } from "../helpers/replica.js";
import { makeToken } from "../helpers/tokens.js";

// Real processes sharing a lock directory, real signals, the emulator over HTTP.
let emulator: BotApiEmulator;
let token: string;
let bot: BotControl;
let lockDir: string;
const replicas: Replica[] = [];

beforeEach(async () => {
  emulator = await createBotApiEmulator();
  token = makeToken();
  bot = emulator.registerBot(token);
  lockDir = mkdtempSync(join(tmpdir(), "ps-cross-"));
});

afterEach(async () => {
  await killAll(replicas);
  await emulator.close();
  rmSync(lockDir, { recursive: true, force: true });
});

function replica(name: string): Replica {
  const r = startReplica(name, "examples/generic-loop.ts", { BOT_TOKEN: token, BOT_API_ROOT: emulator.apiRoot, LOCK_DIR: lockDir });
  replicas.push(r);
  return r;
}

/** Message ids that got a reply, and how many replies each got. */
function repliesPerMessage(): Map<number, number> {
  const counts = new Map<number, number>();
  for (const reply of bot.snapshot().replies) {
    if (reply.replyToMessageId !== undefined) counts.set(reply.replyToMessageId, (counts.get(reply.replyToMessageId) ?? 0) + 1);
  }
  return counts;
}

describe("across processes with the file lock", () => {
  it("SIGTERM hands over gracefully: every message answered exactly once, and no lock file left behind", async () => {
    const a = replica("A");
    await a.waitForLine(/polling started/);
    const b = replica("B");
    await b.waitForLine(/standby/);
    bot.startUpdateStream({ ratePerSecond: 100, count: 200 });
    await bot.waitFor((s) => s.replies.length >= 50);

    a.child.kill("SIGTERM");
    await b.waitForLine(/polling started/);
    await expect(a.exited).resolves.toEqual({ code: null, signal: "SIGTERM" });
    const aLines = a.lines.join("\n");
    expect(aLines).toMatch(/SIGTERM received[\s\S]*lock released[\s\S]*stopped \(stopped\)/);

    await bot.waitFor((s) => s.replies.length >= 200, { timeoutMs: 20_000 });
    b.child.kill("SIGTERM");
    await b.exited;
    const counts = repliesPerMessage();
    expect(counts.size).toBe(200);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(bot.snapshot().updates.every((u) => u.confirmed)).toBe(true);
    expect(readdirSync(lockDir).filter((f) => !f.startsWith("."))).toEqual([]);
  });
});

describe("crash takeover with the file lock", () => {
  it("SIGKILL of the holder: the waiter polls without waiting out the 60 s lease, and no update is lost", async () => {
    const env = { BOT_TOKEN: token, BOT_API_ROOT: emulator.apiRoot, LOCK_DIR: lockDir };
    const a = startReplica("A", "test/fixtures/long-ttl-replica.ts", env);
    replicas.push(a);
    await a.waitForLine(/polling started/);
    const b = startReplica("B", "test/fixtures/long-ttl-replica.ts", env);
    replicas.push(b);
    await b.waitForLine(/standby/);
    bot.startUpdateStream({ ratePerSecond: 50, count: 100 });
    await bot.waitFor((s) => s.replies.length >= 20);

    a.child.kill("SIGKILL");
    await expect(a.exited).resolves.toEqual({ code: null, signal: "SIGKILL" });
    await b.waitForLine(/polling started/, 20_000);

    const snapshot = await bot.waitFor((s) => s.streams[0]?.active === false && s.updates.every((u) => u.confirmed), {
      timeoutMs: 20_000,
    });
    const handled = new Set(snapshot.replies.map((r) => Number(r.text?.split(" ")[1])));
    expect(snapshot.updates.filter((u) => !handled.has(u.updateId))).toEqual([]);
    // A crash may repeat the batch the holder was handling, never more.
    expect(snapshot.replies.length - handled.size).toBeLessThanOrEqual(
      Math.max(...snapshot.getUpdates.map((g) => (g.outcome.kind === "updates" ? g.outcome.updateIds.length : 0))),
    );
  });
});
