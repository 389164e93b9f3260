import { InvalidOptionError, type ConflictKind } from "../errors.js";
import { AllowedUpdates } from "./allowed-updates.js";
import { errorReply, okReply, tooManyRequestsReply, type ApiReply } from "./api-responses.js";
import { argumentText, booleanArgument, integerArgument, type BotApiArguments } from "./bot-api-arguments.js";
import { BotRecorder } from "./bot-recorder.js";
import { timestamp, unixTime } from "./clock.js";
import { ConflictGate } from "./conflict-gate.js";
import type {
  BotProfile,
  CallbackQueryInput,
  Fault,
  MessageInput,
  MethodCallRecord,
  Update,
  UpdateInput,
} from "./control-types.js";
import { FaultInjector } from "./fault-injection.js";
import { GetUpdatesCall } from "./get-updates-call.js";
import { LongPollSlot } from "./long-poll-slot.js";
import type { PendingAnswer } from "./pending-answer.js";
import { botUser, catchAllResult, sendsMessage, sentMessage, type BotUser } from "./plausible-results.js";
import type { EmulatorTiming } from "./timing.js";
import { callbackQueryUpdate, messageUpdate, updateType } from "./update-factories.js";
import { UpdateQueue } from "./update-queue.js";
import {
  isSameWebhook,
  NO_WEBHOOK,
  requestedWebhook,
  shownIpAddress,
  webhookProblem,
  type WebhookSettings,
} from "./webhook-settings.js";

const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
/** `LONG_POLL_MAX_TIMEOUT`. */
const MAX_TIMEOUT = 50;
/** The same-offset throttle raises `timeout` below this to this. */
const THROTTLED_TIMEOUT = 3;

/** Options of one {@link EmulatedBot}. */
export interface EmulatedBotOptions {
  readonly botId: string;
  readonly profile: BotProfile;
  readonly timing: EmulatorTiming;
  readonly firstUpdateId: number;
  /** Called when the bot calls logOut; the emulator then answers its token with 401. */
  readonly onLoggedOut: () => void;
}

/**
 * One bot as the Bot API server keeps it (`Client` in tdlib/telegram-bot-api):
 * update queue, webhook, long-poll slot, throttles and conflict delays, plus
 * the records the control API reads. Knows nothing of HTTP: calls arrive as a
 * method, arguments and a {@link PendingAnswer}.
 */
export class EmulatedBot {
  /** The token's digits before `:`. */
  readonly botId: string;
  /** What getMe answers. */
  readonly user: BotUser;
  /** Everything observed for this bot. */
  readonly recorder = new BotRecorder();
  readonly #timing: EmulatorTiming;
  readonly #onLoggedOut: () => void;
  readonly #queue: UpdateQueue;
  readonly #allowedUpdates = new AllowedUpdates();
  readonly #slot = new LongPollSlot();
  readonly #conflicts: ConflictGate;
  readonly #faults = new FaultInjector();
  /** Calls held by a latency fault, with how to abandon each at shutdown. */
  readonly #held = new Map<NodeJS.Timeout, () => void>();
  readonly #messageIds = new Map<string, number>();
  #webhook: WebhookSettings = NO_WEBHOOK;
  #lastWebhookError: { readonly date: number; readonly message: string } | undefined;
  #lastSynchronizationErrorDate = 0;
  #previousGetUpdates: { readonly offset: number; readonly at: number } | undefined;
  #nextSetWebhookAt = Number.NEGATIVE_INFINITY;
  #callbackQueries = 0;

