import type { ApiEnvelope } from "./api-responses.js";
import {
  CONTROL_PATH,
  type BotControlOperations,
  type BotProfile,
  type BotSnapshot,
  type CallbackQueryInput,
  type ControlEnvelope,
  type DeleteWebhookParams,
  type EmulatorInfo,
  type FaultInjection,
  type GetUpdatesRecord,
  type MessageInput,
  type NextGetUpdatesOptions,
  type RemoteOperations,
  type SetWebhookParams,
  type Update,
  type UpdateInput,
  type UpdateStreamRecord,
  type UpdateStreamSpec,
  type WaitOptions,
} from "./control-types.js";
import { describeSnapshot } from "./describe-snapshot.js";
import { waitUntil } from "./wait-for.js";

/** A control-API call failed; `status` is the HTTP status (400 bad input, 404 unknown bot, 408 wait timed out). */
export class EmulatorControlError extends Error {
  override readonly name = "EmulatorControlError";
  constructor(
    readonly status: number,
    description: string,
  ) {
    super(description);
  }
}

/** Options of {@link EmulatorControlClient}. */
export interface EmulatorControlClientOptions {
  /** How often `waitFor` reads a fresh snapshot. @default 25 */
  readonly pollIntervalMs?: number;
}

/**
 * A typed client of the emulator's HTTP control API, for child processes and
 * demos that cannot reach the in-process object. Each bot's operations match
 * {@link BotControl}'s, returning promises.
 */
export class EmulatorControlClient {
  readonly #controlUrl: string;
  readonly #pollIntervalMs: number;

  /** `apiRoot` is the emulator's root URL, as `createBotApiEmulator` or the CLI prints it. */
  constructor(apiRoot: string, options: EmulatorControlClientOptions = {}) {
    this.#controlUrl = `${apiRoot.replace(/\/+$/, "")}${CONTROL_PATH}`;
    this.#pollIntervalMs = options.pollIntervalMs ?? 25;
  }

  /** The emulator's apiRoot, token mode and bot ids. */
  info(): Promise<EmulatorInfo> {
    return controlRequest<EmulatorInfo>(this.#controlUrl, "GET", "");
  }

  /** Registers a bot (see `BotApiEmulator.registerBot`). */
  async registerBot(profile: BotProfile | string): Promise<RemoteBotControl> {
    const resolved = typeof profile === "string" ? { token: profile } : profile;
    await controlRequest(this.#controlUrl, "POST", "/bots", resolved);
    return this.bot(resolved.token);
  }

  /** Makes a token answer 401 until registered again. */
  async revokeToken(token: string): Promise<void> {
    await controlRequest(this.#controlUrl, "POST", `/bots/${encodeURIComponent(token)}/revoke`);
  }

  /** The operations of one bot; nothing is sent until a method is called. */
  bot(token: string): RemoteBotControl {
    return new RemoteBotControl(`${this.#controlUrl}/bots/${encodeURIComponent(token)}`, this.#pollIntervalMs);
  }
}

/** {@link BotControl}'s operations over HTTP. `waitFor` runs the predicate here, on snapshots read every `pollIntervalMs`. */
export class RemoteBotControl implements RemoteOperations<BotControlOperations> {
  readonly #botUrl: string;
  readonly #pollIntervalMs: number;

  /** @internal Use `EmulatorControlClient.bot(token)`. */
  constructor(botUrl: string, pollIntervalMs: number) {
    this.#botUrl = botUrl;
    this.#pollIntervalMs = pollIntervalMs;
  }

  pushUpdate(update: UpdateInput): Promise<Update | null> {
    return this.#request("POST", "/updates", update);
  }

  pushMessage(message: MessageInput | string): Promise<Update | null> {
    return this.#request("POST", "/messages", typeof message === "string" ? { text: message } : message);
  }

  pushCallbackQuery(query: CallbackQueryInput | string): Promise<Update | null> {
    return this.#request("POST", "/callback-queries", typeof query === "string" ? { data: query } : query);
  }

  startUpdateStream(spec: UpdateStreamSpec): Promise<number> {
    return this.#request("POST", "/streams", spec);
  }

  stopUpdateStream(id: number): Promise<UpdateStreamRecord> {
    return this.#request("DELETE", `/streams/${id}`);
  }

  setWebhook(params: SetWebhookParams): Promise<ApiEnvelope> {
    return this.#request("POST", "/webhook", params);
  }

  deleteWebhook(params: DeleteWebhookParams = {}): Promise<ApiEnvelope> {
    return this.#request("DELETE", "/webhook", params);
  }

  async injectFault(injection: FaultInjection): Promise<void> {
    await this.#request("POST", "/faults", injection);
  }

  async clearFaults(): Promise<void> {
    await this.#request("DELETE", "/faults");
  }

  async reportWebhookError(message: string): Promise<void> {
    await this.#request("POST", "/webhook-errors", { message });
  }

  async reportSynchronizationError(): Promise<void> {
    await this.#request("POST", "/synchronization-errors");
  }

  snapshot(): Promise<BotSnapshot> {
    return this.#request("GET", "/snapshot");
  }

  async clearRecords(): Promise<void> {
    await this.#request("DELETE", "/records");
  }

  /**
   * Waits on the server, so a getUpdates that comes and goes between two reads
   * is not missed. Without `after`, reads the current count first.
   */
  async nextGetUpdates(options: NextGetUpdatesOptions = {}): Promise<GetUpdatesRecord> {
    const { signal, ...wait } = options;
    const after = wait.after ?? (await this.snapshot()).getUpdates.length;
    return this.#request("POST", "/next-get-updates", { ...wait, after }, signal);
  }

  async waitFor(predicate: (snapshot: BotSnapshot) => boolean, options: WaitOptions = {}): Promise<BotSnapshot> {
    let latest = await this.snapshot();
    let reading = false;
    return waitUntil({
      read: () => latest,
      predicate,
      subscribe: (listener) => {
        const timer = setInterval(() => {
          if (reading) return;
          reading = true;
          this.snapshot().then(
            (snapshot) => {
              latest = snapshot;
              reading = false;
              listener();
            },
            () => {
              reading = false;
            },
          );
        }, this.#pollIntervalMs);
        return () => clearInterval(timer);
      },
      describe: describeSnapshot,
      timeoutMs: options.timeoutMs ?? 10_000,
      signals: [options.signal],
    });
  }

  #request<T>(verb: string, path: string, body?: object, signal?: AbortSignal): Promise<T> {
    return controlRequest<T>(this.#botUrl, verb, path, body, signal);
  }
}

async function controlRequest<T = unknown>(
  base: string,
  verb: string,
  path: string,
  body?: object,
  signal?: AbortSignal,
): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method: verb,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    ...(signal === undefined ? {} : { signal }),
  });
  const envelope = (await response.json()) as ControlEnvelope<T>;
  if (!envelope.ok) throw new EmulatorControlError(response.status, envelope.description);
  return envelope.result;
}
