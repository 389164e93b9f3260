/**
 * The path and serializable types of the control API, shared by the in-process
 * {@link BotControl}, the HTTP routes and {@link EmulatorControlClient}.
 * Times are milliseconds since the Unix epoch from the monotonic clock
 * (`performance.timeOrigin + performance.now()`).
 * @module
 */
import type { ConflictKind } from "../errors.js";
import type { ApiEnvelope } from "./api-responses.js";

export type { ConflictKind };

/** Where the control API lives; no Bot API path starts with it. */
export const CONTROL_PATH = "/_emulator";

/** What `GET /_emulator` answers. */
export interface EmulatorInfo {
  readonly apiRoot: string;
  readonly acceptsAnyToken: boolean;
  /** Ids of the bots the emulator has. */
  readonly botIds: readonly string[];
}

/** The control API's envelope: the Bot API's shape, without error codes. */
export type ControlEnvelope<T = unknown> =
  | { readonly ok: true; readonly result: T }
  | { readonly ok: false; readonly description: string };

/** An update to push: any Bot API update object; `update_id` is assigned by the emulator (a given one is ignored). */
export type UpdateInput = Readonly<Record<string, unknown>>;

/** A Bot API update as the emulator serves it. */
export interface Update {
  readonly update_id: number;
  readonly [field: string]: unknown;
}

/** A text message from a user, turned into a `message` update by the emulator. */
export interface MessageInput {
  /** The text; a leading `/command` gets a `bot_command` entity. */
  readonly text: string;
  /** @default 1000 */
  readonly chatId?: number;
  /** The sender's user id. @default the chat id for a private chat, else 1000 */
  readonly fromId?: number;
  /** @default "private" */
  readonly chatType?: "private" | "group" | "supergroup";
  /** @default "Tester" */
  readonly firstName?: string;
}

/** A tap on an inline button, turned into a `callback_query` update. */
export interface CallbackQueryInput {
  /** The button's `callback_data`. */
  readonly data: string;
  /** @default 1000 */
  readonly chatId?: number;
  /** @default the chat id */
  readonly fromId?: number;
  /** Text of the bot message the button belongs to. @default "Choose:" */
  readonly messageText?: string;
}

/** A steady stream of updates for load tests. */
export interface UpdateStreamSpec {
  /** Updates per second, > 0. */
  readonly ratePerSecond: number;
  /** Stop after this many. @default unlimited (until stopped) */
  readonly count?: number;
  /** Push this update each time instead of a message. */
  readonly update?: UpdateInput;
  /** Template of the messages pushed; `#n` (1-based) is appended to its text. @default `{ text: "message" }` */
  readonly message?: MessageInput;
}

/** A stream started with `startUpdateStream`. */
export interface UpdateStreamRecord {
  readonly id: number;
  readonly ratePerSecond: number;
  readonly count?: number;
  /** Updates pushed so far. */
  readonly pushed: number;
  readonly active: boolean;
}

/** What an injected fault does to a call. */
export type Fault =
  /** Hold the call this long, then handle it normally. */
  | { readonly kind: "latency"; readonly ms: number }
  /** Answer 429 `Too Many Requests: retry after N` with `parameters.retry_after`. */
  | { readonly kind: "too-many-requests"; readonly retryAfter: number }
  /** Answer a 5xx. @default status 500, description "Internal Server Error" */
  | { readonly kind: "server-error"; readonly status?: number; readonly description?: string }
  /** Reset the TCP connection without answering. */
  | { readonly kind: "connection-reset" };

/** A fault for the next `times` calls of `method`. */
export interface FaultInjection {
  /** Bot API method name (any case), or `"*"` for every method. */
  readonly method: string;
  /** @default 1 */
  readonly times?: number;
  readonly fault: Fault;
}

/** How a getUpdates ended. */
export type GetUpdatesOutcome =
  | { readonly kind: "pending" }
  | { readonly kind: "updates"; readonly updateIds: readonly number[] }
  | { readonly kind: "empty" }
  | { readonly kind: "conflict"; readonly conflict: ConflictKind; readonly description: string }
  | { readonly kind: "fault"; readonly fault: Fault["kind"] }
  /** The emulator closed, or the bot was closed or logged out, while it was pending. */
  | { readonly kind: "closed" };

/** One getUpdates request, from arrival to answer. */
export interface GetUpdatesRecord {
  /** 1-based position among this bot's getUpdates. */
  readonly seq: number;
  /** Arrival time. */
  readonly start: number;
  /** When the answer was sent (or the connection reset); absent while pending. */
  readonly end?: number;
  /** `offset` as sent (a negative or zero one is resolved to the first pending update when served). */
  readonly offset: number;
  /** `limit` as served: clamped to 1..100, 1 when throttled. */
  readonly limit: number;
  /** `timeout` in seconds as served: clamped to 0..50, 3 when throttled. */
  readonly timeout: number;
  /** Which values the same-offset throttle changed. */
  readonly throttled: { readonly timeout: boolean; readonly limit: boolean };
  /** True when it waited in the long-poll slot. */
  readonly longPoll: boolean;
  readonly outcome: GetUpdatesOutcome;
  /** When a newer getUpdates or a setWebhook terminated it (the 409 may be sent later). */
  readonly kickedAt?: number;
  /** When the client closed the connection before the answer. */
  readonly clientGoneAt?: number;
  /** The arguments as received. */
  readonly params: Readonly<Record<string, unknown>>;
}

/** Why an update left the queue. */
export type UpdateRemoval = "confirmed" | "expired" | "dropped" | "trimmed";

