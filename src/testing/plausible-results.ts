import { argumentText, type BotApiArguments } from "./bot-api-arguments.js";
import type { BotProfile } from "./control-types.js";

/** The `User` getMe returns for an emulated bot. */
export interface BotUser {
  readonly id: number;
  readonly is_bot: true;
  readonly first_name: string;
  readonly username: string;
  readonly can_join_groups: boolean;
  readonly can_read_all_group_messages: boolean;
  readonly supports_inline_queries: boolean;
  readonly can_connect_to_business: boolean;
  readonly has_main_web_app: boolean;
}

/** The getMe answer for a bot id and profile. */
export function botUser(botId: string, profile: BotProfile): BotUser {
  return {
    id: Number(botId),
    is_bot: true,
    first_name: profile.firstName ?? "Emulated Bot",
    username: profile.username ?? `emulated_${botId}_bot`,
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  };
}

/** True for methods that send a message and answer with one (sendMessage, sendPhoto, forwardMessage, ...). */
export function sendsMessage(method: string): boolean {
  const name = method.toLowerCase();
  return (name.startsWith("send") && name !== "sendchataction") || name === "forwardmessage";
}

/** The `Message` a send method answers with. */
export function sentMessage(bot: BotUser, args: BotApiArguments, messageId: number, date: number): Record<string, unknown> {
  const text = argumentText(args, "text");
  const caption = argumentText(args, "caption");
  return {
    message_id: messageId,
    from: { id: bot.id, is_bot: true, first_name: bot.first_name, username: bot.username },
    chat: chatOf(argumentText(args, "chat_id")),
    date,
    ...(text === "" ? {} : { text }),
    ...(caption === "" ? {} : { caption }),
  };
}

/** A plausible `result` for a method the emulator does not model: a Message for send methods, a MessageId for copyMessage, else `true`. */
export function catchAllResult(method: string, bot: BotUser, args: BotApiArguments, messageId: number, date: number): unknown {
  if (sendsMessage(method)) return sentMessage(bot, args, messageId, date);
  if (method.toLowerCase() === "copymessage") return { message_id: messageId };
  return true;
}

/** A `Chat` for a chat_id: a private chat for a number, a channel for `@username`. */
function chatOf(chatId: string): Record<string, unknown> {
  const id = Number(chatId);
  if (Number.isInteger(id)) {
    return id > 0 ? { id, type: "private", first_name: "Tester" } : { id, type: "supergroup", title: "Test group" };
  }
  const username = chatId.replace(/^@/, "");
  return { id: -1_001_000_000_000, type: "channel", title: username, username };
}
