import { BotApiError } from "../errors.js";
import { parseBotToken, redactError, redactTokens } from "../token.js";

/** Options for {@link createBotApiClient}. */
export interface BotApiClientOptions {
  /** The bot token. Kept in a closure; never logged. */
  readonly token: string;
  /**
   * Base URL of the Bot API server, without `/bot<token>`.
   * @default "https://api.telegram.org"
   */
  readonly apiRoot?: string;
}

/** A minimal Bot API client: one method, JSON in, `result` out. */
export interface BotApiClient {
  readonly botId: string;
  /**
   * Calls `method` with a JSON body. Resolves with `result`; rejects with
   * {@link BotApiError} for `ok: false` answers (429 keeps `parameters.retry_after`),
   * or with the fetch error (token redacted) when the request failed.
   */
  call<T = unknown>(method: string, payload?: Record<string, unknown>, signal?: AbortSignal): Promise<T>;
}

/** Creates a fetch-based Bot API client; validates the token's shape first. */
export function createBotApiClient(options: BotApiClientOptions): BotApiClient {
  const { botId } = parseBotToken(options.token);
  const base = `${(options.apiRoot ?? "https://api.telegram.org").replace(/\/+$/, "")}/bot${options.token}/`;
  return {
    botId,
    async call<T>(method: string, payload: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
      let response: Response;
      try {
        response = await fetch(base + method, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(payload),
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        throw scrub(error);
      }
      let body: { ok?: boolean; result?: unknown; error_code?: number; description?: string; parameters?: object };
      try {
        body = (await response.json()) as typeof body;
      } catch (error) {
        if (signal?.aborted) throw scrub(error);
        throw new BotApiError(method, response.status, `non-JSON answer (HTTP ${response.status})`);
      }
      if (body.ok === true) return body.result as T;
      throw new BotApiError(
        method,
        body.error_code ?? response.status,
        body.description ?? `HTTP ${response.status}`,
        (body.parameters ?? {}) as BotApiError["parameters"],
      );
    },
  };
}

/**
 * fetch errors may carry the request URL, and so the token: strip it. Errors
 * whose message cannot be rewritten (a DOMException's is a getter) are kept
 * as they are unless the message itself holds a token.
 */
function scrub(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  redactError(error);
  if (redactTokens(error.message) === error.message) return error;
  return Object.assign(new Error(redactTokens(error.message)), { name: error.name });
}
