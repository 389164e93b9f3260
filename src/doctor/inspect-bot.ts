import { createBotApiClient, type BotApiClient } from "../api/bot-api-client.js";
import { BotApiError } from "../errors.js";
import { redactTokens } from "../token.js";
import {
  apiError,
  apiUnreachable,
  botIdentity,
  noWebhook,
  pendingUpdates,
  unauthorized,
  webhookDeleted,
  webhookLastError,
  webhookNotCleared,
  webhookSet,
} from "./findings.js";
import type { BotReport, Finding, WebhookReport } from "./report.js";

/** What {@link inspectBot} needs. */
export interface BotInspectionRequest {
  readonly token: string;
  readonly botId: string;
  /** Base URL of the Bot API server. @default "https://api.telegram.org" */
  readonly apiRoot: string | undefined;
  /** Delete a webhook that is set (never dropping pending updates), then check it is gone. */
  readonly deleteWebhook: boolean;
  /** How long each Bot API call may take. */
  readonly timeoutMs: number;
}

export interface BotInspection {
  readonly bot: BotReport | null;
  readonly webhook: WebhookReport | null;
  readonly pendingUpdateCount: number | null;
  readonly findings: readonly Finding[];
}

interface User {
  readonly id: number;
  readonly first_name: string;
  readonly username?: string;
}

interface WebhookInfo {
  readonly url: string;
  readonly pending_update_count: number;
  readonly last_error_date?: number;
  readonly last_error_message?: string;
}

export const DEFAULT_API_ROOT = "https://api.telegram.org";

/**
 * getMe and getWebhookInfo, and with `deleteWebhook` a deleteWebhook
 * (`drop_pending_updates: false`) followed by getWebhookInfo to verify. Never
 * getUpdates: a probe with `timeout=0` cannot see another poller, and one
 * with a timeout would kick it.
 */
export async function inspectBot(request: BotInspectionRequest): Promise<BotInspection> {
  const apiRoot = request.apiRoot ?? DEFAULT_API_ROOT;
  const client = createBotApiClient({ token: request.token, apiRoot });
  const call = <T>(method: string, payload?: Record<string, unknown>): Promise<T | Failure> =>
    callOrFail<T>(client, method, payload, request, apiRoot);

  const me = await call<User>("getMe");
  if (me instanceof Failure) return failed(me);
  const bot: BotReport = { id: me.id, username: me.username ?? null, firstName: me.first_name };
  const findings: Finding[] = [botIdentity(bot.id, bot.username, bot.firstName)];

  const info = await call<WebhookInfo>("getWebhookInfo");
  if (info instanceof Failure) return { bot, webhook: null, pendingUpdateCount: null, findings: [...findings, info.finding] };

  const host = info.url === "" ? null : webhookHost(info.url);
  let current = info;
  let deleted = false;
  if (host !== null && request.deleteWebhook) {
    const deletion = await call<boolean>("deleteWebhook", { drop_pending_updates: false });
    if (deletion instanceof Failure) findings.push(deletion.finding);
    else {
      deleted = true;
      const after = await call<WebhookInfo>("getWebhookInfo");
      // Unverified, but deleteWebhook answered ok: go by that, with the failed check reported beside it.
      if (after instanceof Failure) {
        findings.push(after.finding);
        current = { ...info, url: "" };
      } else current = after;
    }
  }

  const stillSet = current.url !== "";
  if (host === null) findings.push(noWebhook());
  else if (!deleted) findings.push(webhookSet(host));
  else if (stillSet) findings.push(webhookNotCleared(webhookHost(current.url)));
  else findings.push(webhookDeleted(host, current.pending_update_count));

  const lastErrorDate = typeof info.last_error_date === "number" ? new Date(info.last_error_date * 1000).toISOString() : null;
  const lastErrorMessage = typeof info.last_error_message === "string" ? redactTokens(info.last_error_message) : null;
  if (lastErrorDate !== null) findings.push(webhookLastError(lastErrorDate, lastErrorMessage ?? "(no message)", stillSet));
  findings.push(pendingUpdates(current.pending_update_count, stillSet));

  return {
    bot,
    webhook: { set: stillSet, host, deleted, lastErrorDate, lastErrorMessage },
    pendingUpdateCount: current.pending_update_count,
    findings,
  };
}

/** A call that failed, as the finding that explains it. */
class Failure {
  constructor(readonly finding: Finding) {}
}

function failed(failure: Failure): BotInspection {
  return { bot: null, webhook: null, pendingUpdateCount: null, findings: [failure.finding] };
}

async function callOrFail<T>(
  client: BotApiClient,
  method: string,
  payload: Record<string, unknown> | undefined,
  request: BotInspectionRequest,
  apiRoot: string,
): Promise<T | Failure> {
  // Not AbortSignal.timeout(): its DOMException reason has a read-only message, which the client's token scrubbing cannot rewrite.
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new CallTimeoutError(request.timeoutMs)), request.timeoutMs);
  try {
    return await client.call<T>(method, payload, timeout.signal);
  } catch (error) {
    if (error instanceof BotApiError) {
      if (error.errorCode === 401) return new Failure(unauthorized(request.botId));
      return new Failure(apiError(method, error.errorCode, redactTokens(error.description), error.parameters.retry_after));
    }
    return new Failure(apiUnreachable(displayApiRoot(apiRoot), describeFetchError(error)));
  } finally {
    clearTimeout(timer);
  }
}

class CallTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** Why a request got no answer: the fetch error and its cause (`ECONNREFUSED`, `ENOTFOUND`), tokens redacted. */
function describeFetchError(error: unknown): string {
  if (error instanceof CallTimeoutError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  let detail = "";
  if (typeof cause === "object" && cause !== null) {
    const code = (cause as { code?: unknown }).code;
    const causeMessage = (cause as { message?: unknown }).message;
    detail = typeof code === "string" ? code : typeof causeMessage === "string" ? causeMessage : "";
  }
  return redactTokens(detail === "" ? message : `${message} (${detail})`);
}

/** The host (and port) of a webhook URL: its path may hold a secret (often the token itself). */
export function webhookHost(url: string): string {
  try {
    return new URL(url).host || "(no host)";
  } catch {
    return "(an unparsable URL)";
  }
}

/** The API root as shown: scheme, host and path, never credentials or a query. */
export function displayApiRoot(apiRoot: string): string {
  try {
    const url = new URL(apiRoot);
    return `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`;
  } catch {
    return "(an unparsable --api-root)";
  }
}
