import { InvalidOptionError } from "../errors.js";
import type { ApiEnvelope } from "./api-responses.js";
import { timestamp } from "./clock.js";
import type {
  BotControlOperations,
  BotSnapshot,
  CallbackQueryInput,
  DeleteWebhookParams,
  FaultInjection,
  GetUpdatesRecord,
  MessageInput,
  NextGetUpdatesOptions,
  SetWebhookParams,
  Update,
  UpdateInput,
  UpdateStreamRecord,
  UpdateStreamSpec,
  WaitOptions,
} from "./control-types.js";
import type { EmulatedBot } from "./emulated-bot.js";
import { CapturedAnswer } from "./pending-answer.js";
import { UpdateStreams } from "./update-streams.js";
import { describeSnapshot } from "./describe-snapshot.js";
import { waitUntil } from "./wait-for.js";

/** Default guard of every wait. */
const DEFAULT_WAIT_MS = 10_000;

/**
 * The in-process control of one emulated bot: push updates, act as an
 * outsider, inject faults and read records. The HTTP control API calls these
 * same methods. Get one from `emulator.bot(token)`.
 */
export class BotControl implements BotControlOperations {
  readonly #bot: EmulatedBot;
  readonly #streams: UpdateStreams;
  readonly #closed: AbortSignal;

  /** @internal Created by the emulator; `closed` aborts when it closes. */
  constructor(bot: EmulatedBot, closed: AbortSignal) {
    this.#bot = bot;
    this.#closed = closed;
    this.#streams = new UpdateStreams((spec, n) => {
      if (spec.update !== undefined) this.#bot.pushUpdate(spec.update);
      else this.#bot.pushMessage({ ...spec.message, text: `${spec.message?.text ?? "message"} #${n}` });
    });
  }

  /** The bot id: the token's digits before `:`. */
  get botId(): string {
    return this.#bot.botId;
  }

  pushUpdate(update: UpdateInput): Update | null {
    if (typeof update !== "object" || update === null || Array.isArray(update)) {
      throw new InvalidOptionError("update", `Expected an update object such as { message: {...} }, got ${String(update)}.`);
    }
    return this.#bot.pushUpdate(update) ?? null;
  }

  pushMessage(message: MessageInput | string): Update | null {
    const input = typeof message === "string" ? { text: message } : message;
    if (typeof input?.text !== "string") {
      throw new InvalidOptionError("text", `Expected the message \`text\` to be a string, got ${String(input?.text)}.`);
    }
    return this.#bot.pushMessage(input) ?? null;
  }

  pushCallbackQuery(query: CallbackQueryInput | string): Update | null {
    const input = typeof query === "string" ? { data: query } : query;
    if (typeof input?.data !== "string") {
      throw new InvalidOptionError("data", `Expected the callback query \`data\` to be a string, got ${String(input?.data)}.`);
    }
    return this.#bot.pushCallbackQuery(input) ?? null;
  }

  startUpdateStream(spec: UpdateStreamSpec): number {
    return this.#streams.start(spec);
  }

  stopUpdateStream(id: number): UpdateStreamRecord {
    return this.#streams.stop(id);
  }

  setWebhook(params: SetWebhookParams): Promise<ApiEnvelope> {
    return this.#callAsOutsider("setWebhook", params);
  }

  deleteWebhook(params: DeleteWebhookParams = {}): Promise<ApiEnvelope> {
    return this.#callAsOutsider("deleteWebhook", params);
  }

  injectFault(injection: FaultInjection): void {
    this.#bot.faults.add(injection);
  }

  clearFaults(): void {
    this.#bot.faults.clear();
  }

  reportWebhookError(message: string): void {
    if (typeof message !== "string") {
      throw new InvalidOptionError("message", `Expected the webhook error \`message\` to be a string, got ${String(message)}.`);
    }
    this.#bot.reportWebhookError(message);
  }

  reportSynchronizationError(): void {
    this.#bot.reportSynchronizationError();
  }

  snapshot(): BotSnapshot {
    return {
      botId: this.#bot.botId,
      time: timestamp(),
      ...this.#bot.recorder.records(),
      longPollPending: this.#bot.longPollPending,
      pendingUpdateCount: this.#bot.pendingUpdateCount(),
      webhookUrl: this.#bot.webhookUrl,
      streams: this.#streams.list(),
    };
  }

  clearRecords(): void {
    this.#bot.recorder.clear();
  }

  async nextGetUpdates(options: NextGetUpdatesOptions = {}): Promise<GetUpdatesRecord> {
    const seq = (options.after ?? this.#bot.recorder.getUpdatesCount) + 1;
    const found = (snapshot: BotSnapshot): GetUpdatesRecord | undefined =>
      snapshot.getUpdates.find((record) => record.seq === seq);
    const snapshot = await this.waitFor((current) => {
      const record = found(current);
      return record !== undefined && (options.until !== "answered" || record.outcome.kind !== "pending");
    }, options);
    return found(snapshot)!;
  }

  waitFor(predicate: (snapshot: BotSnapshot) => boolean, options: WaitOptions = {}): Promise<BotSnapshot> {
    return waitUntil({
      read: () => this.snapshot(),
      predicate,
      subscribe: (listener) => this.#bot.recorder.onChange(listener),
      describe: describeSnapshot,
      timeoutMs: options.timeoutMs ?? DEFAULT_WAIT_MS,
      signals: [options.signal, this.#closed],
    });
  }

  /** Stops the bot's streams (the emulator is closing). */
  stopStreams(): void {
    this.#streams.stopAll();
  }

  async #callAsOutsider(method: string, params: Readonly<Record<string, unknown>>): Promise<ApiEnvelope> {
    const answer = new CapturedAnswer();
    this.#bot.handle(method, params, answer, "control");
    return answer.body;
  }
}
