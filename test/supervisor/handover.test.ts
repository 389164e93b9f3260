import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { memoryLock } from "../../src/locks/memory.js";
import { PollingSupervisor } from "../../src/supervisor/polling-supervisor.js";
import { createBotApiEmulator, type BotApiEmulator, type BotControl } from "../../src/testing/index.js";
import { loopBot } from "../helpers/loop-bot.js";
import { makeToken } from "../helpers/tokens.js";

let emulator: BotApiEmulator;
let token: string;
let bot: BotControl;

beforeEach(async () => {
  emulator = await createBotApiEmulator();
  token = makeToken();
  bot = emulator.registerBot(token);
});

afterEach(async () => {
  await emulator.close();
});

describe("graceful handover in one process", () => {
  it("the waiter polls after the holder confirmed its offset and released; no update lost or duplicated (invariant 4)", async () => {
    const namespace = randomUUID();
    const order: string[] = [];
    const make = (name: string) => {
      const bot = loopBot({ token, apiRoot: emulator.apiRoot, handleMs: 15 });
      const supervisor = new PollingSupervisor({ adapter: bot.adapter, lock: memoryLock({ namespace }), logger: false });
      supervisor.on("lockReleased", () => order.push(`${name} lockReleased`));
      supervisor.on("lockAcquired", () => order.push(`${name} lockAcquired`));
      return { ...bot, supervisor };
    };
    const a = make("A");
    const b = make("B");
    await a.supervisor.start();
    const bStarted = b.supervisor.start();
    const stream = bot.startUpdateStream({ ratePerSecond: 200, count: 300 });
    await bot.waitFor(() => a.handled.length >= 60);

    let confirmedAtStop: number[] = [];
    a.supervisor.once("lockReleased", () => {
      confirmedAtStop = bot.snapshot().updates.filter((u) => u.confirmed).map((u) => u.updateId);
    });
    await a.supervisor.stop();
    await bStarted;
    expect(order).toEqual(["A lockAcquired", "A lockReleased", "B lockAcquired"]);
    // Everything A handled was confirmed on the Bot API before A let go of the lock.
    expect(confirmedAtStop).toEqual(expect.arrayContaining(a.handled));

    const snapshot = await bot.waitFor((s) => s.streams[0]?.active === false && a.handled.length + b.handled.length >= 300, {
      timeoutMs: 20_000,
    });
    await b.supervisor.stop();
    bot.stopUpdateStream(stream);

    const all = [...a.handled, ...b.handled];
    const pushed = snapshot.updates.map((u) => u.updateId);
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort((x, y) => x - y)).toEqual(pushed);
    expect(bot.snapshot().updates.filter((u) => !u.confirmed)).toEqual([]);
    // The Bot API keeps an aborted long poll pending (it may even answer it with an update nobody
    // reads, which is then delivered again); the only 409s went to such abandoned requests.
    const heardConflicts = bot.snapshot().getUpdates.filter((g) => g.outcome.kind === "conflict" && g.clientGoneAt === undefined);
    expect(heardConflicts).toEqual([]);
  });
});