/** One pushed update. */
export interface UpdateRecord {
  readonly updateId: number;
  /** The update's type, e.g. `message`. */
  readonly type: string;
  readonly pushedAt: number;
  /** How many getUpdates answers carried it. */
  readonly deliveries: number;
  /** True once a getUpdates with a higher offset confirmed it. */
  readonly confirmed: boolean;
  /** When and why it left the queue; absent while pending. */
  readonly removed?: { readonly at: number; readonly reason: UpdateRemoval };
}

/** One call of any method except getUpdates. */
export interface MethodCallRecord {
  readonly seq: number;
  /** The method name as sent. */
  readonly method: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly time: number;
  /** `http` for Bot API requests, `control` for outsider calls made through the control API. */
  readonly source: "http" | "control";
  /** The answer; absent while pending. */
  readonly response?: ApiEnvelope;
  /** The injected fault that answered it, if any. */
  readonly fault?: Fault["kind"];
}

/** A message the bot sent: every successful sendMessage and other `send*` call. */
export interface ReplyRecord {
  readonly method: string;
  readonly chatId: number | string;
  readonly text?: string;
  readonly messageId: number;
  /** `reply_parameters.message_id` or `reply_to_message_id`, when given. */
  readonly replyToMessageId?: number;
  readonly time: number;
}

/** A stretch of time with no long poll pending, counted from the bot's first long poll. */
export interface PollGap {
  readonly start: number;
  /** Absent while the gap is still open. */
  readonly end?: number;
}

/** Everything recorded for one bot, copied at `time`. */
export interface BotSnapshot {
  readonly botId: string;
  readonly time: number;
  readonly getUpdates: readonly GetUpdatesRecord[];
  readonly updates: readonly UpdateRecord[];
  readonly calls: readonly MethodCallRecord[];
  readonly replies: readonly ReplyRecord[];
  /** 409 answers sent, by kind. */
  readonly conflicts: Readonly<Record<ConflictKind, number>>;
  readonly pollGaps: readonly PollGap[];
  /** The longest closed gap, 0 when none closed. */
  readonly longestPollGapMs: number;
  readonly longPollPending: boolean;
  readonly pendingUpdateCount: number;
  /** "" when no webhook is set. */
  readonly webhookUrl: string;
  readonly streams: readonly UpdateStreamRecord[];
}

/** A bot the emulator knows, with the profile getMe returns. */
export interface BotProfile {
  readonly token: string;
  /** @default "Emulated Bot" */
  readonly firstName?: string;
  /** @default `emulated_<botId>_bot` */
  readonly username?: string;
}

/** Arguments of setWebhook as an outsider sends them (snake_case Bot API parameters). */
export type SetWebhookParams = Readonly<Record<string, unknown>> & { readonly url: string };

/** Arguments of deleteWebhook. */
export type DeleteWebhookParams = { readonly drop_pending_updates?: boolean };

/** How long to wait. */
export interface WaitOptions {
  /** Reject after this long; a guard against a hung test, not a measurement. @default 10_000 */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Options of `nextGetUpdates`. */
export interface NextGetUpdatesOptions extends WaitOptions {
  /** Resolve with the first getUpdates whose `seq` is greater than this. @default the number recorded when the call is made */
  readonly after?: number;
  /** Resolve when the next getUpdates arrives, or once it is answered. @default "arrived" */
  readonly until?: "arrived" | "answered";
}

/**
 * What a test can do with one emulated bot. In-process ({@link BotControl})
 * the methods answer synchronously except the ones that wait; over HTTP
 * ({@link RemoteBotControl}) each returns a promise of the same value.
 */
export interface BotControlOperations {
  /** Pushes any update; null when the bot's `allowed_updates` filter its type out. */
  pushUpdate(update: UpdateInput): Update | null;
  /** Pushes a `message` update; a string is the text. */
  pushMessage(message: MessageInput | string): Update | null;
  /** Pushes a `callback_query` update; a string is the data. */
  pushCallbackQuery(query: CallbackQueryInput | string): Update | null;
  /** Starts a steady stream of updates; returns its id. */
  startUpdateStream(spec: UpdateStreamSpec): number;
  /** Stops a stream; returns how many it pushed. */
  stopUpdateStream(id: number): UpdateStreamRecord;
  /** Calls setWebhook as another process would (same rules, rate limit included); resolves with the Bot API answer. */
  setWebhook(params: SetWebhookParams): Promise<ApiEnvelope>;
  /** Calls deleteWebhook as another process would. */
  deleteWebhook(params?: DeleteWebhookParams): Promise<ApiEnvelope>;
  /** Arms a fault for the next calls of a method. */
  injectFault(injection: FaultInjection): void;
  /** Disarms every fault. */
  clearFaults(): void;
  /** Sets getWebhookInfo's `last_error_date`/`last_error_message` as a failed delivery would (needs a webhook). */
  reportWebhookError(message: string): void;
  /** Sets getWebhookInfo's `last_synchronization_error_date`. */
  reportSynchronizationError(): void;
  /** Copies of every record. */
  snapshot(): BotSnapshot;
  /** Forgets every record (the queue and webhook stay). */
  clearRecords(): void;
  /** Resolves with the next getUpdates record: one that arrives after the call, or after `options.after`. */
  nextGetUpdates(options?: NextGetUpdatesOptions): Promise<GetUpdatesRecord>;
  /** Resolves with the first snapshot for which `predicate` is true. */
  waitFor(predicate: (snapshot: BotSnapshot) => boolean, options?: WaitOptions): Promise<BotSnapshot>;
}

/** The same operations over HTTP: every method returns a promise. */
export type RemoteOperations<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};
