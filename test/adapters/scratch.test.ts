import { describe, it, expect } from "vitest";
import { Bot } from "grammy";
import { Telegraf } from "telegraf";
import { run } from "@grammyjs/runner";
import { Bot as NBot } from "node-telegram-bot-api";
import { nodeTelegramBotApiAdapter } from "../../src/adapters/node-telegram-bot-api.js";
import { grammyAdapter } from "../../src/adapters/grammy.js";
import { telegrafAdapter } from "../../src/adapters/telegraf.js";
import type { PollingGate, GetUpdatesOutcome } from "../../src/adapters/types.js";
import { startScratch } from "./scratch-server.js";

const TOKEN = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
function gate() {
  const c = new AbortController();
  const outcomes: GetUpdatesOutcome[] = [];
  let enters = 0;
  const g: PollingGate & { outcomes: typeof outcomes; enters: () => number } = {
    signal: c.signal,
    enter() { enters++; return c.signal; },
    settled(o) { outcomes.push(o); },
    outcomes, enters: () => enters,
  };
  return g;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("scratch", () => {
  for (const kind of ["grammy", "runner", "telegraf", "ntba"] as const) {
    it(kind + " stop mid batch", async () => {
      const s = await startScratch();
      const handled: number[] = [];
      let adapter;
      if (kind === "ntba") {
        const bot = new NBot(TOKEN, { apiRoot: s.apiRoot });
        bot.on("message", async (ctx) => { await sleep(100); handled.push(ctx.update.update_id); });
        adapter = nodeTelegramBotApiAdapter(bot);
      } else if (kind === "telegraf") {
        const bot = new Telegraf(TOKEN, { telegram: { apiRoot: s.apiRoot } });
        bot.on("message", async (ctx) => { await sleep(100); handled.push(ctx.update.update_id); });
        adapter = telegrafAdapter(bot);
      } else {
        const bot = new Bot(TOKEN, { client: { apiRoot: s.apiRoot } });
        bot.on("message", async (ctx) => { await sleep(100); handled.push(ctx.update.update_id); });
        adapter = kind === "grammy" ? grammyAdapter(bot) : grammyAdapter(bot, { runner: { run, options: { runner: { silent: true } } } });
      }
      const g = gate();
      const r = adapter.startPolling(g);
      while (!s.records.some((x) => x.method === "getUpdates")) await sleep(10);
      s.push(4);
      while (handled.length < 1) await sleep(5);
      const t0 = Date.now();
      await r.stop();
      const took = Date.now() - t0;
      await r.done;
      console.log(kind, "handled", handled, "queue", s.queue.map((u) => u.update_id), "took", took);
      console.log(s.records.filter((x) => x.method === "getUpdates").map((x) => JSON.stringify({ p: x.params, th: (x as any).throttled, dur: (x.end ?? 0) - x.at })).join("\n"));
      if (kind !== "ntba") expect(s.queue).toEqual([]);
      s.close();
    });
    it(kind + " stop idle", async () => {
      const s = await startScratch();
      let adapter;
      if (kind === "ntba") {
        const bot = new NBot(TOKEN, { apiRoot: s.apiRoot });
        bot.on("message", async () => {});
        adapter = nodeTelegramBotApiAdapter(bot);
      } else if (kind === "telegraf") {
        const bot = new Telegraf(TOKEN, { telegram: { apiRoot: s.apiRoot } });
        bot.on("message", async () => {});
        adapter = telegrafAdapter(bot);
      } else {
        const bot = new Bot(TOKEN, { client: { apiRoot: s.apiRoot } });
        bot.on("message", async () => {});
        adapter = kind === "grammy" ? grammyAdapter(bot) : grammyAdapter(bot, { runner: { run, options: { runner: { silent: true } } } });
      }
      const g = gate();
      const r = adapter.startPolling(g);
      while (!s.records.some((x) => x.method === "getUpdates")) await sleep(10);
      s.push(2);
      await sleep(200);
      const t0 = Date.now();
      await r.stop();
      console.log(kind, "idle stop took", Date.now() - t0, "queue", s.queue.map((u) => u.update_id));
      console.log(s.records.filter((x) => x.method === "getUpdates").map((x) => JSON.stringify({ p: x.params, th: (x as any).throttled, dur: (x.end ?? 0) - x.at })).join("\n"));
      s.close();
    });
  }
});
