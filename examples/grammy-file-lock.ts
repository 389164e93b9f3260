/**
 * A grammY bot under the supervisor with the default file lock: start as
 * many copies as you like on one machine; exactly one polls, and SIGTERM
 * hands over to the next with nothing lost.
 *
 *   BOT_TOKEN=123:abc npx tsx examples/grammy-file-lock.ts
 *
 * BOT_API_ROOT points it at another Bot API server (the emulator:
 * `npx polling-supervisor emulator`); LOCK_DIR chooses the lock directory.
 */
import { Bot } from "grammy";
import { PollingSupervisor, fileLock } from "polling-supervisor";
import { grammyAdapter } from "polling-supervisor/grammy";

const apiRoot = process.env["BOT_API_ROOT"];
const bot = new Bot(process.env["BOT_TOKEN"] ?? "", apiRoot ? { client: { apiRoot } } : {});

bot.on("message:text", (ctx) =>
  ctx.reply(`echo: ${ctx.message.text}`, { reply_parameters: { message_id: ctx.message.message_id } }),
);

const supervisor = new PollingSupervisor({
  adapter: grammyAdapter(bot),
  lock: fileLock(process.env["LOCK_DIR"] ? { dir: process.env["LOCK_DIR"] } : {}),
  handleSignals: true,
});

void supervisor.start().catch(() => undefined); // failures are logged; `finished` says how the run ended
void supervisor.finished.then(({ reason }) => {
  // conflict, lock-lost or fatal: exit and let the platform restart this instance (the supervisor never restarts polling itself).
  if (reason !== "stopped") process.exit(1);
});
