import type { ConflictKind } from "../errors.js";

/** The Bot API's `ResponseParameters`. */
export interface ResponseParameters {
  readonly retry_after?: number;
  readonly migrate_to_chat_id?: number;
}

/** A Bot API answer body, in the server's exact envelope. */
export type ApiEnvelope =
  | { readonly ok: true; readonly result: unknown; readonly description?: string }
  | {
      readonly ok: false;
      readonly error_code: number;
      readonly description: string;
      readonly parameters?: ResponseParameters;
    };

/** An answer to send: HTTP status and envelope. */
export interface ApiReply {
  readonly status: number;
  readonly body: ApiEnvelope;
}

/** The exact `description` of each kind of 409, as `Client.cpp` writes it. */
export const CONFLICT_DESCRIPTIONS: Readonly<Record<ConflictKind, string>> = Object.freeze({
  poller: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
  webhook:
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
  "set-webhook": "Conflict: terminated by setWebhook request",
});

/** `{ ok: true, result }`, with the optional `description` some methods add ("Webhook was set"). */
export function okReply(result: unknown, description?: string): ApiReply {
  return { status: 200, body: description === undefined ? { ok: true, result } : { ok: true, result, description } };
}

/** `{ ok: false, error_code, description }` with the same HTTP status. */
export function errorReply(errorCode: number, description: string, parameters?: ResponseParameters): ApiReply {
  return {
    status: errorCode,
    body:
      parameters === undefined
        ? { ok: false, error_code: errorCode, description }
        : { ok: false, error_code: errorCode, description, parameters },
  };
}

/** 429 `Too Many Requests: retry after N` with `parameters.retry_after` (`Query::set_retry_after_error`). */
export function tooManyRequestsReply(retryAfter: number): ApiReply {
  return errorReply(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
}

/** The 409 answer for one kind of conflict. */
export function conflictReply(kind: ConflictKind): ApiReply {
  return errorReply(409, CONFLICT_DESCRIPTIONS[kind]);
}
