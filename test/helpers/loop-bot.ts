import { genericAdapter, type GenericPollContext, type Update } from "../../src/adapters/generic.js";
import type { BotAdapter } from "../../src/adapters/types.js";

/** A hand-written polling loop on the generic adapter that records what it handled. */
export interface LoopBot {
  readonly adapter: BotAdapter;
  /** update_ids in the order this bot finished handling them. */
  readonly handled: number[];
  /** update_ids in the order getUpdates returned them to this bot. */
  readonly received: number[];
}

/** Options for {@link loopBot}. */
export interface LoopBotOptions {
  readonly token: string;
  readonly apiRoot: string;
  /** How long handling one update takes, in ms. @default 0 */
  readonly handleMs?: number;
  /** getUpdates `timeout` in seconds. @default 30 */
  readonly timeout?: number;
  /** Reply to each message with sendMessage. @default false */
  readonly reply?: boolean;
}

/** A real long-polling loop through `ctx.getUpdates`, replying over HTTP like a bot would. */
export function loopBot(options: LoopBotOptions): LoopBot {
  const handled: number[] = [];
  const received: number[] = [];
  const poll = async (ctx: GenericPollContext) => {
    let offset: number | undefined;
    while (!ctx.signal.aborted) {
      let updates: Update[];
      try {
        updates = await ctx.getUpdates({ timeout: options.timeout ?? 30, ...(offset === undefined ? {} : { offset }) });
      } catch (error) {
        if (ctx.signal.aborted) return;
        throw error;
      }
      received.push(...updates.map((u) => u.update_id));
      for (const update of updates) {
        if (options.handleMs) await new Promise((resolve) => setTimeout(resolve, options.handleMs));
        if (options.reply) {
          const chat = (update["message"] as { chat: { id: number } } | undefined)?.chat.id ?? 1;
          await ctx.api.call("sendMessage", { chat_id: chat, text: `handled ${update.update_id}` });
        }
        handled.push(update.update_id);
        offset = update.update_id + 1;
      }
    }
  };
  return { adapter: genericAdapter({ token: options.token, apiRoot: options.apiRoot, poll }), handled, received };
}
