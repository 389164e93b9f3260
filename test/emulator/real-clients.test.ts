import { Bot, GrammyError } from "grammy";
import { Bot as NtbaBot } from "node-telegram-bot-api";
import { Telegraf } from "telegraf";
import { message } from "telegraf/filters";
import { describe, expect, it } from "vitest";
import type { BotSnapshot } from "../../src/testing/index.js";
import { TOKEN, useEmulators } from "./harness.js";

/** Long polls last a tenth of their `timeout`, and 409s are held back 200 ms instead of 3 s. */
const QUICK = { longPollSecondMs: 100, conflictDelayMs: 200 } as const;

function everyUpdateAnsweredOnce(snapshot: BotSnapshot): void {
  const chatOfUpdate = new Map(snapshot.updates.map((update) => [update.updateId, update]));
  expect(snapshot.replies).toHaveLength(chatOfUpdate.size);
  expect(new Set(snapshot.replies.map((reply) => reply.replyToMessageId ?? reply.text)).size).toBe(snapshot.replies.length);
}

describe("real clients against the emulator", () => {
  const emulators = useEmulators();

  it("runs a grammY bot: deleteWebhook, long polls, replies to every pushed message, confirms the offset on stop", async () => {
    const emulator = await emulators.start({ timing: QUICK });
    const control = emulator.bot(TOKEN);
    const bot = new Bot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
    bot.on("message:text", (ctx) => ctx.reply(`echo: ${ctx.message.text}`, { reply_parameters: { message_id: ctx.message.message_id } }));
    const running = bot.start();
    await control.waitFor((s) => s.longPollPending);

    for (const text of ["one", "two", "three"]) control.pushMessage({ text, chatId: 31 });
    const answered = await control.waitFor((s) => s.replies.length === 3);
    expect(answered.replies.map((r) => [r.chatId, r.text])).toEqual([
      [31, "echo: one"],
      [31, "echo: two"],
      [31, "echo: three"],
    ]);
    everyUpdateAnsweredOnce(answered);

    await bot.stop();
    await running;
    const stopped = control.snapshot();
    expect(stopped.calls.map((c) => c.method).slice(0, 2)).toEqual(["getMe", "deleteWebhook"]);
    expect(stopped.calls[1]?.params["drop_pending_updates"]).toBeUndefined();
    expect(stopped.updates.every((u) => u.confirmed && u.deliveries === 1)).toBe(true);
    expect(stopped.getUpdates.at(-1)).toMatchObject({ offset: 4, limit: 1, outcome: { kind: "empty" } });
  });

  it("runs a Telegraf bot that replies to every pushed message", async () => {
    const emulator = await emulators.start({ timing: QUICK });
    const control = emulator.bot(TOKEN);
    const bot = new Telegraf(TOKEN, { telegram: { apiRoot: emulator.apiRoot } });
    bot.on(message("text"), (ctx) => ctx.reply(`telegraf: ${ctx.message.text}`));
    const running = bot.launch();
    await control.waitFor((s) => s.longPollPending);

    for (const text of ["a", "b"]) control.pushMessage({ text, chatId: 32 });
    const answered = await control.waitFor((s) => s.replies.length === 2);
    expect(answered.replies.map((r) => [r.chatId, r.text])).toEqual([
      [32, "telegraf: a"],
      [32, "telegraf: b"],
    ]);
    everyUpdateAnsweredOnce(answered);

    bot.stop("test over");
    await running;
    const stopped = control.snapshot();
    expect(stopped.calls.map((c) => c.method).slice(0, 2)).toEqual(["getMe", "deleteWebhook"]);
    expect(stopped.updates.every((u) => u.confirmed)).toBe(true);
  });

  it("runs a node-telegram-bot-api v2 bot (apiRoot option, urlencoded requests) that replies", async () => {
    const emulator = await emulators.start({ timing: QUICK });
    const control = emulator.bot(TOKEN);
    const bot = new NtbaBot(TOKEN, { apiRoot: emulator.apiRoot });
    bot.on("message", (ctx) => ctx.reply(`ntba: ${ctx.message?.text ?? ""}`));
    const running = bot.startPolling();
    await control.waitFor((s) => s.longPollPending);

    control.pushMessage({ text: "hello", chatId: 33 });
    const answered = await control.waitFor((s) => s.replies.length === 1);
    expect(answered.replies[0]).toMatchObject({ chatId: 33, text: "ntba: hello" });
    expect(typeof answered.getUpdates[0]?.params["timeout"]).toBe("string");

    bot.stop();
    await running;
  });

  it("reproduces the problem: a second unsupervised grammY instance makes the first one's bot.start() fail with 409 and stop", async () => {
    const emulator = await emulators.start({ timing: QUICK });
    const control = emulator.bot(TOKEN);
    const first = new Bot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
    const second = new Bot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
    first.on("message:text", (ctx) => ctx.reply(`first: ${ctx.message.text}`));
    second.on("message:text", (ctx) => ctx.reply(`second: ${ctx.message.text}`));

    const firstRun = first.start().then(
      () => undefined,
      (error: unknown) => error,
    );
    await control.waitFor((s) => s.longPollPending);
    const secondRun = second.start();

    const error = await firstRun;
    expect(error).toBeInstanceOf(GrammyError);
    expect(error).toMatchObject({
      error_code: 409,
      description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    });
    expect(first.isRunning()).toBe(false);
    expect(second.isRunning()).toBe(true);

    control.pushMessage("who answers?");
    const answered = await control.waitFor((s) => s.replies.length === 1);
    expect(answered.replies[0]?.text).toBe("second: who answers?");
    expect(answered.conflicts.poller).toBe(1);

    await second.stop();
    await secondRun;
  });
});
