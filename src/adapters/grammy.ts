/**
 * The grammY adapter (`polling-supervisor/grammy`): runs `bot.start()` or
 * `@grammyjs/runner` with every getUpdates routed through the supervisor's
 * gate. Written against the few members it uses, so it imports nothing from
 * grammY and survives its minor releases.
 * @module
 */
import { BotApiError, InvalidOptionError, LeaseNotValidError } from "../errors.js";
import { parseBotToken } from "../token.js";
import { assertBotShape } from "./assert-bot.js";
import { GatedPolling, type LoopDriver } from "./gated-polling.js";
import { callByName } from "./call-by-name.js";
import { HandlerTracker } from "./handler-tracker.js";
import { installOnce } from "./install-once.js";
import type { AbortSignalLike } from "./link-signals.js";
import type { BotAdapter, GetUpdatesParams, PollingGate, PollingRun } from "./types.js";

/** An update as far as this adapter cares. */
export interface GrammyUpdateLike {
  readonly update_id: number;
}

/** What grammY's API transformers receive and return (`ApiResponse`). */
export type GrammyApiResponse =
  | { readonly ok: true; readonly result: unknown }
  | {
      readonly ok: false;
      readonly error_code: number;
      readonly description: string;
      readonly parameters?: { readonly retry_after?: number; readonly migrate_to_chat_id?: number };
    };

/** The next function in grammY's transformer chain. */
export type GrammyApiCall = (method: string, payload: Record<string, unknown>, signal?: AbortSignal) => Promise<GrammyApiResponse>;

/** A grammY API transformer, as `bot.api.config.use` takes it. */
export type GrammyTransformer = (
  prev: GrammyApiCall,
  method: string,
  payload: Record<string, unknown>,
  signal?: AbortSignal,
) => Promise<GrammyApiResponse>;

/** What getMe returned, as grammY passes it to `onStart`. */
export interface GrammyBotInfo {
  readonly id: number;
  readonly username: string;
  readonly first_name: string;
  readonly [field: string]: unknown;
}

/** The options of `bot.start()` this adapter passes through. */
export interface GrammyStartOptions {
  /** Updates per getUpdates, 1..100. @default 100 (the Bot API's default) */
  readonly limit?: number;
  /** Long poll timeout in seconds. @default 30 (grammY's default) */
  readonly timeout?: number;
  /** Update types to receive. @default every type but `chat_member` and friends (the Bot API's default) */
  readonly allowed_updates?: readonly string[];
  /**
   * Passed to grammY's own deleteWebhook. Drops every update that waits on
   * the Bot API: only set it when losing them is what you want.
   * @default not sent (false)
   */
  readonly drop_pending_updates?: boolean;
  /** Called by grammY once its setup (getMe, deleteWebhook) is done, right before the first getUpdates. */
  readonly onStart?: (botInfo: GrammyBotInfo) => void | Promise<void>;
}

/** The handle `run()` of `@grammyjs/runner` returns. */
export interface GrammyRunnerHandleLike {
  stop(): Promise<void>;
  task(): Promise<void> | undefined;
}

/** The bot object this adapter hands to `run()`: the real bot, with its handlers counted. */
export interface GrammyRunnerBot {
  init(): Promise<void>;
  handleUpdate(update: GrammyUpdateLike): Promise<void>;
  errorHandler(error: unknown): unknown;
  readonly api: {
    getUpdates(args: { offset: number; limit: number; timeout: number }, signal: unknown): Promise<GrammyUpdateLike[]>;
  };
}

/** How to run the bot with `@grammyjs/runner`. */
export interface GrammyRunnerOption<O = unknown> {
  /** `run` from `@grammyjs/runner`; passed in so this package never imports the runner. */
  run(bot: GrammyRunnerBot, options?: O): GrammyRunnerHandleLike;
  /** The options for `run(bot, options)`, passed through. */
  readonly options?: O;
}

/** Options of {@link grammyAdapter}. */
export interface GrammyAdapterOptions<O = unknown> {
  /**
   * Options for `bot.start()`, passed through. `drop_pending_updates` is sent
   * only when given.
   * @default {}
   */
  readonly start?: GrammyStartOptions;
  /**
   * Poll with `@grammyjs/runner` instead of `bot.start()`:
   * `grammyAdapter(bot, { runner: { run, options } })`.
   * @default undefined (`bot.start()`)
   */
  readonly runner?: GrammyRunnerOption<O>;
}

/** The members of a grammY `Bot` this adapter uses. */
export interface GrammyBotLike {
  readonly token: string;
  readonly api: {
    readonly config: { readonly use: (...transformers: never[]) => unknown };
    /** grammY's raw API: `raw[method](payload, signal)`. */
    readonly raw: object;
    getUpdates(other?: never, signal?: never): Promise<readonly GrammyUpdateLike[]>;
  };
  start(options?: never): Promise<void>;
  stop(): Promise<void>;
  init(signal?: never): Promise<void>;
  handleUpdate(update: never): Promise<void>;
  errorHandler: (error: never) => unknown;
}

