/**
 * A Telegraf bot under the supervisor with the PostgreSQL lock (a session
 * advisory lock): start copies on as many machines as you like; exactly one
 * polls, SIGTERM hands over to the next with nothing lost, and a crashed
 * holder is replaced at once (its connection drops, and the lock with it).
 *
 *   BOT_TOKEN=123:abc DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx examples/telegraf-postgres.ts
 *
 * Connect directly to PostgreSQL, not through a pooler in transaction mode.
 * BOT_API_ROOT points it at another Bot API server (the emulator:
 * `npx polling-supervisor emulator`).
 */
import { Telegraf } from "telegraf";
import { message } from "telegraf/filters";
import { PollingSupervisor } from "polling-supervisor";
import { postgresLock } from "polling-supervisor/postgres";
import { telegrafAdapter } from "polling-supervisor/telegraf";

const apiRoot = process.env["BOT_API_ROOT"];
const bot = new Telegraf(process.env["BOT_TOKEN"] ?? "", apiRoot ? { telegram: { apiRoot } } : {});

bot.on(message("text"), (ctx) =>
  ctx.reply(`echo: ${ctx.message.text}`, { reply_parameters: { message_id: ctx.message.message_id } }),
);

const supervisor = new PollingSupervisor({
  // Instead of bot.launch(): the supervisor launches it once it holds the lock.
  adapter: telegrafAdapter(bot),
  lock: postgresLock({ connectionString: process.env["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/test" }),
  handleSignals: true,
});

void supervisor.start().catch(() => undefined); // failures are logged; `finished` says how the run ended
void supervisor.finished.then(({ reason }) => {
  // conflict, lock-lost or fatal: exit and let the platform restart this instance (the supervisor never restarts polling itself).
  if (reason !== "stopped") process.exit(1);
});
