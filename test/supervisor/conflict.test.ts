import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { memoryLock } from "../../src/locks/memory.js";
import type { ConflictPolicy } from "../../src/supervisor/options.js";
import { PollingSupervisor } from "../../src/supervisor/polling-supervisor.js";
import type { ConflictEvent } from "../../src/supervisor/events.js";
import { createBotApiEmulator, type BotApiEmulator, type BotControl } from "../../src/testing/index.js";
import { loopBot } from "../helpers/loop-bot.js";
import { makeToken } from "../helpers/tokens.js";

let emulator: BotApiEmulator;
let token: string;
let bot: BotControl;
const outsiders: AbortController[] = [];

beforeEach(async () => {
  // Short long polls and conflict delay so the tests are quick; the rules are the real ones.
  emulator = await createBotApiEmulator({ timing: { longPollSecondMs: 20, conflictDelayMs: 50 } });
  token = makeToken();
  bot = emulator.registerBot(token);
});

afterEach(async () => {
  for (const outsider of outsiders.splice(0)) outsider.abort();
  await emulator.close();
});

async function pollingSupervisor(onConflict?: ConflictPolicy) {
  const { adapter } = loopBot({ token, apiRoot: emulator.apiRoot });
  const supervisor = new PollingSupervisor({
    adapter,
    lock: memoryLock({ namespace: randomUUID() }),
    logger: false,
    ...(onConflict === undefined ? {} : { onConflict }),
  });
  const conflicts: ConflictEvent[] = [];
  supervisor.on("conflict", (event) => conflicts.push(event));
  await supervisor.start();
  await bot.waitFor((s) => s.longPollPending);
  return { supervisor, conflicts };
}

/** An unsupervised poller outside the lock: a raw HTTP long poll. */
function outsiderLongPoll(timeout = 50): Promise<Response> {
  const controller = new AbortController();
  outsiders.push(controller);
  const response = fetch(`${emulator.apiRoot}/bot${token}/getUpdates?timeout=${timeout}`, { signal: controller.signal });
  response.catch(() => undefined); // aborted in afterEach
  return response;
}

const ourGetUpdates = (since: number) => bot.snapshot().getUpdates.filter((g) => g.start >= since);

describe("conflicts are reported, not fought", () => {
  it("an outsider's long poll ends the run with a poller conflict and no further getUpdates (invariant 5)", async () => {
    const { supervisor, conflicts } = await pollingSupervisor();
    const outsider = outsiderLongPoll();
    const finished = await supervisor.finished;
    expect(finished).toMatchObject({ reason: "conflict", error: { code: "CONFLICT", kind: "poller" } });
    expect(conflicts).toEqual([
      {
        kind: "poller",
        description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
        at: expect.any(Number),
        willRetry: false,
      },
    ]);
    expect(supervisor.status()).toMatchObject({ state: "stopped", isPoller: false, stopReason: "conflict" });
    expect(supervisor.status().lastConflict).toEqual(conflicts[0]);
    const settledAt = performance.timeOrigin + performance.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The outsider keeps its poll; we never answered it with a poll of our own.
    expect(ourGetUpdates(settledAt)).toEqual([]);
    expect(bot.snapshot().conflicts.poller).toBe(1);
    expect((await outsider).status).toBe(200);
  });

  it("an outsider's setWebhook ends the run with a set-webhook conflict", async () => {
    const { supervisor, conflicts } = await pollingSupervisor();
    await bot.setWebhook({ url: "https://example.invalid/outsider" });
    await expect(supervisor.finished).resolves.toMatchObject({ reason: "conflict" });
    expect(conflicts.map((c) => c.kind)).toEqual(["set-webhook"]);
    expect(bot.snapshot().conflicts["set-webhook"]).toBe(1);
  });

  it("polls again only under an explicit retry policy, and only as often as it says", async () => {
    const { supervisor, conflicts } = await pollingSupervisor({ retries: 1, delayMs: 0 });
    void outsiderLongPoll();
    await bot.waitFor(() => conflicts.length === 1);
    expect(conflicts[0]!.willRetry).toBe(true);
    // The retry kicks the outsider; the outsider's next poll kicks us again: now the policy is spent.
    await bot.waitFor((s) => s.conflicts.poller === 2);
    void outsiderLongPoll();
    await expect(supervisor.finished).resolves.toMatchObject({ reason: "conflict" });
    expect(conflicts.map((c) => c.willRetry)).toEqual([true, false]);
  });
});
