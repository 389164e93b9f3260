import { run } from "@grammyjs/runner";
import { Bot } from "grammy";
import { expect, it } from "vitest";
import { grammyAdapter } from "../../src/adapters/grammy.js";
import { latch, startEmulator, TestGate, TOKEN, until } from "./harness.js";

it("stop() waits for the runner's concurrent handlers and for bot.catch() handling their errors", async () => {
  // The runner's stop() resolves before its sink is empty (see framework-behaviour.test.ts): the adapter counts handlers.
  const { emulator, control } = await startEmulator();
  const holdHandler = latch();
  const holdCatch = latch();
  const events: string[] = [];
  const bot = new Bot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
  bot.use(async (ctx) => {
    events.push(`handle ${ctx.update.update_id}`);
    await holdHandler.promise;
    throw new Error("handler failed");
  });
  bot.catch(async (error) => {
    events.push(`catch ${error.ctx.update.update_id}`);
    await holdCatch.promise;
    events.push("caught");
  });
  const adapter = grammyAdapter(bot, { runner: { run, options: { runner: { silent: true } } } });
  const polling = adapter.startPolling(new TestGate());
  await control.nextGetUpdates();
  const id = control.pushMessage("a")!.update_id;
  await until(() => events.length === 1, "the handler");

  const stopped = polling.stop().then(() => events.push("stopped"));
  holdHandler.release();
  await until(() => events.length === 2, "the error handler");
  await new Promise((resolve) => setTimeout(resolve, 20));
  holdCatch.release();
  await stopped;

  expect(events).toEqual([`handle ${id}`, `catch ${id}`, "caught", "stopped"]);
  expect(control.snapshot().updates.every((u) => u.confirmed)).toBe(true);
});
