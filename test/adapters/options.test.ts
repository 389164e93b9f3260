import { run } from "@grammyjs/runner";
import { Bot as GrammyBot } from "grammy";
import { Bot as NtbaBot } from "node-telegram-bot-api";
import { Telegraf } from "telegraf";
import { describe, expect, it } from "vitest";
import { classifyApiError } from "../../src/api/classify-error.js";
import { grammyAdapter } from "../../src/adapters/grammy.js";
import { nodeTelegramBotApiAdapter } from "../../src/adapters/node-telegram-bot-api.js";
import { telegrafAdapter } from "../../src/adapters/telegraf.js";
import type { BotAdapter } from "../../src/adapters/types.js";
import { InvalidOptionError, InvalidTokenError } from "../../src/errors.js";
import { FRAMEWORKS, startEmulator, TestGate, until } from "./harness.js";

describe.each(FRAMEWORKS)("$name adapter: callApi and botId", (framework) => {
  it("calls the Bot API through the framework's own transport, with and without a payload", async () => {
    const { emulator, control } = await startEmulator();
    const { adapter } = framework.create(emulator.apiRoot);

    expect(adapter.botId).toBe("123456");
    await expect(adapter.callApi("getWebhookInfo")).resolves.toMatchObject({ url: "", pending_update_count: 0 });
    await expect(adapter.callApi("deleteWebhook", { drop_pending_updates: false })).resolves.toBe(true);
    const failure = await adapter.callApi("sendMessage", { chat_id: 1 }).catch((error: unknown) => error);

    expect(classifyApiError(failure)).toMatchObject({ kind: "rejected", status: 400 });
    expect(control.snapshot().calls.map((c) => c.method)).toEqual(["getWebhookInfo", "deleteWebhook", "sendMessage"]);
    // node-telegram-bot-api sends a form: the value arrives as a string.
    expect(String(control.snapshot().calls[1]!.params["drop_pending_updates"])).toBe("false");
  });
});

async function firstPoll(adapter: BotAdapter, control: Awaited<ReturnType<typeof startEmulator>>["control"]) {
  const run = adapter.startPolling(new TestGate());
  const poll = await control.nextGetUpdates();
  await run.stop();
  const deleteWebhook = control.snapshot().calls.find((c) => c.method === "deleteWebhook");
  return { poll, deleteWebhook };
}

describe("grammyAdapter options", () => {
  it("passes bot.start() options through, and sends drop_pending_updates only when given", async () => {
    const { emulator, control } = await startEmulator();
    const bot = new GrammyBot("123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345", { client: { apiRoot: emulator.apiRoot } });
    const startedAs: string[] = [];
    const adapter = grammyAdapter(bot, {
      start: { allowed_updates: ["message"], timeout: 7, limit: 5, onStart: (me) => void startedAs.push(me.username) },
    });

    const { poll, deleteWebhook } = await firstPoll(adapter, control);

    expect(poll.params).toMatchObject({ allowed_updates: ["message"], timeout: 7, limit: 5 });
    expect(deleteWebhook?.params).not.toHaveProperty("drop_pending_updates");
    expect(startedAs).toEqual(["emulated_123456_bot"]);

    const dropping = new GrammyBot("123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345", { client: { apiRoot: emulator.apiRoot } });
    control.clearRecords();
    const { deleteWebhook: dropped } = await firstPoll(grammyAdapter(dropping, { start: { drop_pending_updates: true } }), control);
    expect(dropped?.params).toMatchObject({ drop_pending_updates: true });
  });

  it("passes the runner's options through to run()", async () => {
    const { emulator, control } = await startEmulator();
    const bot = new GrammyBot("123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345", { client: { apiRoot: emulator.apiRoot } });
    const adapter = grammyAdapter(bot, { runner: { run, options: { runner: { silent: true, fetch: { timeout: 9 } } } } });

    const { poll } = await firstPoll(adapter, control);

    expect(adapter.name).toBe("grammy-runner");
    expect(poll.params).toMatchObject({ timeout: 9 });
  });

  it("rejects options it cannot honour, naming them", () => {
    const bot = new GrammyBot("123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345");
    expect(() => grammyAdapter(bot, { start: {}, runner: { run } })).toThrow(InvalidOptionError);
    expect(() => grammyAdapter(bot, { runner: { run: "run" as never } })).toThrow(/`runner.run`/);
    expect(() => grammyAdapter(new GrammyBot("not-a-token"))).toThrow(InvalidTokenError);
  });
});

describe("telegrafAdapter options", () => {
  it("passes launch options through, and sends drop_pending_updates only when given", async () => {
    const { emulator, control } = await startEmulator();
    const bot = new Telegraf("123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345", { telegram: { apiRoot: emulator.apiRoot } });

    const { poll, deleteWebhook } = await firstPoll(telegrafAdapter(bot, { launch: { allowedUpdates: ["message"] } }), control);

    expect(poll.params).toMatchObject({ allowed_updates: ["message"] });
    expect(deleteWebhook?.params).not.toHaveProperty("drop_pending_updates");

    const dropping = new Telegraf("123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345", { telegram: { apiRoot: emulator.apiRoot } });
    control.clearRecords();
    const { deleteWebhook: dropped } = await firstPoll(telegrafAdapter(dropping, { launch: { dropPendingUpdates: true } }), control);
    expect(dropped?.params).toMatchObject({ drop_pending_updates: true });
  });
});

describe("nodeTelegramBotApiAdapter options", () => {
  it("passes polling options through and reads the token from the bot", async () => {
    const { emulator, control } = await startEmulator();
    const bot = new NtbaBot("123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345", { apiRoot: emulator.apiRoot });
    const adapter = nodeTelegramBotApiAdapter(bot, { polling: { timeout: 7, limit: 5, allowedUpdates: ["message"] } });

    const { poll, deleteWebhook } = await firstPoll(adapter, control);

    expect(adapter.botId).toBe("123456");
    // Form-encoded by the library: values arrive as strings.
    expect(poll.params).toMatchObject({ timeout: "7", limit: "5" });
    expect(deleteWebhook).toBeUndefined();
  });

  it("takes the token as an option when the bot does not expose it", async () => {
    const bot = new NtbaBot("123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345");
    const fake = { api: {}, startPolling: bot.startPolling, stop: bot.stop, handleUpdate: bot.handleUpdate } as never;
    expect(() => nodeTelegramBotApiAdapter(fake)).toThrow(InvalidTokenError);
    expect(nodeTelegramBotApiAdapter(bot, { token: "654321:ZYXwvuTSRqpoNMLkjiHGFedCBA543210" }).botId).toBe("654321");
  });
});

describe("a second run on the same bot object", () => {
  it("is refused while the first one polls", async () => {
    const { emulator, control } = await startEmulator();
    const { adapter } = FRAMEWORKS[0]!.create(emulator.apiRoot);
    const run = adapter.startPolling(new TestGate());
    await until(() => control.snapshot().longPollPending, "the long poll");

    expect(() => adapter.startPolling(new TestGate())).toThrow(InvalidOptionError);
    await run.stop();
    const again = adapter.startPolling(new TestGate());
    await until(() => control.snapshot().longPollPending, "the second run's long poll");
    await again.stop();
  });
});
