import { afterEach } from "vitest";
import { createBotApiEmulator, type BotApiEmulator, type BotApiEmulatorOptions, type EmulatorTiming } from "../../src/testing/index.js";

/** A well-formed token; never a real one. */
export const TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345";
/** A second bot. */
export const OTHER_TOKEN = "654321:ZYXwvuTSRqpoNMLkjiHGFedCBA543210";

/** Timing with every rule off or instant, for tests about something else. */
export const NO_DELAYS: Partial<EmulatorTiming> = {
  conflictDelayMs: 0,
  sameOffsetWindowMs: 0,
  sameOffsetLimitWindowMs: 0,
  setWebhookIntervalMs: 0,
};

/** How a request is encoded: as grammY/Telegraf (json), node-telegram-bot-api (form), with files (multipart), or a GET query. */
export type Encoding = "json" | "query" | "form" | "multipart";

/** A raw Bot API answer. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  // The envelope is checked field by field in the tests.
  readonly body: { ok: boolean; result?: any; error_code?: number; description?: string; parameters?: { retry_after?: number } };
  /** performance.now() when the answer arrived. */
  readonly receivedAt: number;
}

/** A request in flight that the test may abandon (disconnect) before it is answered. */
export interface InFlight {
  readonly answer: Promise<RawAnswer>;
  /** Aborts the fetch: the client disconnects. */
  disconnect(): void;
}

/** Raw HTTP access to one bot, as a client library would send it. */
export class RawBotApi {
  readonly #base: string;
  readonly #track: (controller: AbortController) => void;

  constructor(apiRoot: string, token: string, track: (controller: AbortController) => void) {
    this.#base = `${apiRoot}/bot${token}`;
    this.#track = track;
  }

  /** Sends a call and waits for the answer. */
  call(method: string, params: Record<string, unknown> = {}, encoding: Encoding = "json"): Promise<RawAnswer> {
    return this.send(method, params, encoding).answer;
  }

  /** Sends a call without waiting. */
  send(method: string, params: Record<string, unknown> = {}, encoding: Encoding = "json"): InFlight {
    const controller = new AbortController();
    this.#track(controller);
    const answer = fetch(requestUrl(`${this.#base}/${method}`, params, encoding), {
      ...requestInit(params, encoding),
      signal: controller.signal,
    }).then(async (response) => ({
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as RawAnswer["body"],
      receivedAt: performance.now(),
    }));
    // A test that disconnects does not read the rejection.
    answer.catch(() => undefined);
    return { answer, disconnect: () => controller.abort() };
  }
}

function requestUrl(url: string, params: Record<string, unknown>, encoding: Encoding): string {
  return encoding === "query" ? `${url}?${new URLSearchParams(asStrings(params))}` : url;
}

function requestInit(params: Record<string, unknown>, encoding: Encoding): RequestInit {
  switch (encoding) {
    case "query":
      return { method: "GET" };
    case "json":
      return { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(params) };
    case "form":
      return { method: "POST", body: new URLSearchParams(asStrings(params)) };
    case "multipart": {
      const form = new FormData();
      for (const [name, value] of Object.entries(params)) {
        if (value instanceof Blob) form.set(name, value, `${name}.bin`);
        else form.set(name, typeof value === "string" ? value : JSON.stringify(value));
      }
      return { method: "POST", body: form };
    }
  }
}

function asStrings(params: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).map(([name, value]) => [name, typeof value === "string" ? value : JSON.stringify(value)]));
}

/**
 * Starts emulators for a test file and cleans up after each test: aborts every
 * fetch still pending, then closes every emulator.
 */
export function useEmulators(): {
  start(options?: BotApiEmulatorOptions): Promise<BotApiEmulator>;
  raw(emulator: BotApiEmulator, token?: string): RawBotApi;
  /** A signal aborted after the test. */
  signal(): AbortSignal;
} {
  const emulators: BotApiEmulator[] = [];
  const controllers: AbortController[] = [];
  afterEach(async () => {
    for (const controller of controllers.splice(0)) controller.abort();
    await Promise.all(emulators.splice(0).map((emulator) => emulator.close()));
  });
  const track = (controller: AbortController): void => {
    controllers.push(controller);
  };
  return {
    async start(options) {
      const emulator = await createBotApiEmulator(options);
      emulators.push(emulator);
      return emulator;
    },
    raw: (emulator, token = TOKEN) => new RawBotApi(emulator.apiRoot, token, track),
    signal() {
      const controller = new AbortController();
      track(controller);
      return controller.signal;
    },
  };
}

/** Resolves after `ms`; used only to let a window pass (a longer wait never changes the outcome). */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
