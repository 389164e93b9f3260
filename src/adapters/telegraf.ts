/**
 * The Telegraf adapter (`polling-supervisor/telegraf`): runs `bot.launch()`
 * with every getUpdates routed through the supervisor's gate. Written against
 * the few members it uses, so it imports nothing from Telegraf.
 * @module
 */
import { LeaseNotValidError } from "../errors.js";
import { parseBotToken } from "../token.js";
import { assertBotShape } from "./assert-bot.js";
import { GatedPolling, type LoopDriver } from "./gated-polling.js";
import { installOnce } from "./install-once.js";
import type { AbortSignalLike } from "./link-signals.js";
import type { BotAdapter, GetUpdatesParams, PollingGate, PollingRun } from "./types.js";

/** The launch options this adapter passes through to `bot.launch()`. */
export interface TelegrafLaunchOptions {
  /** Update types to receive. @default every type but `chat_member` and friends (the Bot API's default) */
  readonly allowedUpdates?: readonly string[];
  /**
   * Passed to Telegraf's own deleteWebhook. Drops every update that waits on
   * the Bot API: only set it when losing them is what you want.
   * @default not sent (false)
   */
  readonly dropPendingUpdates?: boolean;
}

/** Options of {@link telegrafAdapter}. */
export interface TelegrafAdapterOptions {
  /**
   * Options for `bot.launch()`, passed through (long polling only: a
   * `webhook` option would not poll at all).
   * @default {}
   */
  readonly launch?: TelegrafLaunchOptions;
}

/** The third argument of Telegraf's `callApi`: its polling loop passes its AbortController here. */
export interface TelegrafCallApiOptions {
  readonly signal?: AbortSignalLike;
}

/** The members of a Telegraf `Telegram` client this adapter uses. */
export interface TelegrafTelegramLike {
  readonly token: string;
  callApi(method: never, payload: never, options?: never): Promise<unknown>;
}

/** The members of a `Telegraf` bot this adapter uses. */
export interface TelegrafBotLike {
  readonly telegram: TelegrafTelegramLike;
  launch(config?: never, onLaunch?: () => void): Promise<void>;
  stop(reason?: string): void;
}

type CallApi = (method: string, payload?: object, options?: TelegrafCallApiOptions) => Promise<unknown>;
type Launch = (config?: object) => Promise<void>;

const TELEGRAF_BOT = "a Telegraf bot (new Telegraf(token))";

interface TelegrafInstallation {
  readonly gated: GatedPolling;
  /** `telegram.callApi` before it was wrapped. */
  readonly callApi: CallApi;
  /** `bot.launch` before it was guarded. */
  readonly launch: Launch;
}

/**
 * Adapts a Telegraf bot. Wraps `bot.telegram.callApi` once per bot so every
 * getUpdates passes the supervisor's gate; from then on `bot.launch()`
 * called by anything but the supervisor rejects with `LeaseNotValidError`
 * before sending a request.
 *
 * ```ts
 * const supervisor = new PollingSupervisor({ adapter: telegrafAdapter(bot, { launch: { allowedUpdates: ["message"] } }) });
 * ```
 */
export function telegrafAdapter(bot: TelegrafBotLike, options: TelegrafAdapterOptions = {}): BotAdapter {
  assertBotShape(bot, TELEGRAF_BOT, ["telegram"]);
  const { botId } = parseBotToken(bot.telegram.token);
  assertBotShape(bot, TELEGRAF_BOT, ["telegram.callApi()", "launch()", "stop()"]);
  const installation = installOnce(bot, "telegraf", () => install(bot));
  const launchConfig: Record<string, unknown> = {};
  if (options.launch?.allowedUpdates !== undefined) launchConfig["allowedUpdates"] = options.launch.allowedUpdates;
  if (options.launch?.dropPendingUpdates !== undefined) launchConfig["dropPendingUpdates"] = options.launch.dropPendingUpdates;

  return {
    name: "telegraf",
    botId,
    callApi: (method, payload, signal) => installation.callApi(method, payload ?? {}, signal ? { signal } : undefined),
    startPolling(gate: PollingGate): PollingRun {
      const driver: LoopDriver = {
        // launch() resolves only once polling has stopped (Telegraf 4.16): it is the loop's end.
        start: () => installation.launch({ ...launchConfig }),
        stop: () => {
          try {
            bot.stop("polling-supervisor");
          } catch {
            // "Bot is not running!": stopped during launch()'s getMe/deleteWebhook. The gate ends the loop at its first getUpdates.
          }
        },
        confirm: (params: GetUpdatesParams, marker: AbortSignal) =>
          (bot.telegram.callApi as CallApi)("getUpdates", { ...params }, { signal: marker }),
        getWebhookInfo: () => installation.callApi("getWebhookInfo", {}),
      };
      return installation.gated.begin(gate, driver);
    },
  };
}

function install(bot: TelegrafBotLike): TelegrafInstallation {
  const gated = new GatedPolling();
  const telegram = bot.telegram;
  const callApi = (telegram.callApi as CallApi).bind(telegram);
  // Every Telegram method, and Telegraf's polling loop, call `this.callApi`: an own property wins over the prototype's.
  (telegram as unknown as { callApi: CallApi }).callApi = (method, payload, callOptions) => {
    if (method !== "getUpdates") return callApi(method, payload, callOptions);
    return gated.intercept<unknown>({
      params: (payload ?? {}) as GetUpdatesParams,
      signal: callOptions?.signal,
      send: (signal) => callApi(method, payload, { signal }),
      outcome: (answer) => ({ updates: answer as { update_id: number }[] }),
      empty: () => [],
    });
  };
  const launch = (bot.launch as Launch).bind(bot);
  // The one code path that starts polling is the supervisor's, which calls the original. Anyone else is refused
  // before Telegraf sends getMe or deleteWebhook; while polling, a second launch() would start a second loop.
  (bot as unknown as { launch: Launch }).launch = () =>
    Promise.reject(new LeaseNotValidError("bot.launch() was called directly; the supervisor starts polling with this bot"));
  return { gated, callApi, launch };
}
