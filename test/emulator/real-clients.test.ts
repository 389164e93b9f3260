import { Bot, GrammyError } from "grammy";
import { Bot as NtbaBot } from "node-telegram-bot-api";
import { Telegraf } from "telegraf";
import { message } from "telegraf/filters";
import { afterEach, describe, expect, it } from "vitest";
import type { BotSnapshot } from "../../src/testing/index.js";
import { TOKEN, useEmulators } from "./harness.js";

/** Long polls last a tenth of their `timeout`, and 409s are held back 200 ms instead of 3 s. */
const QUICK = { longPollSecondMs: 100, conflictDelayMs: 200 } as const;

/** Each pushed update was served once, and the replies are exactly these, in order. */
function expectEveryUpdateAnsweredOnce(snapshot: BotSnapshot, replies: string[]): void {
  expect(snapshot.updates.map((u) => u.deliveries)).toEqual(snapshot.updates.map(() => 1));
  expect(snapshot.replies.map((r) => r.text)).toEqual(replies);
}

describe("real clients against the emulator", () => {
  const emulators = useEmulators();
  /** Stops a bot a failed test left running; runs before the emulators close (hooks run in reverse). */
  const leftRunning: (() => unknown)[] = [];
  afterEach(async () => {
    await Promise.allSettled(leftRunning.splice(0).map(async (stop) => stop()));
  });

  it("runs a grammY bot: deleteWebhook, long polls, replies to every pushed message, confirms the offset on stop", async () => {
    const emulator = await emulators.start({ timing: QUICK });
    const control = emulator.bot(TOKEN);
    const bot = new Bot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
    leftRunning.push(() => bot.isRunning() && bot.stop());
    bot.on("message:text", (ctx) => ctx.reply(`echo: ${ctx.message.text}`, { reply_parameters: { message_id: ctx.message.message_id } }));
    const running = bot.start();
    await control.waitFor((s) => s.longPollPending);

    for (const text of ["one", "two", "three"]) control.pushMessage({ text, chatId: 31 });
    const answered = await control.waitFor((s) => s.replies.length === 3);
    expectEveryUpdateAnsweredOnce(answered, ["echo: one", "echo: two", "echo: three"]);
    expect(answered.replies.map((r) => [r.chatId, r.replyToMessageId])).toEqual([
      [31, 1],
      [31, 2],
      [31, 3],
    ]);

    // Stop while the next long poll waits: its aborted request stays in the slot, and
    // the closing getUpdates({ offset, limit: 1 }) repeats its offset within 3 s, so the
    // throttle makes it a 3 s long poll that kicks the aborted one (whose 409 nobody reads).
    await control.waitFor((s) => s.longPollPending && s.getUpdates.at(-1)?.offset === 4);
    await bot.stop();
    await running;
    const stopped = control.snapshot();
    expect(stopped.calls.map((c) => c.method).slice(0, 2)).toEqual(["getMe", "deleteWebhook"]);
    expect(stopped.calls[1]?.params["drop_pending_updates"]).toBeUndefined();
    expect(stopped.updates.every((u) => u.confirmed && u.deliveries === 1)).toBe(true);
    const [aborted, closing] = stopped.getUpdates.slice(-2);
    expect(aborted).toMatchObject({ offset: 4, timeout: 30, outcome: { kind: "conflict", conflict: "poller" } });
    expect(closing).toMatchObject({ offset: 4, limit: 1, timeout: 3, throttled: { timeout: true }, outcome: { kind: "empty" } });
  });

  it("runs a Telegraf bot that replies to every pushed message", async () => {
    const emulator = await emulators.start({ timing: QUICK });
    const control = emulator.bot(TOKEN);
    const bot = new Telegraf(TOKEN, { telegram: { apiRoot: emulator.apiRoot } });
    let launched = true;
    leftRunning.push(() => launched && bot.stop("cleanup"));
    bot.on(message("text"), (ctx) => ctx.reply(`telegraf: ${ctx.message.text}`));
    const running = bot.launch();
    await control.waitFor((s) => s.longPollPending);

    for (const text of ["a", "b"]) control.pushMessage({ text, chatId: 32 });
    const answered = await control.waitFor((s) => s.replies.length === 2);
    expectEveryUpdateAnsweredOnce(answered, ["telegraf: a", "telegraf: b"]);
    expect(answered.replies.map((r) => r.chatId)).toEqual([32, 32]);

    await control.waitFor((s) => s.longPollPending && s.getUpdates.at(-1)?.offset === 3);
    bot.stop("test over");
    launched = false;
    await running;
    const stopped = control.snapshot();
    expect(stopped.calls.map((c) => c.method).slice(0, 2)).toEqual(["getMe", "deleteWebhook"]);
    expect(stopped.updates.every((u) => u.confirmed)).toBe(true);
    const [aborted, closing] = stopped.getUpdates.slice(-2);
    expect(aborted).toMatchObject({ offset: 3, timeout: 50, outcome: { kind: "conflict", conflict: "poller" } });
    expect(closing).toMatchObject({ offset: 3, limit: 1, timeout: 3, throttled: { timeout: true }, outcome: { kind: "empty" } });
  });

  it("runs a node-telegram-bot-api v2 bot (apiRoot option, urlencoded requests) that replies", async () => {
    const emulator = await emulators.start({ timing: QUICK });
    const control = emulator.bot(TOKEN);
    const bot = new NtbaBot(TOKEN, { apiRoot: emulator.apiRoot });
    leftRunning.push(() => bot.stop());
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
    leftRunning.push(() => first.isRunning() && first.stop(), () => second.isRunning() && second.stop());
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