const GRAMMY_BOT = "a grammY bot (new Bot(token))";

interface GrammyInstallation {
  readonly gated: GatedPolling;
  /** `bot.start` before it was guarded. */
  readonly start: (options?: GrammyStartOptions) => Promise<void>;
}

/**
 * Adapts a grammY bot. Routes every getUpdates through the supervisor's gate
 * with an API transformer, installed once per bot; from then on
 * `bot.start()` called by anything but the supervisor rejects with
 * `LeaseNotValidError` before sending a request.
 *
 * ```ts
 * const supervisor = new PollingSupervisor({ adapter: grammyAdapter(bot) });
 * // or, with @grammyjs/runner:
 * grammyAdapter(bot, { runner: { run, options: { runner: { silent: true } } } });
 * ```
 */
export function grammyAdapter<O = unknown>(bot: GrammyBotLike, options: GrammyAdapterOptions<O> = {}): BotAdapter {
  assertBotShape(bot, GRAMMY_BOT, []);
  const { botId } = parseBotToken(bot.token);
  assertBotShape(bot, GRAMMY_BOT, ["api.config.use()", "api.raw", "start()", "stop()", "init()", "handleUpdate()"]);
  if (options.start !== undefined && options.runner !== undefined) {
    throw new InvalidOptionError(
      "start",
      "Expected either `start` (options for bot.start()) or `runner` (@grammyjs/runner), got both: the runner does not read bot.start() options; put them in `runner.options`.",
    );
  }
  if (options.runner !== undefined && typeof options.runner.run !== "function") {
    throw new InvalidOptionError(
      "runner",
      `Expected \`runner.run\` to be the \`run\` function of @grammyjs/runner, got ${typeof options.runner.run}.`,
    );
  }
  const installation = installOnce(bot, "grammy", () => install(bot));
  const callRaw = (method: string, payload: Record<string, unknown> | undefined, signal: AbortSignal | undefined) =>
    callByName(bot.api.raw, method, payload, signal);

  return {
    name: options.runner ? "grammy-runner" : "grammy",
    botId,
    callApi: (method, payload, signal) => callRaw(method, payload, signal),
    startPolling(gate: PollingGate): PollingRun {
      const transport = {
        confirm: (params: GetUpdatesParams, marker: AbortSignal) => callRaw("getUpdates", { ...params }, marker),
        getWebhookInfo: () => callRaw("getWebhookInfo", undefined, undefined),
      };
      const driver: LoopDriver = options.runner
        ? runnerDriver(bot, options.runner, transport)
        : {
            start: () => installation.start(withoutUndefined(options.start ?? {})),
            stop: () => bot.stop(),
            ...transport,
          };
      return installation.gated.begin(gate, driver);
    },
  };
}

function install(bot: GrammyBotLike): GrammyInstallation {
  const gated = new GatedPolling();
  const transformer: GrammyTransformer = (prev, method, payload, signal) => {
    if (method !== "getUpdates") return prev(method, payload, signal);
    const frameworkSignal = signal as AbortSignalLike | undefined;
    return gated.intercept<GrammyApiResponse>({
      params: payload as GetUpdatesParams,
      signal: frameworkSignal,
      send: (linked) => prev(method, payload, linked),
      outcome: (answer) =>
        answer.ok
          ? { updates: answer.result as GrammyUpdateLike[] }
          : { error: new BotApiError("getUpdates", answer.error_code, answer.description, { ...answer.parameters }) },
      empty: () => ({ ok: true, result: [] }),
    });
  };
  (bot.api.config.use as (...transformers: GrammyTransformer[]) => unknown)(transformer);

  const start = (bot.start as (options?: GrammyStartOptions) => Promise<void>).bind(bot);
  // The one code path that starts polling is the supervisor's, which calls the original. Anyone else is
  // refused before grammY sends getMe or deleteWebhook.
  (bot as { start: (options?: GrammyStartOptions) => Promise<void> }).start = () =>
    Promise.reject(new LeaseNotValidError("bot.start() was called directly; the supervisor starts polling with this bot"));
  return { gated, start };
}

function runnerDriver<O>(
  bot: GrammyBotLike,
  runner: GrammyRunnerOption<O>,
  transport: Pick<LoopDriver, "confirm" | "getWebhookInfo">,
): LoopDriver {
  const handlers = new HandlerTracker();
  // @grammyjs/runner handles updates concurrently and its stop() does not wait for them: count them here.
  const counted: GrammyRunnerBot = {
    init: () => bot.init(),
    handleUpdate: (update) => handlers.track(() => bot.handleUpdate(update as never)),
    errorHandler: (error) => handlers.track(async () => bot.errorHandler(error as never)),
    api: bot.api as unknown as GrammyRunnerBot["api"],
  };
  let handle: GrammyRunnerHandleLike | undefined;
  return {
    start: () => {
      handle = runner.run(counted, runner.options);
      return handle.task() ?? Promise.resolve();
    },
    stop: () => handle?.stop(),
    idle: () => handlers.idle(),
    ...transport,
  };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
