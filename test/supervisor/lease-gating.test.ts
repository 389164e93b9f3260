import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileLock } from "../../src/locks/file.js";
import { memoryLock } from "../../src/locks/memory.js";
import { PollingSupervisor } from "../../src/supervisor/polling-supervisor.js";
import { createBotApiEmulator, type BotApiEmulator, type BotControl } from "../../src/testing/index.js";
import { loopBot } from "../helpers/loop-bot.js";
import { makeToken } from "../helpers/tokens.js";

let emulator: BotApiEmulator;
let token: string;
let bot: BotControl;
const supervisors: PollingSupervisor[] = [];

beforeEach(async () => {
  emulator = await createBotApiEmulator({ timing: { longPollSecondMs: 50, conflictDelayMs: 20 } });
  token = makeToken();
  bot = emulator.registerBot(token);
});

afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.stop()));
  await emulator.close();
});

const now = () => performance.timeOrigin + performance.now();

function supervisor(namespace: string, name: string, events: string[]) {
  const { adapter, handled } = loopBot({ token, apiRoot: emulator.apiRoot });
  const s = new PollingSupervisor({
    adapter,
    lock: memoryLock({ namespace }),
    logger: false,
    instanceId: name,
    ttlMs: 600,
    renewDeadlineMs: 400,
    renewIntervalMs: 100,
  });
  s.on("lockAcquired", () => events.push(`${name} lockAcquired`));
  s.on("lockLost", (e) => events.push(`${name} lockLost ${e.reason}`));
  s.on("pollingStarted", () => events.push(`${name} pollingStarted`));
  s.on("stopped", (e) => events.push(`${name} stopped ${e.reason}`));
  supervisors.push(s);
  return { supervisor: s, handled };
}

function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // A handler that never yields: the failure mode the renew deadline exists for.
  }
}

describe("lease gating", () => {
  it("after a stalled event loop, the old holder sends nothing on its expired lease and reports lockLost before the next holder is granted (invariants 2, 3)", async () => {
    const namespace = randomUUID();
    const events: string[] = [];
    const a = supervisor(namespace, "A", events);
    const b = supervisor(namespace, "B", events);
    let bAcquiredAt = Infinity;
    b.supervisor.on("lockAcquired", () => {
      bAcquiredAt = now();
    });
    await a.supervisor.start();
    const bStarted = b.supervisor.start();
    await new Promise((resolve) => b.supervisor.once("standby", resolve));
    await bot.waitFor((s) => s.longPollPending);
    const aLastPoll = bot.snapshot().getUpdates.at(-1)!;

    const stallStart = now();
    blockEventLoop(1_200); // twice the TTL
    await bStarted;

    expect(events.slice(0, 4)).toEqual(["A lockAcquired", "A pollingStarted", "A lockLost expired", "B lockAcquired"]);
    expect(events).toContain("A stopped lock-lost");
    await expect(a.supervisor.finished).resolves.toMatchObject({ reason: "lock-lost", error: { code: "LOCK_LOST" } });

    // A aborted its in-flight long poll (the abort is synchronous with lockLost, which came before B's grant), and sent no getUpdates after the stall.
    const polls = (await bot.waitFor((s) => s.getUpdates.some((g) => g.start >= bAcquiredAt))).getUpdates;
    const aRecord = polls.find((g) => g.seq === aLastPoll.seq)!;
    expect(aRecord.clientGoneAt).toBeDefined();
    expect(aRecord.outcome.kind).not.toBe("updates");
    // Nothing reached the Bot API between the stall and B's grant: A sent nothing on its expired lease.
    expect(polls.filter((g) => g.start > stallStart && g.start < bAcquiredAt)).toEqual([]);
    // The only 409 is B's poll kicking A's abandoned request, which nobody was listening to.
    expect(bot.snapshot().conflicts.poller).toBe(aRecord.kickedAt === undefined ? 0 : 1);
    expect(a.supervisor.status()).toMatchObject({ isPoller: false, state: "stopped" });
    expect(b.supervisor.status()).toMatchObject({ isPoller: true, state: "polling" });
  });

  it("keeps the lease across many renew periods while polling", async () => {
    const events: string[] = [];
    const a = supervisor(randomUUID(), "A", events);
    await a.supervisor.start();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(events).toEqual(["A lockAcquired", "A pollingStarted"]);
    expect(a.supervisor.status().isPoller).toBe(true);
    bot.pushMessage("still here");
    await bot.waitFor(() => a.handled.length === 1);
  });
});

describe("a lock the store takes away", () => {
  it("a removed lock directory becomes lockLost (backend), polling stops, nothing is thrown", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ps-gone-"));
    const { adapter } = loopBot({ token, apiRoot: emulator.apiRoot });
    const s = new PollingSupervisor({ adapter, lock: fileLock({ dir }), logger: false, ttlMs: 3_000 });
    supervisors.push(s);
    const lost = new Promise((resolve) => s.once("lockLost", resolve));
    await s.start();
    await bot.waitFor((snapshot) => snapshot.longPollPending);
    rmSync(dir, { recursive: true, force: true });
    await expect(lost).resolves.toMatchObject({ reason: expect.stringMatching(/^(backend|refused)$/) });
    await expect(s.finished).resolves.toMatchObject({ reason: "lock-lost", error: { code: "LOCK_LOST" } });
    const endedAt = performance.timeOrigin + performance.now();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bot.snapshot().getUpdates.filter((g) => g.start > endedAt)).toEqual([]);
  });
});
