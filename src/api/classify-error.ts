import type { ConflictKind } from "../errors.js";

/** What to make of an error from a Bot API call. One place decides retry or give up. */
export type ApiErrorClass =
  | { readonly kind: "conflict"; readonly conflict: ConflictKind; readonly description: string }
  | { readonly kind: "unauthorized"; readonly description: string }
  | { readonly kind: "rate-limited"; readonly retryAfterMs: number; readonly description: string }
  | { readonly kind: "server"; readonly status: number; readonly description: string }
  | { readonly kind: "network"; readonly description: string }
  | { readonly kind: "aborted" }
  | { readonly kind: "rejected"; readonly status: number; readonly description: string }
  | { readonly kind: "unknown"; readonly description: string };

/** Whether an error class is worth retrying (429, 5xx, network). */
export function isRetryable(c: ApiErrorClass): boolean {
  return c.kind === "rate-limited" || c.kind === "server" || c.kind === "network";
}

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** Maps the 409 description to what competes with us. */
export function conflictKindOf(description: string): ConflictKind {
  if (/webhook is active/i.test(description)) return "webhook";
  if (/setWebhook/i.test(description)) return "set-webhook";
  return "poller";
}

/**
 * Classifies errors thrown by grammY (`GrammyError`, `HttpError`), Telegraf
 * (`TelegramError`, node-fetch `FetchError`), this library's `BotApiError`
 * and plain fetch/socket errors.
 */
export function classifyApiError(error: unknown): ApiErrorClass {
  if (typeof error !== "object" || error === null) {
    return { kind: "unknown", description: String(error) };
  }
  const e = error as Record<string, unknown>;
  const status = numberField(e, "error_code") ?? numberField(e, "errorCode") ?? telegrafCode(e);
  const description = stringField(e, "description") ?? stringField(e, "message") ?? "";
  if (status !== undefined) {
    if (status === 409) return { kind: "conflict", conflict: conflictKindOf(description), description };
    if (status === 401) return { kind: "unauthorized", description };
    if (status === 429) {
      const retryAfter = retryAfterOf(e);
      return { kind: "rate-limited", retryAfterMs: (retryAfter ?? 1) * 1000, description };
    }
    if (status >= 500) return { kind: "server", status, description };
    return { kind: "rejected", status, description };
  }
  if (isAbort(e)) return { kind: "aborted" };
  if (isNetwork(e)) return { kind: "network", description };
  return { kind: "unknown", description };
}

function numberField(e: Record<string, unknown>, key: string): number | undefined {
  const v = e[key];
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function stringField(e: Record<string, unknown>, key: string): string | undefined {
  const v = e[key];
  return typeof v === "string" ? v : undefined;
}

/** Telegraf's TelegramError keeps the HTTP-like code in `code` and the body in `response`. */
function telegrafCode(e: Record<string, unknown>): number | undefined {
  const response = e["response"];
  if (typeof response === "object" && response !== null) {
    const code = (response as Record<string, unknown>)["error_code"];
    if (typeof code === "number") return code;
  }
  return undefined;
}

function retryAfterOf(e: Record<string, unknown>): number | undefined {
  for (const holder of [e["parameters"], (e["response"] as Record<string, unknown> | undefined)?.["parameters"]]) {
    if (typeof holder === "object" && holder !== null) {
      const v = (holder as Record<string, unknown>)["retry_after"];
      if (typeof v === "number" && v >= 0) return v;
    }
  }
  return undefined;
}

function isAbort(e: Record<string, unknown>): boolean {
  return e["name"] === "AbortError" || e["type"] === "aborted" || e["code"] === "ABORT_ERR";
}

function isNetwork(e: Record<string, unknown>, depth = 0): boolean {
  if (depth > 4) return false;
  const code = e["code"] ?? e["errno"];
  if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
  if (e["name"] === "HttpError" || e["name"] === "FetchError" || e["type"] === "system") return true;
  if (e["name"] === "TypeError" && e["message"] === "fetch failed") return true;
  for (const inner of [e["cause"], e["error"]]) {
    if (typeof inner === "object" && inner !== null && isNetwork(inner as Record<string, unknown>, depth + 1)) return true;
  }
  return false;
}
