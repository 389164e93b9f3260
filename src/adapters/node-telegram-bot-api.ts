/**
 * The node-telegram-bot-api 2.x adapter: runs `bot.startPolling()` with every
 * getUpdates routed through the supervisor's gate. Written against the few
 * members it uses, so it imports nothing from node-telegram-bot-api.
 * (Version 0.x/1.x is a different library whose polling retries 409s; use
 * `genericAdapter` there.)
 * @module
 */
import { InvalidTokenError, LeaseNotValidError } from "../errors.js";
import { parseBotToken } from "../token.js";
import { callByName } from "./call-by-name.js";
import { assertBotShape } from "./assert-bot.js";
import { GatedPolling, type LoopDriver } from "./gated-polling.js";
import { installOnce } from "./install-once.js";
import type { BotAdapter, GetUpdatesParams, PollingGate, PollingRun } from "./types.js";

/** The `longPoll` options of node-telegram-bot-api 2.x that `bot.startPolling(undefined, options)` takes, passed through. */
export interface NodeTelegramBotApiPollingOptions {
  /** Long poll timeout in seconds. @default 30 (the library's default) */
  readonly timeout?: number;
  /** Updates per getUpdates, 1..100. @default 100 (the Bot API's default) */
  readonly limit?: number;
  /** Update types to receive. @default the Bot API's default */
  readonly allowedUpdates?: readonly string[];
  /** Retry transient errors (429, 5xx, network). @default true */
  readonly retry?: boolean;
  /** Delay before a retry when the error carries no `retry_after`, in ms. @default 1000 */
  readonly retryDelayMs?: number;
  /** Called with each transient error before it is retried. */
  readonly onError?: (error: unknown) => void;
}

/** Options of {@link nodeTelegramBotApiAdapter}. */
export interface NodeTelegramBotApiAdapterOptions {
  /**
   * The bot's token, for the bot id in the lock name. node-telegram-bot-api 2
   * keeps it private; when omitted it is read from the bot's transport.
   * @default read from `bot.api`
   */
  readonly token?: string;
  /** Options for the library's long-poll loop, passed through. @default {} */
  readonly polling?: NodeTelegramBotApiPollingOptions;
}

/** The members of a node-telegram-bot-api 2.x `Bot` this adapter uses. */
export interface NodeTelegramBotApiBotLike {
  readonly api: {
    getUpdates(params?: never, signal?: never): Promise<readonly { readonly update_id: number }[]>;
  };
  startPolling(source?: never, options?: never): Promise<void>;
  stop(): void;
  handleUpdate(update: never): Promise<void>;
}

type GetUpdates = (params: object | undefined, signal?: AbortSignal) => Promise<{ update_id: number }[]>;
type HandleUpdate = (update: { update_id: number }) => Promise<void>;
type StartPolling = (source?: undefined, options?: object) => Promise<void>;

const NTBA_BOT = "a node-telegram-bot-api 2.x bot (new Bot(token))";

interface NtbaInstallation {
  readonly gated: GatedPolling;
  /** `bot.startPolling` before it was guarded. */
  readonly startPolling: StartPolling;
}

/**
 * Adapts a node-telegram-bot-api 2.x bot. Wraps `bot.api.getUpdates` once per
 * bot so every getUpdates passes the supervisor's gate, and counts the
 * updates `bot.handleUpdate` finished: the library's loop stops between two
 * updates of a batch and never confirms the offset, so the adapter confirms
 * exactly the handled ones. `bot.startPolling()` called by anything but the
 * supervisor rejects with `LeaseNotValidError`.
 */
export function nodeTelegramBotApiAdapter(
  bot: NodeTelegramBotApiBotLike,
  options: NodeTelegramBotApiAdapterOptions = {},
): BotAdapter {
  assertBotShape(bot, NTBA_BOT, ["api"]);
  const { botId } = parseBotToken(options.token ?? transportToken(bot));
  assertBotShape(bot, NTBA_BOT, ["api.getUpdates()", "startPolling()", "stop()", "handleUpdate()"]);
  const installation = installOnce(bot, "node-telegram-bot-api", () => install(bot));
  const pollingOptions = { ...options.polling };

  return {
    name: "node-telegram-bot-api",
    botId,
    callApi: (method, payload, signal) => callByName(bot.api, method, payload, signal),
    startPolling(gate: PollingGate): PollingRun {
      const driver: LoopDriver = {
        start: () => installation.startPolling(undefined, pollingOptions),
        stop: () => bot.stop(),
        confirm: (params: GetUpdatesParams, marker: AbortSignal) => (bot.api.getUpdates as GetUpdates)({ ...params }, marker),
        getWebhookInfo: () => callByName(bot.api, "getWebhookInfo", undefined, undefined),
        reportsHandledUpdates: true,
      };
      return installation.gated.begin(gate, driver);
    },
  };
}

function install(bot: NodeTelegramBotApiBotLike): NtbaInstallation {
  const gated = new GatedPolling();
  const api = bot.api as unknown as { getUpdates: GetUpdates };
  const getUpdates = api.getUpdates.bind(api);
  api.getUpdates = (params, signal) =>
    gated.intercept({
      params: (params ?? {}) as GetUpdatesParams,
      signal,
      send: (linked) => getUpdates(params, linked),
      outcome: (updates) => ({ updates }),
      empty: () => [],
    });
  const target = bot as unknown as { handleUpdate: HandleUpdate; startPolling: StartPolling };
  const handleUpdate = target.handleUpdate.bind(bot);
  target.handleUpdate = async (update) => {
    await handleUpdate(update);
    gated.noteHandled(update.update_id);
  };
  const startPolling = target.startPolling.bind(bot);
  // The one code path that starts polling is the supervisor's, which calls the original.
  target.startPolling = () =>
    Promise.reject(new LeaseNotValidError("bot.startPolling() was called directly; the supervisor starts polling with this bot"));
  return { gated, startPolling };
}

/** node-telegram-bot-api 2 keeps the token in a private field of its transport. */
function transportToken(bot: NodeTelegramBotApiBotLike): string {
  const token = (bot.api as unknown as { transport?: { token?: unknown } }).transport?.token;
  if (typeof token !== "string") {
    throw new InvalidTokenError(
      "Could not read the token from this node-telegram-bot-api bot: pass it as `nodeTelegramBotApiAdapter(bot, { token })`.",
    );
  }
  return token;
}
