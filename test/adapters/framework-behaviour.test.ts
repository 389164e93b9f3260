/**
 * How the frameworks really behave where DESIGN.md ("How the frameworks
 * behave") says otherwise or says nothing; each test pins one point the
 * adapters rely on, with the source line it comes from. Real clients against
 * the emulator, no adapter installed.
 */
import { run } from "@grammyjs/runner";
import { AbortController as PolyfillAbortController } from "abort-controller";
import { Bot as GrammyBot } from "grammy";
import { Bot as NtbaBot } from "node-telegram-bot-api";
import { Telegraf } from "telegraf";
import { describe, expect, it } from "vitest";
import { linkSignals } from "../../src/adapters/link-signals.js";
import { latch, onCleanup, startEmulator, TOKEN, until } from "./harness.js";

describe("grammY 1.46 bot.start()/bot.stop()", () => {
  it("stop() confirms lastTriedUpdateId + 1 at once, so the rest of the batch being handled stays unconfirmed", async () => {
    // bot.js stop(): `const offset = this.lastTriedUpdateId + 1; await this.api.getUpdates({ offset, limit: 1 })`,
    // sent while handleUpdates() keeps handling the batch.
    const { emulator, control } = await startEmulator();
    const ids = [1, 2, 3].map((n) => control.pushMessage(`m${n}`)!.update_id);
    const hold = latch();
    const handled: number[] = [];
    let handling = false;
    const bot = new GrammyBot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
    bot.use(async (ctx) => {
      handling = true;
      if (ctx.update.update_id === ids[0]) await hold.promise;
      handled.push(ctx.update.update_id);
    });
    const started = bot.start();
    await until(() => handling, "the first update being handled");

    const stopped = bot.stop();
    await control.waitFor((s) => s.getUpdates.length === 2);
    hold.release();
    await Promise.all([started, stopped]);

    expect(handled).toEqual(ids);
    expect(control.snapshot().updates.map((u) => u.confirmed)).toEqual([true, false, false]);
  });

  it("stop() during an idle long poll repeats its offset with timeout 0: the Bot API throttles it into a 3 s poll", async () => {
    // bot.js stop(): aborts the pending getUpdates, then getUpdates({ offset, limit: 1 }) with the same offset.
    const { emulator, control } = await startEmulator();
    const bot = new GrammyBot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
    bot.use(() => {});
    const started = bot.start();
    await until(() => control.snapshot().longPollPending, "the long poll");

    await bot.stop();
    await started;

    const last = control.snapshot().getUpdates.at(-1)!;
    expect(last.throttled.timeout).toBe(true);
    expect(last.longPoll).toBe(true);
    expect(last.timeout).toBe(3);
  });

  it("an error thrown by an API transformer does not end the loop: it is retried (every 3 s, for ever)", async () => {
    // bot.js handlePollingError(): only a GrammyError with error_code 401 or 409 is rethrown;
    // anything else is logged and retried after `sleep(1000 * 3)`.
    const { emulator, control } = await startEmulator();
    const bot = new GrammyBot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
    bot.use(() => {});
    let thrown = 0;
    bot.api.config.use((prev, method, payload, signal) => {
      if (method === "getUpdates" && (payload as { limit?: number }).limit !== 1) {
        thrown += 1;
        throw new Error("refused locally");
      }
      return prev(method, payload, signal);
    });
    let settled = false;
    void bot.start().finally(() => (settled = true));
    await until(() => thrown === 1, "the refused getUpdates");
    await new Promise((resolve) => setImmediate(resolve));

    expect(bot.isRunning()).toBe(true);
    expect(settled).toBe(false);
    expect(control.snapshot().getUpdates).toEqual([]);
    await bot.stop();
  });
});

