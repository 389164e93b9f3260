/**
 * A grammY bot run by @grammyjs/runner (updates handled concurrently) under
 * the supervisor with the Redis lock: start copies on as many machines as
 * you like; exactly one polls, and SIGTERM hands over to the next with
 * nothing lost. A crashed holder is replaced once its lease expires (ttlMs).
 *
 *   BOT_TOKEN=123:abc REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/grammy-runner-redis.ts
 *
 * BOT_API_ROOT points it at another Bot API server (the emulator:
 * `npx polling-supervisor emulator`).
 */
import { run } from "@grammyjs/runner";
import { Bot } from "grammy";
import { PollingSupervisor } from "polling-supervisor";
import { grammyAdapter } from "polling-supervisor/grammy";
import { redisLock } from "polling-supervisor/redis";

const apiRoot = process.env["BOT_API_ROOT"];
const bot = new Bot(process.env["BOT_TOKEN"] ?? "", apiRoot ? { client: { apiRoot } } : {});

bot.on("message:text", (ctx) =>
  ctx.reply(`echo: ${ctx.message.text}`, { reply_parameters: { message_id: ctx.message.message_id } }),
);

const supervisor = new PollingSupervisor({
  // Instead of run(bot): the supervisor calls the runner once it holds the lock.
  adapter: grammyAdapter(bot, { runner: { run } }),
  lock: redisLock({ url: process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379" }),
  handleSignals: true,
});

void supervisor.start().catch(() => undefined); // failures are logged; `finished` says how the run ended
void supervisor.finished.then(({ reason }) => {
  // conflict, lock-lost or fatal: exit and let the platform restart this instance (the supervisor never restarts polling itself).
  if (reason !== "stopped") process.exit(1);
});