  constructor(options: EmulatedBotOptions) {
    this.botId = options.botId;
    this.user = botUser(options.botId, options.profile);
    this.#timing = options.timing;
    this.#onLoggedOut = options.onLoggedOut;
    this.#conflicts = new ConflictGate(options.timing.conflictDelayMs);
    this.#queue = new UpdateQueue({
      ttlMs: options.timing.updateTtlMs,
      firstUpdateId: options.firstUpdateId,
      onRemoved: (updateId, reason, at) => this.recorder.updateRemoved(updateId, reason, at),
    });
  }

  /** The faults armed for this bot's next calls. */
  get faults(): FaultInjector {
    return this.#faults;
  }

  /** The current webhook URL, "" when none. */
  get webhookUrl(): string {
    return this.#webhook.url;
  }

  /** True while a getUpdates waits in the long-poll slot (a disconnected client's included). */
  get longPollPending(): boolean {
    return this.#slot.held !== undefined;
  }

  /** `pending_update_count`. */
  pendingUpdateCount(): number {
    return this.#queue.size(timestamp());
  }

  /** Handles one Bot API call; `source` says whether it came over HTTP or from the control API (no faults apply there). */
  handle(method: string, args: BotApiArguments, answer: PendingAnswer, source: MethodCallRecord["source"]): void {
    if (method.toLowerCase() === "getupdates") {
      this.#receiveGetUpdates(args, answer);
      return;
    }
    const record = this.recorder.startCall({ method, params: args, time: timestamp(), source });
    const respond = (reply: ApiReply, fault?: Fault["kind"]): void => {
      answer.send(reply);
      this.recorder.endCall(record, reply.body, fault);
    };
    const fault = source === "http" ? this.#faults.take(method) : undefined;
    if (fault === undefined) {
      this.#dispatch(method, args, respond);
    } else if (fault.kind === "latency") {
      this.recorder.endCall(record, undefined, "latency");
      const resume = (): void => this.#dispatch(method, args, (reply) => respond(reply, "latency"));
      this.#hold(fault.ms, resume, () => answer.resetConnection());
    } else if (fault.kind === "connection-reset") {
      answer.resetConnection();
      this.recorder.endCall(record, undefined, fault.kind);
    } else {
      respond(faultReply(fault), fault.kind);
    }
  }

  /** Adds an update (a given `update_id` is replaced); undefined when the bot's allowed_updates filter it out. */
  pushUpdate(input: UpdateInput): Update | undefined {
    const type = updateType(input);
    if (!this.#allowedUpdates.allows(type)) return undefined;
    const now = timestamp();
    const update = this.#queue.push(input, type, now);
    this.recorder.updatePushed(update.update_id, type, now);
    if (this.#webhook.url === "") this.#slot.wake();
    return update;
  }

  /** Pushes a `message` update from a user. */
  pushMessage(input: MessageInput): Update | undefined {
    const nextMessageId = (chatId: number): number => this.#nextMessageId(String(chatId));
    return this.pushUpdate(messageUpdate(input, { nextMessageId, date: unixTime() }));
  }

  /** Pushes a `callback_query` update. */
  pushCallbackQuery(input: CallbackQueryInput): Update | undefined {
    const chatId = String(input.chatId ?? 1000);
    return this.pushUpdate(
      callbackQueryUpdate(input, {
        messageId: this.#nextMessageId(chatId),
        date: unixTime(),
        queryId: String(++this.#callbackQueries),
        bot: this.user,
      }),
    );
  }

  /** Sets `last_error_date` and `last_error_message` as a failed webhook delivery would; needs a webhook. */
  reportWebhookError(message: string): void {
    if (this.#webhook.url === "") {
      throw new InvalidOptionError("webhook", "reportWebhookError needs a webhook: set one first (setWebhook).");
    }
    this.#lastWebhookError = { date: unixTime(), message };
    this.recorder.changed();
  }

  /** Sets `last_synchronization_error_date` as a lost connection to Telegram's datacenters would. */
  reportSynchronizationError(): void {
    this.#lastSynchronizationErrorDate = unixTime();
    this.recorder.changed();
  }

  /** Answers nothing more: every pending call is recorded as `closed` and its connection dropped. */
  shutdown(): void {
    const poll = this.#slot.take();
    poll?.call.close();
    for (const call of this.#conflicts.cancelDelayed()) call.close();
    for (const [timer, abandon] of this.#held) {
      clearTimeout(timer);
      abandon();
    }
    this.#held.clear();
  }

  #dispatch(method: string, args: BotApiArguments, respond: (reply: ApiReply) => void): void {
    switch (method.toLowerCase()) {
      case "getme":
        return respond(okReply(this.user));
      case "setwebhook":
        return respond(this.#setWebhook(args, true));
      case "deletewebhook":
        return respond(this.#setWebhook(args, false));
      case "getwebhookinfo":
        return respond(okReply(this.#webhookInfo()));
      case "close":
        this.#endSession();
        return respond(okReply(true));
      case "logout":
        this.#queue.clear(0, "dropped", timestamp());
        this.#endSession();
        this.#onLoggedOut();
        return respond(okReply(true));
      case "sendmessage":
        return respond(this.#sendMessage(method, args));
      default:
        return respond(this.#catchAll(method, args));
    }
  }

  #receiveGetUpdates(args: BotApiArguments, answer: PendingAnswer): void {
    const record = this.recorder.startGetUpdates({
      start: timestamp(),
      params: args,
      offset: integerArgument(args, "offset", 0, INT32_MIN, INT32_MAX),
      limit: integerArgument(args, "limit", 100, 1, 100),
      timeout: integerArgument(args, "timeout", 0, 0, MAX_TIMEOUT),
      throttled: { timeout: false, limit: false },
    });
    const call = new GetUpdatesCall(record, answer, this.recorder);
    const fault = this.#faults.take("getUpdates");
    if (fault === undefined) {
      this.#getUpdates(call, args);
    } else if (fault.kind === "latency") {
      this.#hold(fault.ms, () => this.#getUpdates(call, args), () => call.close());
    } else if (fault.kind === "connection-reset") {
      call.reset();
    } else {
      call.finish({ kind: "fault", fault: fault.kind }, faultReply(fault));
    }
  }

  /** `process_get_updates_query`: webhook check, allowed_updates, same-offset throttle. */
  #getUpdates(call: GetUpdatesCall, args: BotApiArguments): void {
    const now = timestamp();
    if (this.#webhook.url !== "") {
      this.#conflicts.fail(call, "webhook", now);
      return;
    }
    this.#allowedUpdates.apply(argumentText(args, "allowed_updates"));
    const { record } = call;
    const previous = this.#previousGetUpdates;
    const sameOffset = previous !== undefined && previous.offset === record.offset;
    const sinceLast = previous === undefined ? Number.POSITIVE_INFINITY : now - previous.at;
    const throttled = {
      timeout: sameOffset && record.timeout < THROTTLED_TIMEOUT && sinceLast < this.#timing.sameOffsetWindowMs,
      limit: sameOffset && sinceLast < this.#timing.sameOffsetLimitWindowMs,
    };
    this.#previousGetUpdates = { offset: record.offset, at: now };
    if (throttled.timeout) record.timeout = THROTTLED_TIMEOUT;
    if (throttled.limit) record.limit = 1;
    record.throttled = throttled;
    this.#serveGetUpdates(call, now);
  }

  /** `do_get_updates`: answer at once, or wait in the slot and terminate the previous long poll. */
  #serveGetUpdates(call: GetUpdatesCall, now: number): void {
    const { offset, limit, timeout } = call.record;
    const read = this.#queue.read(offset, limit, now);
    if (timeout === 0 || read.updates.length > 0) {
      answerWithUpdates(call, read.updates);
      return;
    }
    const previous = this.#slot.take();
    if (previous) this.#kick(previous.call, "poller", now);
    const waitMs = timeout * this.#timing.longPollSecondMs;
    this.#slot.hold({ call, offset: read.offset, limit }, waitMs, () => this.#answerLongPoll());
    this.recorder.longPollStarted(call.record, now);
  }

  /** The long poll's time is up or an update arrived: answer it with whatever is there. */
  #answerLongPoll(): void {
    const poll = this.#slot.take();
    if (!poll) return;
    const now = timestamp();
    this.recorder.longPollEnded(now);
    answerWithUpdates(poll.call, this.#queue.read(poll.offset, poll.limit, now).updates);
  }

  #kick(call: GetUpdatesCall, kind: ConflictKind, now: number): void {
    this.recorder.kicked(call.record, now);
    this.#conflicts.fail(call, kind, now);
  }

  /** `process_set_webhook_query` and `do_set_webhook`, for setWebhook and deleteWebhook. */
  #setWebhook(args: BotApiArguments, isSetWebhook: boolean): ApiReply {
    const requested = requestedWebhook(args, isSetWebhook);
    const now = timestamp();
    if (requested.url !== "") {
      if (now < this.#nextSetWebhookAt) return tooManyRequestsReply(1);
      this.#nextSetWebhookAt = now + this.#timing.setWebhookIntervalMs;
    }
    const dropPendingUpdates = booleanArgument(args, "drop_pending_updates");
    if (isSameWebhook(this.#webhook, requested) && !dropPendingUpdates) {
      this.#allowedUpdates.apply(argumentText(args, "allowed_updates"));
      return okReply(true, requested.url === "" ? "Webhook is already deleted" : "Webhook is already set");
    }
    if (requested.url !== "") {
      const poll = this.#slot.take();
      if (poll) {
        this.recorder.longPollEnded(now);
        this.#kick(poll.call, "set-webhook", now);
      }
    }
    const wasSet = this.#webhook.url !== "";
    this.#webhook = NO_WEBHOOK;
    this.#lastWebhookError = undefined;
    if (dropPendingUpdates) this.#queue.clear(0, "dropped", now);
    if (requested.url === "") return okReply(true, wasSet ? "Webhook was deleted" : "Webhook is already deleted");
    const problem = webhookProblem(requested);
    if (problem !== undefined) return errorReply(400, problem);
    this.#webhook = requested;
    this.#allowedUpdates.apply(argumentText(args, "allowed_updates"));
    this.recorder.changed();
    return okReply(true, "Webhook was set");
  }

  /** `JsonWebhookInfo`: optional fields only where they apply, in the server's order. */
  #webhookInfo(): Record<string, unknown> {
    const webhook = this.#webhook;
    const allowedUpdates = this.#allowedUpdates.reported();
    return {
      url: webhook.url,
      has_custom_certificate: webhook.hasCustomCertificate,
      pending_update_count: this.pendingUpdateCount(),
      ...(this.#lastWebhookError === undefined
        ? {}
        : { last_error_date: this.#lastWebhookError.date, last_error_message: this.#lastWebhookError.message }),
      ...(webhook.maxConnections > 0 ? { max_connections: webhook.maxConnections } : {}),
      ...(webhook.url === "" ? {} : { ip_address: shownIpAddress(webhook) }),
      ...(allowedUpdates === undefined ? {} : { allowed_updates: allowedUpdates }),
      ...(this.#lastSynchronizationErrorDate > 0
        ? { last_synchronization_error_date: this.#lastSynchronizationErrorDate }
        : {}),
    };
  }

  /** close and logOut: the server's `Client` ends; a waiting long poll is answered with what is pending, throttles restart. */
  #endSession(): void {
    this.#answerLongPoll();
    this.#previousGetUpdates = undefined;
    this.#conflicts.restart();
    this.#nextSetWebhookAt = Number.NEGATIVE_INFINITY;
  }

  #sendMessage(method: string, args: BotApiArguments): ApiReply {
    if (argumentText(args, "chat_id") === "") return errorReply(400, "Bad Request: chat_id is empty");
    if (argumentText(args, "text") === "") return errorReply(400, "Bad Request: message text is empty");
    return this.#catchAll(method, args);
  }

  /** Any method the emulator does not model: a plausible result, and a reply record for send methods. */
  #catchAll(method: string, args: BotApiArguments): ApiReply {
    const chatId = argumentText(args, "chat_id");
    const messageId = this.#nextMessageId(chatId);
    const date = unixTime();
    if (sendsMessage(method) && chatId !== "") {
      const message = sentMessage(this.user, args, messageId, date);
      const text = argumentText(args, "text");
      const replyTo = replyToMessageId(args);
      this.recorder.reply({
        method,
        chatId: Number.isInteger(Number(chatId)) ? Number(chatId) : chatId,
        ...(text === "" ? {} : { text }),
        messageId,
        ...(replyTo === undefined ? {} : { replyToMessageId: replyTo }),
        time: timestamp(),
      });
      return okReply(message);
    }
    return okReply(catchAllResult(method, this.user, args, messageId, date));
  }

  #nextMessageId(chatId: string): number {
    const next = (this.#messageIds.get(chatId) ?? 0) + 1;
    this.#messageIds.set(chatId, next);
    return next;
  }

  #hold(ms: number, resume: () => void, abandon: () => void): void {
    const timer = setTimeout(() => {
      this.#held.delete(timer);
      resume();
    }, ms);
    this.#held.set(timer, abandon);
  }
}

function answerWithUpdates(call: GetUpdatesCall, updates: readonly Update[]): void {
  call.finish(
    updates.length === 0 ? { kind: "empty" } : { kind: "updates", updateIds: updates.map((update) => update.update_id) },
    okReply(updates),
  );
}

function faultReply(fault: Extract<Fault, { kind: "too-many-requests" | "server-error" }>): ApiReply {
  return fault.kind === "too-many-requests"
    ? tooManyRequestsReply(fault.retryAfter)
    : errorReply(fault.status ?? 500, fault.description ?? "Internal Server Error");
}

/** `reply_parameters.message_id` (object or JSON text) or the older `reply_to_message_id`. */
function replyToMessageId(args: BotApiArguments): number | undefined {
  const legacy = Number(argumentText(args, "reply_to_message_id"));
  if (Number.isInteger(legacy) && legacy > 0) return legacy;
  const text = argumentText(args, "reply_parameters");
  if (text === "") return undefined;
  try {
    const id = (JSON.parse(text) as { message_id?: unknown }).message_id;
    return typeof id === "number" ? id : undefined;
  } catch {
    return undefined;
  }
}
