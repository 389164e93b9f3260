/** An API object with one method per Bot API method, e.g. grammY's `bot.api.raw` or node-telegram-bot-api's `bot.api`. */
export type MethodPerCallApi = object;

/**
 * Calls a Bot API method by name on an API object with one method per Bot
 * API method. Methods without parameters (getMe, getWebhookInfo, ...) take
 * the signal first there, with or without the payload depending on the
 * library and version. Tell them by arity against `getMe`, which never takes
 * a payload, and `sendMessage`, which always does.
 */
export function callByName(
  api: MethodPerCallApi,
  method: string,
  payload: Record<string, unknown> | undefined,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const methods = api as Record<string, ((...args: unknown[]) => Promise<unknown>) | undefined>;
  const fn = methods[method];
  if (typeof fn !== "function") {
    return Promise.reject(new TypeError(`The bot's API object has no method ${JSON.stringify(method)}; update the bot library.`));
  }
  const noPayload = methods["getMe"]?.length;
  const takesNoPayload = noPayload !== undefined && noPayload !== methods["sendMessage"]?.length && fn.length === noPayload;
  return takesNoPayload ? fn.call(api, signal) : fn.call(api, payload ?? {}, signal);
}
