import type { BotControl } from "../src/testing/index.js";

/** Every message comes from one chat: message ids count per chat, and replies quote them. */
export const CHAT_ID = 1000;

/** One message a user sent. */
export interface SentMessage {
  readonly messageId: number;
  readonly updateId: number;
  /** Epoch ms on the monotonic clock. */
  readonly sentAt: number;
}

/** A steady stream of text messages from users, pushed through the emulator's control. */
export interface MessagePusher {
  readonly sent: readonly SentMessage[];
  stop(): void;
}

/**
 * Pushes `ratePerSecond` messages a second, catching up by elapsed time so a
 * busy event loop does not lower the rate. Each message is recorded with its
 * message id, which the example bots quote in their reply.
 */
export function pushMessages(bot: BotControl, ratePerSecond: number): MessagePusher {
  const sent: SentMessage[] = [];
  const started = performance.now();
  let pushed = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * ratePerSecond);
    while (pushed < due) {
      pushed += 1;
      const update = bot.pushMessage({ text: `chaos #${pushed}`, chatId: CHAT_ID });
      const message = update?.["message"] as { message_id?: number } | undefined;
      if (update && typeof message?.message_id === "number") {
        sent.push({ messageId: message.message_id, updateId: update.update_id, sentAt: performance.timeOrigin + performance.now() });
      }
    }
  }, Math.max(5, Math.floor(1000 / ratePerSecond)));
  return {
    sent,
    stop: () => clearInterval(timer),
  };
}
