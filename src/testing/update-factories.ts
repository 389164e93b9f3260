import type { CallbackQueryInput, MessageInput, UpdateInput } from "./control-types.js";
import type { BotUser } from "./plausible-results.js";

const DEFAULT_CHAT_ID = 1000;
const DEFAULT_GROUP_CHAT_ID = -1000;

/** A `message` update from a user, with a `bot_command` entity when the text starts with a command. */
export function messageUpdate(
  input: MessageInput,
  context: { readonly nextMessageId: (chatId: number) => number; readonly date: number },
): UpdateInput {
  const chatType = input.chatType ?? "private";
  const chatId = input.chatId ?? (chatType === "private" ? DEFAULT_CHAT_ID : DEFAULT_GROUP_CHAT_ID);
  const firstName = input.firstName ?? "Tester";
  const fromId = input.fromId ?? (chatType === "private" ? chatId : DEFAULT_CHAT_ID);
  const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(input.text);
  return {
    message: {
      message_id: context.nextMessageId(chatId),
      from: { id: fromId, is_bot: false, first_name: firstName, language_code: "en" },
      chat:
        chatType === "private"
          ? { id: chatId, type: chatType, first_name: firstName }
          : { id: chatId, type: chatType, title: "Test group" },
      date: context.date,
      text: input.text,
      ...(command ? { entities: [{ offset: 0, length: command[0].length, type: "bot_command" }] } : {}),
    },
  };
}

/** A `callback_query` update: a user tapped a button under a message the bot sent. */
export function callbackQueryUpdate(
  input: CallbackQueryInput,
  ids: { readonly messageId: number; readonly date: number; readonly queryId: string; readonly bot: BotUser },
): UpdateInput {
  const chatId = input.chatId ?? DEFAULT_CHAT_ID;
  const from = { id: input.fromId ?? chatId, is_bot: false, first_name: "Tester", language_code: "en" };
  return {
    callback_query: {
      id: ids.queryId,
      from,
      message: {
        message_id: ids.messageId,
        from: { id: ids.bot.id, is_bot: true, first_name: ids.bot.first_name, username: ids.bot.username },
        chat: { id: chatId, type: "private", first_name: from.first_name },
        date: ids.date,
        text: input.messageText ?? "Choose:",
      },
      chat_instance: String(chatId),
      data: input.data,
    },
  };
}

/** The update's type: its one field besides `update_id`. */
export function updateType(update: UpdateInput): string {
  return Object.keys(update).find((key) => key !== "update_id") ?? "unknown";
}
