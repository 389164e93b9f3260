/**
 * The problem this library solves, for contrast: a plain grammY bot with
 * `bot.start()` and nothing else. Run two copies with one token and watch
 * one of them hit 409 and go deaf while its process stays up.
 *
 *   BOT_TOKEN=123:abc npx tsx examples/unsupervised-grammy.ts
 */
import { Bot } from "grammy";

const apiRoot = process.env["BOT_API_ROOT"];
const bot = new Bot(process.env["BOT_TOKEN"] ?? "", apiRoot ? { client: { apiRoot } } : {});

bot.on("message:text", (ctx) =>
  ctx.reply(`echo: ${ctx.message.text}`, { reply_parameters: { message_id: ctx.message.message_id } }),
);

bot
  .start({ onStart: () => console.log("polling started (unsupervised)") })
  .catch((error: Error) => {
    // What most deployments do: log it. The process (and its health check) stays up, deaf.
    console.error(`polling stopped: ${error.message}`);
    setInterval(() => undefined, 60_000);
  });
process.once("SIGTERM", () => void bot.stop().then(() => process.exit(0)));
