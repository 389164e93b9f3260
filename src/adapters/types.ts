/**
 * The structural contract between the supervisor and a bot framework.
 * An adapter knows how to call the Bot API, how to start and stop the
 * framework's polling loop, and routes every getUpdates through the gate.
 */

/** The getUpdates parameters the gate looks at. */
export interface GetUpdatesParams {
  readonly offset?: number;
  readonly limit?: number;
  readonly timeout?: number;
  readonly allowed_updates?: readonly string[];
}

/** The result of a getUpdates that was sent, reported back to the gate. */
export type GetUpdatesOutcome =
  | { readonly updates: readonly { readonly update_id: number }[] }
  | { readonly error: unknown };

/**
 * What the supervisor hands an adapter when polling starts. Every getUpdates
 * the framework sends must pass `enter` first and report to `settled` after.
 */
export interface PollingGate {
  /**
   * Call right before sending a getUpdates. Throws a `LeaseNotValidError`
   * when this instance does not hold a valid lease at this moment: the
   * request must then not be sent. Returns the signal to send it with; it
   * aborts when the lease is lost, which cancels the in-flight long poll.
   */
  enter(params: GetUpdatesParams): AbortSignal;
  /** Report how a getUpdates that passed `enter` ended. */
  settled(outcome: GetUpdatesOutcome): void;
  /** Aborted when polling must end at once (lease lost, conflict, fatal error). */
  readonly signal: AbortSignal;
}

/** A running polling loop. */
export interface PollingRun {
  /** Settles when the loop has ended: resolves on a normal stop, rejects with the error that ended it. */
  readonly done: Promise<void>;
  /**
   * Graceful stop: stop fetching, let the updates already received be
   * handled, confirm the offset, and resolve once the loop has ended.
   */
  stop(): Promise<void>;
}

/** A bot framework, as the supervisor sees it. */
export interface BotAdapter {
  /** Short name for log lines, e.g. `"grammy"`. */
  readonly name: string;
  /** The bot id (the token's digits before `:`); used for the default lock name. */
  readonly botId: string;
  /**
   * Calls a Bot API method; used by preflight (getWebhookInfo, deleteWebhook).
   * Rejects with the framework's own error, which `classifyApiError` understands.
   */
  callApi(method: string, payload?: Record<string, unknown>, signal?: AbortSignal): Promise<unknown>;
  /**
   * Starts the framework's polling loop with every getUpdates routed through
   * `gate`. This is the only way the supervisor starts polling.
   */
  startPolling(gate: PollingGate): PollingRun;
}
