/**
 * Every failure the library reports is a {@link PollingSupervisorError} with a
 * stable string `code` that callers can switch on, and a message that says
 * what to do next. Messages never contain the bot token.
 */

/** Stable error codes. Adding a code is a minor change; renaming one is breaking. */
export type ErrorCode =
  | "INVALID_TOKEN"
  | "INVALID_OPTION"
  | "UNAUTHORIZED"
  | "LOCK_TIMEOUT"
  | "LOCK_LOST"
  | "CONFLICT"
  | "WEBHOOK_NOT_CLEARED"
  | "PREFLIGHT_FAILED"
  | "BACKEND_UNAVAILABLE"
  | "MISSING_DEPENDENCY"
  | "STOPPED"
  | "POLLING_FAILED"
  | "LEASE_NOT_VALID"
  | "BOT_API_ERROR";

/** Base class of every error this library throws or emits. */
export abstract class PollingSupervisorError extends Error {
  /** Stable machine-readable code. */
  abstract readonly code: ErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/** The token is missing or is not shaped like `123456:ABC-...`. */
export class InvalidTokenError extends PollingSupervisorError {
  readonly code = "INVALID_TOKEN" as const;
}

/** An option is out of range or of the wrong type. */
export class InvalidOptionError extends PollingSupervisorError {
  readonly code = "INVALID_OPTION" as const;
  constructor(
    /** The option's name, e.g. `ttlMs`. */
    readonly option: string,
    message: string,
  ) {
    super(message);
  }
}

/** The Bot API answered 401: the token was revoked or is wrong. */
export class UnauthorizedError extends PollingSupervisorError {
  readonly code = "UNAUTHORIZED" as const;
  constructor(options?: { cause?: unknown }) {
    super(
      "The Bot API answered 401 Unauthorized: the token is wrong or was revoked. Get the current token from @BotFather and restart.",
      options,
    );
  }
}

/** Standby lasted longer than `standbyTimeoutMs`. */
export class LockTimeoutError extends PollingSupervisorError {
  readonly code = "LOCK_TIMEOUT" as const;
}

/** The lease ended while this instance held it; polling was stopped. */
export class LockLostError extends PollingSupervisorError {
  readonly code = "LOCK_LOST" as const;
}

/** What a 409 answer from `getUpdates` says is competing with this instance. */
export type ConflictKind =
  /** Another process sent a long poll for the same bot: "terminated by other getUpdates request". */
  | "poller"
  /** A webhook is set: "can't use getUpdates method while webhook is active". */
  | "webhook"
  /** Someone called setWebhook while we polled: "terminated by setWebhook request". */
  | "set-webhook";

/** Something outside the lock polled or set a webhook while this instance held the lease. */
export class ConflictError extends PollingSupervisorError {
  readonly code = "CONFLICT" as const;
  constructor(
    readonly kind: ConflictKind,
    /** The Bot API's `description`. */
    readonly description: string,
    options?: { cause?: unknown },
  ) {
    super(conflictAdvice(kind, description), options);
  }
}

function conflictAdvice(kind: ConflictKind, description: string): string {
  switch (kind) {
    case "poller":
      return `409 ${description}. Another process polls this bot outside the lock: stop it, or give it the same lock backend (a file lock only covers one machine; use Redis or PostgreSQL across machines).`;
    case "webhook":
      return `409 ${description}. A webhook is set for this bot: delete it (deleteWebhook) or stop whatever sets it.`;
    case "set-webhook":
      return `409 ${description}. Someone set a webhook while this instance polled: find the process that calls setWebhook with this token.`;
  }
}

/** The webhook was still set after deleteWebhook during preflight. */
export class WebhookNotClearedError extends PollingSupervisorError {
  readonly code = "WEBHOOK_NOT_CLEARED" as const;
}

/** getWebhookInfo/deleteWebhook kept failing during preflight. */
export class PreflightFailedError extends PollingSupervisorError {
  readonly code = "PREFLIGHT_FAILED" as const;
}

/** The lock store (Redis, PostgreSQL, the lock directory) could not be used. */
export class BackendUnavailableError extends PollingSupervisorError {
  readonly code = "BACKEND_UNAVAILABLE" as const;
}

/** An optional peer dependency is not installed. */
export class MissingDependencyError extends PollingSupervisorError {
  readonly code = "MISSING_DEPENDENCY" as const;
  constructor(
    /** The npm package to install. */
    readonly packageName: string,
    feature: string,
    options?: { cause?: unknown },
  ) {
    super(`${feature} needs the "${packageName}" package: run \`npm install ${packageName}\`.`, options);
  }
}

/** `stop()` was called before this instance started polling; `start()` rejects with it. */
export class StoppedError extends PollingSupervisorError {
  readonly code = "STOPPED" as const;
  constructor() {
    super("stop() was called before this instance started polling; call start() on a new supervisor to try again.");
  }
}

/** The framework's polling loop ended with an error that is none of the known kinds (see `cause`). */
export class PollingFailedError extends PollingSupervisorError {
  readonly code = "POLLING_FAILED" as const;
}

/** A getUpdates was refused locally because this instance does not hold a valid lease. */
export class LeaseNotValidError extends PollingSupervisorError {
  readonly code = "LEASE_NOT_VALID" as const;
  constructor(reason: string) {
    super(`getUpdates was not sent: ${reason}. Only the supervisor may start polling; do not call bot.start() yourself.`);
  }
}

/** A Bot API error that is none of the above (kept for context, e.g. in `error` events). */
export class BotApiError extends PollingSupervisorError {
  readonly code = "BOT_API_ERROR" as const;
  constructor(
    readonly method: string,
    readonly errorCode: number,
    readonly description: string,
    readonly parameters: { retry_after?: number; migrate_to_chat_id?: number } = {},
  ) {
    super(`Bot API ${method} failed: ${errorCode} ${description}`);
  }
}