describe("@grammyjs/runner 2.0 run()", () => {
  it("sends no deleteWebhook, and handle.stop() neither confirms the offset nor waits for the handlers", async () => {
    // runner.js run(): no deleteWebhook; createRunner().stop(): `source.close(); return task` — the
    // concurrent sink keeps handling; no final getUpdates.
    const { emulator, control } = await startEmulator();
    const hold = latch();
    const handled: number[] = [];
    const bot = new GrammyBot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
    bot.use(async (ctx) => {
      await hold.promise;
      handled.push(ctx.update.update_id);
    });
    const handle = run(bot, { runner: { silent: true } });
    await until(() => control.snapshot().longPollPending, "the long poll");
    control.pushMessage("a");
    await until(() => control.snapshot().getUpdates.length === 2 && control.snapshot().longPollPending, "the next poll");
    const before = control.snapshot().getUpdates.length;

    await handle.stop();

    expect(handled).toEqual([]);
    hold.release();
    await until(() => handled.length === 1, "the handler");
    const { calls, getUpdates } = control.snapshot();
    expect(calls.map((c) => c.method)).not.toContain("deleteWebhook");
    expect(getUpdates).toHaveLength(before);
  });
});

describe("Telegraf 4.16 launch()/stop()", () => {
  it("launch() resolves only once polling has stopped", async () => {
    // telegraf.js launch(): `await this.startPolling(allowed_updates)`; the loop runs until stop().
    const { emulator, control } = await startEmulator();
    const bot = new Telegraf(TOKEN, { telegram: { apiRoot: emulator.apiRoot } });
    let launched = false;
    const launch = bot.launch().then(() => (launched = true));
    await until(() => control.snapshot().longPollPending, "the long poll");
    await new Promise((resolve) => setImmediate(resolve));
    expect(launched).toBe(false);

    bot.stop();
    await launch;
    expect(launched).toBe(true);
  });

  it("stop() during an idle long poll syncs the same offset with timeout 0: the Bot API throttles it into a 3 s poll", async () => {
    // polling.js loop(): finally { this.stop(); await this.syncUpdateOffset() } — getUpdates({ offset: this.offset, limit: 1 }).
    const { emulator, control } = await startEmulator();
    const bot = new Telegraf(TOKEN, { telegram: { apiRoot: emulator.apiRoot } });
    const launch = bot.launch();
    await until(() => control.snapshot().longPollPending, "the long poll");

    bot.stop();
    await launch;

    const last = control.snapshot().getUpdates.at(-1)!;
    expect(last.params).toMatchObject({ limit: 1 });
    expect(last.throttled.timeout).toBe(true);
    expect(last.longPoll).toBe(true);
  });
});

describe("node-telegram-bot-api 2.1 startPolling()/stop()", () => {
  it("sends no deleteWebhook, stops between two updates of a batch and never confirms the offset", async () => {
    // bot.js startPolling(): `if (controller.signal.aborted) break;` before each update; longpoll.js:
    // the offset only moves with the next getUpdates; no final confirmation.
    const { emulator, control } = await startEmulator();
    const ids = [1, 2, 3].map((n) => control.pushMessage(`m${n}`)!.update_id);
    const hold = latch();
    const handled: number[] = [];
    let handling = false;
    const bot = new NtbaBot(TOKEN, { apiRoot: emulator.apiRoot });
    bot.use(async (ctx) => {
      handling = true;
      await hold.promise;
      handled.push(ctx.update.update_id);
    });
    const polling = bot.startPolling();
    await until(() => handling, "the first update being handled");

    bot.stop();
    hold.release();
    await polling;

    expect(handled).toEqual(ids.slice(0, 1));
    const { calls, updates } = control.snapshot();
    expect(calls.map((c) => c.method)).not.toContain("deleteWebhook");
    expect(updates.map((u) => u.confirmed)).toEqual([false, false, false]);
  });
});

describe("abort signals of grammY's and Telegraf's abort-controller polyfill", () => {
  it("are silently ignored by AbortSignal.any, and followed by linkSignals", () => {
    const polyfill = new PolyfillAbortController();
    const any = AbortSignal.any([polyfill.signal as unknown as AbortSignal]);
    const linked = linkSignals([polyfill.signal]);
    onCleanup(() => linked.dispose());

    polyfill.abort();

    expect(any.aborted).toBe(false);
    expect(linked.signal.aborted).toBe(true);
  });
});
