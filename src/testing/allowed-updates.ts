/** Update type names in the server's `UpdateType` order (`Client::get_update_type_name`). */
export const UPDATE_TYPES: readonly string[] = Object.freeze([
  "message",
  "edited_message",
  "channel_post",
  "edited_channel_post",
  "inline_query",
  "chosen_inline_result",
  "callback_query",
  "custom_event",
  "custom_query",
  "shipping_query",
  "pre_checkout_query",
  "poll",
  "poll_answer",
  "my_chat_member",
  "chat_member",
  "chat_join_request",
  "chat_boost",
  "removed_chat_boost",
  "message_reaction",
  "message_reaction_count",
  "business_connection",
  "business_message",
  "edited_business_message",
  "deleted_business_messages",
  "purchased_paid_media",
  "managed_bot",
  "guest_message",
]);

/** Off unless a bot asks for them (`DEFAULT_ALLOWED_UPDATE_TYPES`). */
const OFF_BY_DEFAULT: ReadonlySet<string> = new Set(["chat_member", "message_reaction", "message_reaction_count"]);
const DEFAULT_TYPES: ReadonlySet<string> = new Set(UPDATE_TYPES.filter((type) => !OFF_BY_DEFAULT.has(type)));

/**
 * The bot's allowed update types. Like the real server it is one setting per
 * bot, changed by any getUpdates or setWebhook that passes `allowed_updates`,
 * and it filters updates when they are created, not when they are served.
 */
export class AllowedUpdates {
  #types: ReadonlySet<string> = DEFAULT_TYPES;

  /**
   * Applies an `allowed_updates` argument as `update_allowed_update_types`
   * does: empty or unparsable leaves the setting alone, an array naming no
   * known type means the default. Returns true when the setting changed.
   */
  apply(argument: string): boolean {
    const requested = parseAllowedUpdates(argument);
    if (requested === undefined || sameTypes(requested, this.#types)) return false;
    this.#types = requested;
    return true;
  }

  /** True when an update of this type would be kept. Types the server does not know are kept. */
  allows(type: string): boolean {
    return this.#types.has(type) || !UPDATE_TYPES.includes(type);
  }

  /** The types in server order, or undefined while the setting is the default (getWebhookInfo then omits it). */
  reported(): string[] | undefined {
    if (sameTypes(this.#types, DEFAULT_TYPES)) return undefined;
    return UPDATE_TYPES.filter((type) => this.#types.has(type));
  }
}

function parseAllowedUpdates(argument: string): ReadonlySet<string> | undefined {
  if (argument === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(argument);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.some((name) => typeof name !== "string")) return undefined;
  const known = new Set((value as string[]).map((name) => name.toLowerCase()).filter((name) => UPDATE_TYPES.includes(name)));
  return known.size === 0 ? DEFAULT_TYPES : known;
}

function sameTypes(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((type) => b.has(type));
}
