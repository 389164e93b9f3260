import { randomUUID } from "node:crypto";
import { run } from "@grammyjs/runner";
import { Bot } from "grammy";
import { Telegraf } from "telegraf";
import { afterAll, beforeAll, describe, it } from "vitest";
import { grammyAdapter } from "../../src/adapters/grammy.js";
import { telegrafAdapter } from "../../src/adapters/telegraf.js";
import type { BotAdapter } from "../../src/adapters/types.js";
import { memoryLock } from "../../src/locks/memory.js";
import { PollingSupervisor } from "../../src/supervisor/polling-supervisor.js";
import { createBotApiEmulator, type BotApiEmulator, type BotControl, type FaultInjection } from "../../src/testing/index.js";
import { makeToken } from "../helpers/tokens.js";

// Bot API trouble that is not a conflict: 429 with retry_after, 5xx,
// connection resets and latency, injected by the emulator into preflight, the
// framework's own start-up calls and getUpdates, with the real grammY,
// @grammyjs/runner and Telegraf under the supervisor. The frameworks retry
// these (each in its own way); the supervisor must not take any of them for
// a conflict or a lost lease, and polling must go on.

let emulator: BotApiEmulator;

beforeAll(async () => {
  emulator = await createBotApiEmulator({ timing: { longPollSecondMs: 50 } });
});

afterAll(async () => {
  await emulator.close();
});

type Framework = "grammy" | "runner" | "telegraf";

/** A bot of `framework` that answers every text message, quoting it. */
function frameworkAdapter(framework: Framework, token: string): BotAdapter {
  if (framework === "telegraf") {
    const bot = new Telegraf(token, { telegram: { apiRoot: emulator.apiRoot } });
    bot.on("message", (ctx) => ctx.reply("ok", { reply_parameters: { message_id: ctx.message.message_id } }));
    return telegrafAdapter(bot);
  }
  const bot = new Bot(token, { client: { apiRoot: emulator.apiRoot } });
  bot.on("message", (ctx) => ctx.reply("ok", { reply_parameters: { message_id: ctx.message.message_id } }));
  // The runner logs the fetch errors it retries; that is its way, and noise here.
  return framework === "runner" ? grammyAdapter(bot, { runner: { run, options: { runner: { silent: true } } } }) : grammyAdapter(bot);
}

function supervise(framework: Framework, token: string) {
  const supervisor = new PollingSupervisor({ adapter: frameworkAdapter(framework, token), lock: memoryLock({ namespace: randomUUID() }), logger: false });
  const events: string[] = [];
  for (const name of ["conflict", "lockLost", "stopped", "error"] as const) supervisor.on(name, () => events.push(name));
  return { supervisor, events };
}

async function answered(bot: BotControl, text: string): Promise<void> {
  const messageId = (bot.pushMessage(text)?.["message"] as { message_id: number }).message_id;
  await bot.waitFor((s) => s.replies.some((r) => r.replyToMessageId === messageId), { timeoutMs: 30_000 });
}

const faults = (method: string, ...list: FaultInjection["fault"][]): FaultInjection[] => list.map((fault) => ({ method, fault }));

describe.concurrent("Bot API faults under the supervisor", () => {
  for (const framework of ["grammy", "runner", "telegraf"] as const) {
    it(`${framework}: 429, 5xx, resets and latency in preflight${framework === "telegraf" ? "" : ", start-up"} and polling are retried; no conflict, polling goes on`, async ({ expect }) => {
      const token = makeToken();
      const bot = emulator.registerBot(token);
      await bot.setWebhook({ url: "https://example.invalid/hook" }); // so preflight deletes it, and deleteWebhook can fail too
      const preflight = [
        ...faults("getWebhookInfo", { kind: "connection-reset" }, { kind: "too-many-requests", retryAfter: 1 }, { kind: "latency", ms: 300 }),
        ...faults("deleteWebhook", { kind: "server-error", status: 502 }),
      ];
      // grammY retries its own getMe and deleteWebhook in start() (the runner calls getMe through grammY); Telegraf's launch() does not (next test).
      const startUp = framework === "telegraf" ? [] : faults("getMe", { kind: "server-error" }, { kind: "connection-reset" }, { kind: "too-many-requests", retryAfter: 1 });
      for (const fault of [...preflight, ...startUp]) bot.injectFault(fault);

      const { supervisor, events } = supervise(framework, token);
      await supervisor.start();
      await answered(bot, "before the faults");

      for (const fault of faults(
        "getUpdates",
        { kind: "too-many-requests", retryAfter: 1 },
        { kind: "server-error", status: 500 },
        { kind: "connection-reset" },
        { kind: "latency", ms: 500 },
      )) {
        bot.injectFault(fault);
      }
      await answered(bot, "during the faults");
      await answered(bot, "after the faults");

      const snapshot = bot.snapshot();
      const faulted = snapshot.getUpdates.filter((g) => g.outcome.kind === "fault").length;
      expect(faulted).toBe(3); // 429, 500, reset; latency is answered normally
      expect(snapshot.calls.filter((c) => c.fault !== undefined).length).toBe(preflight.length + startUp.length);
      expect(events).toEqual([]);
      expect(supervisor.status()).toMatchObject({ state: "polling", isPoller: true, lastConflict: null });
      const replies = snapshot.replies.map((r) => r.replyToMessageId);
      expect(new Set(replies).size).toBe(replies.length); // each message answered once
      expect(snapshot.getUpdates.filter((g) => g.outcome.kind === "conflict")).toEqual([]);
      await supervisor.stop();
      expect(events).toEqual(["stopped"]);
    }, 60_000);
  }

  it("telegraf: a fault on launch()'s getMe is not retried by Telegraf, so the run ends POLLING_FAILED (typed, lock released), never as a conflict", async ({ expect }) => {
    const token = makeToken();
    const bot = emulator.registerBot(token);
    bot.injectFault({ method: "getMe", fault: { kind: "server-error", status: 503 } });
    const namespace = randomUUID();
    const supervisor = new PollingSupervisor({ adapter: frameworkAdapter("telegraf", token), lock: memoryLock({ namespace }), logger: false });
    const conflicts: unknown[] = [];
    supervisor.on("conflict", (e) => conflicts.push(e));
    await expect(supervisor.start()).rejects.toMatchObject({ code: "POLLING_FAILED" });
    await expect(supervisor.finished).resolves.toMatchObject({ reason: "fatal" });
    expect(conflicts).toEqual([]);
    expect(bot.snapshot().getUpdates).toEqual([]);
    await expect(memoryLock({ namespace }).inspect(`bot-${token.split(":")[0]}`)).resolves.toBeNull();
  }, 30_000);
});
