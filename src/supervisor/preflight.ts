import pRetry, { AbortError } from "p-retry";
import { classifyApiError, isRetryable } from "../api/classify-error.js";
import { PreflightFailedError, UnauthorizedError, WebhookNotClearedError } from "../errors.js";
import type { BotAdapter } from "../adapters/types.js";
import { redactTokens } from "../token.js";
import { abortableSleep } from "./abortable-sleep.js";

/** What preflight found and did. */
export interface PreflightResult {
  /** The webhook URL that was set before (token-shaped parts redacted), or `null` when none was. */
  readonly clearedUrl: string | null;
  readonly pendingUpdateCount: number;
  readonly droppedPendingUpdates: boolean;
  /** Bot API calls made, retries included. */
  readonly calls: number;
}

/** Settings for {@link clearWebhook}. */
export interface PreflightSettings {
  readonly dropPendingUpdates: boolean;
  readonly attempts: number;
  readonly signal: AbortSignal;
  /** Called before each retry with the error that caused it. */
  readonly onRetry: (method: string, error: unknown) => void;
}

interface WebhookInfo {
  readonly url: string;
  readonly pending_update_count: number;
}

/**
 * Makes sure no webhook is set before polling: getWebhookInfo; deleteWebhook
 * only when a URL is set (or when the caller asked to drop pending updates);
 * then getWebhookInfo again to verify. Never drops pending updates unless
 * asked. 429, 5xx and network errors are retried `attempts` times in all.
 */
export async function clearWebhook(adapter: BotAdapter, settings: PreflightSettings): Promise<PreflightResult> {
  let calls = 0;
  const call = <T>(method: string, payload?: Record<string, unknown>): Promise<T> =>
    pRetry(
      async () => {
        calls += 1;
        try {
          return (await adapter.callApi(method, payload, settings.signal)) as T;
        } catch (error) {
          throw giveUpUnlessRetryable(error, settings.signal);
        }
      },
      {
        retries: settings.attempts - 1,
        minTimeout: 200,
        maxTimeout: 5_000,
        signal: settings.signal,
        onFailedAttempt: async (failure) => {
          settings.onRetry(method, failure);
          const classified = classifyApiError(failure);
          if (classified.kind === "rate-limited" && failure.retriesLeft > 0) {
            await abortableSleep(classified.retryAfterMs, settings.signal);
          }
        },
      },
    ).catch((error: unknown) => {
      throw finalError(method, error, settings.signal);
    });

  const before = await call<WebhookInfo>("getWebhookInfo");
  if (before.url === "" && !settings.dropPendingUpdates) {
    return { clearedUrl: null, pendingUpdateCount: before.pending_update_count, droppedPendingUpdates: false, calls };
  }
  await call("deleteWebhook", { drop_pending_updates: settings.dropPendingUpdates });
  const after = await call<WebhookInfo>("getWebhookInfo");
  if (after.url !== "") {
    throw new WebhookNotClearedError(
      `A webhook is still set after deleteWebhook (${redactTokens(after.url)}): something keeps setting it (another deployment in webhook mode?). Stop it, then start again.`,
    );
  }
  return {
    clearedUrl: before.url === "" ? null : redactTokens(before.url),
    pendingUpdateCount: before.pending_update_count,
    droppedPendingUpdates: settings.dropPendingUpdates,
    calls,
  };
}

function giveUpUnlessRetryable(error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return new AbortError(signal.reason instanceof Error ? signal.reason : String(signal.reason));
  const classified = classifyApiError(error);
  if (classified.kind === "unauthorized") return new AbortError(new UnauthorizedError({ cause: error }));
  if (!isRetryable(classified)) return new AbortError(error instanceof Error ? error : String(error));
  return error;
}

function finalError(method: string, error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  const original = error instanceof AbortError ? (error.originalError as unknown) : error;
  if (original instanceof UnauthorizedError) return original;
  const description = classifyApiError(original);
  const detail = "description" in description ? description.description : description.kind;
  return new PreflightFailedError(
    `${method} failed during preflight (${redactTokens(detail)}): check that the Bot API is reachable from this host (apiRoot, proxy, firewall) and start again.`,
    { cause: original },
  );
}
