import { createBotApiClient, type BotApiClient } from "../api/bot-api-client.js";
import { InvalidOptionError } from "../errors.js";
import { GatedPolling } from "./gated-polling.js";
import type { BotAdapter, GetUpdatesParams, PollingGate, PollingRun } from "./types.js";

/** An update as the Bot API returns it; only `update_id` is relied on. */
export interface Update {
  readonly update_id: number;
  readonly [field: string]: unknown;
}

/** What a hand-written polling loop gets from {@link genericAdapter}. */
export interface GenericPollContext {
  /**
   * getUpdates through the supervisor's gate: throws `LeaseNotValidError`
   * without sending anything unless the lease is valid, and is aborted when
   * the lease is lost or `signal` aborts.
   */
  getUpdates(params?: GetUpdatesParams & Record<string, unknown>): Promise<Update[]>;
  /** Aborts when the loop must end (stop, lost lease, conflict). End the loop then, after handling what you received. */
  readonly signal: AbortSignal;
  /** A Bot API client on the same token and apiRoot, for replies. */
  readonly api: BotApiClient;
}

interface CommonOptions {
  /** The bot token. */
  readonly token: string;
  /**
   * The Bot API server.
   * @default "https://api.telegram.org"
   */
  readonly apiRoot?: string;
  /**
   * Name in log lines.
   * @default "generic"
   */
  readonly name?: string;
}

/** Options of {@link genericAdapter} for a loop written against {@link GenericPollContext}: full guarantees. */
export interface GenericLoopOptions extends CommonOptions {
  /**
   * Your polling loop: call `ctx.getUpdates` until `ctx.signal` aborts, handle
   * each update, pass `offset` = last `update_id` + 1. Resolve when every
   * update you received has been handled; reject to end the run with an error.
   */
  readonly poll: (ctx: GenericPollContext) => Promise<void>;
}

/**
 * Options of {@link genericAdapter} for a framework whose getUpdates cannot be
 * intercepted. The supervisor then checks the lease once, when it calls
 * `start`, and calls `stop` when the lease is lost; it cannot refuse or abort
 * a single getUpdates, nor see a 409 unless `start`'s promise rejects with it.
 */
export interface GenericStartStopOptions extends CommonOptions {
  /**
   * Starts the framework's polling. Return a promise only if it settles when
   * polling ends (like grammY's `bot.start()`); a function that returns at
   * once should return nothing, and polling then counts as running until `stop`.
   */
  readonly start: () => unknown;
  /** Stops polling gracefully (the framework confirms its offset). */
  readonly stop: () => unknown;
}

/**
 * An adapter for any framework or a hand-written loop. With `poll`, every
 * getUpdates goes through the supervisor's gate and the offset is confirmed
 * on stop; with `start`/`stop`, see {@link GenericStartStopOptions} for what
 * is and is not guaranteed.
 */
export function genericAdapter(options: GenericLoopOptions | GenericStartStopOptions): BotAdapter {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionError("options", "Expected genericAdapter({ token, poll }) or genericAdapter({ token, start, stop }).");
  }
  const api = createBotApiClient({ token: options.token, ...(options.apiRoot === undefined ? {} : { apiRoot: options.apiRoot }) });
  const hasLoop = "poll" in options && typeof options.poll === "function";
  const hasStartStop = "start" in options && typeof options.start === "function" && typeof options.stop === "function";
  if (hasLoop === hasStartStop) {
    throw new InvalidOptionError(
      hasLoop ? "start" : "poll",
      "Expected either `poll(ctx)` (a loop using ctx.getUpdates) or both `start()` and `stop()`, not both and not neither.",
    );
  }
  return {
    name: options.name ?? "generic",
    botId: api.botId,
    callApi: (method, payload, signal) => api.call(method, payload, signal),
    startPolling: (gate) =>
      hasLoop ? startLoop((options as GenericLoopOptions).poll, api, gate) : startOpaque(options as GenericStartStopOptions, gate),
  };
}

function startLoop(poll: GenericLoopOptions["poll"], api: BotApiClient, gate: PollingGate): PollingRun {
  const gated = new GatedPolling();
  const loop = new AbortController();
  const intercepted = (params: GetUpdatesParams & Record<string, unknown>, signal: AbortSignal) =>
    gated.intercept<Update[]>({
      params,
      signal,
      send: (requestSignal) => api.call<Update[]>("getUpdates", { ...params }, requestSignal),
      outcome: (updates) => ({ updates }),
      empty: () => [],
    });
  return gated.begin(gate, {
    start: () => poll({ getUpdates: (params = {}) => intercepted(params, loop.signal), signal: loop.signal, api }),
    stop: () => loop.abort(),
    confirm: (params, marker) => intercepted({ ...params }, marker),
    getWebhookInfo: () => api.call("getWebhookInfo"),
  });
}

function startOpaque(options: GenericStartStopOptions, gate: PollingGate): PollingRun {
  gate.enter({});
  let markStopped!: () => void;
  const stopped = new Promise<void>((resolve) => {
    markStopped = resolve;
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= Promise.resolve()
      .then(() => options.stop())
      .then(markStopped));
  gate.signal.addEventListener("abort", () => void stop().catch(() => undefined), { once: true });
  const started = options.start();
  // A promise from start() settles when polling ends; otherwise polling ends when stop() completes.
  const done = isPromiseLike(started) ? Promise.resolve(started).then(() => undefined) : stopped;
  return {
    done,
    stop: async () => {
      await stop();
      await done.catch(() => undefined);
    },
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
