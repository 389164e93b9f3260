/**
 * The doctor's report: what `polling-supervisor doctor --json` prints. The
 * shape is stable: fields are only ever added, and every field is present
 * (`null` where it does not apply or could not be checked).
 */
import type { HolderRecord } from "../locks/types.js";

/** `ok`: nothing to do. `warn`: worth knowing, not broken. `problem`: needs fixing. */
export type FindingLevel = "ok" | "warn" | "problem";

/** Stable finding codes. Adding one is a minor change; renaming one is breaking. */
export type FindingCode =
  // The token and the arguments
  | "INVALID_TOKEN"
  | "TOKEN_FILE_UNREADABLE"
  | "TOKEN_FILE_PERMISSIONS"
  // The Bot API
  | "UNAUTHORIZED"
  | "API_UNREACHABLE"
  | "API_ERROR"
  | "BOT_IDENTITY"
  | "WEBHOOK_NONE"
  | "WEBHOOK_SET"
  | "WEBHOOK_DELETED"
  | "WEBHOOK_NOT_CLEARED"
  | "WEBHOOK_LAST_ERROR"
  | "PENDING_UPDATES"
  // The lock
  | "LOCK_HELD"
  | "LOCK_FREE"
  | "LOCK_HOLDER_DEAD"
  | "LOCK_LEASE_EXPIRED"
  | "LOCK_DIR_MISSING"
  | "LOCK_BACKEND_UNAVAILABLE";

/** One thing the doctor found, explained in one line with what to do. */
export interface Finding {
  readonly level: FindingLevel;
  readonly code: FindingCode;
  /** What was found. Never contains the token or a password. */
  readonly message: string;
  /** What to do about it; `null` when nothing needs doing. */
  readonly action: string | null;
}

/** Who the token belongs to (getMe). */
export interface BotReport {
  readonly id: number;
  readonly username: string | null;
  readonly firstName: string;
}

/** What getWebhookInfo said, and what `--delete-webhook` did. */
export interface WebhookReport {
  /** Whether a webhook is set now (after `--delete-webhook`, whether it is still set). */
  readonly set: boolean;
  /** The host (and port) of the webhook URL that was found; never its path or query. `null` when none was set. */
  readonly host: string | null;
  /** Whether this run deleted it (`--delete-webhook`, always with `drop_pending_updates: false`). */
  readonly deleted: boolean;
  /** `last_error_date` as ISO 8601, or `null`. */
  readonly lastErrorDate: string | null;
  /** `last_error_message`, tokens redacted, or `null`. */
  readonly lastErrorMessage: string | null;
}

/** The holder's PostgreSQL session: the connection that holds the advisory lock. */
export interface PostgresSessionReport {
  /** The server process of the session (`pg_backend_pid()` on the holder's side). */
  readonly backendPid: number;
  /** The holder's address as the server sees it; `null` for a Unix socket or without the privilege to see it. */
  readonly clientAddress: string | null;
  readonly applicationName: string | null;
  /** When the connection was opened, ISO 8601. */
  readonly connectedSince: string | null;
  /** `idle`, `active`, ...; `null` without the privilege to see it. */
  readonly state: string | null;
}

/** What the lock store says about the bot's lock. */
export interface LockReport {
  readonly backend: "file" | "redis" | "postgres";
  readonly name: string;
  /** Where the lock lives (`file /tmp/x/bot-1.lock`, `redis host:port key`, `postgres host:port/db advisory lock ...`); never credentials. */
  readonly location: string;
  /**
   * `held`: a holder has it. `free`: nobody. `stale`: a file lock's owner
   * record is left, but its process is gone or its lease ran out (the next
   * instance takes it over). `unchecked`: the store could not be read.
   */
  readonly state: "held" | "free" | "stale" | "unchecked";
  readonly holder: HolderRecord | null;
  /**
   * Whether the holder's process is alive, by `process.kill(pid, 0)` when it
   * runs on this host; `null` when it runs on another host (cannot be checked
   * from here) or there is no holder.
   */
  readonly holderAlive: boolean | null;
  /** Redis: the lock key's PTTL in ms (how long it lives without a renewal). `null` for other backends. */
  readonly pttlMs: number | null;
  /** PostgreSQL: the session holding the advisory lock. `null` for other backends or when free. */
  readonly session: PostgresSessionReport | null;
  /** PostgreSQL: how many sessions wait for the lock (instances in standby). `null` for other backends. */
  readonly waiting: number | null;
}

/** `healthy` (exit 0), `problems` (exit 1), `could-not-check` (exit 2). */
export type DoctorStatus = "healthy" | "problems" | "could-not-check";

/** The whole report; `--json` prints exactly this. */
export interface DoctorReport {
  /** The shape's version; bumped only on a breaking change. */
  readonly version: 1;
  readonly status: DoctorStatus;
  readonly exitCode: 0 | 1 | 2;
  readonly bot: BotReport | null;
  readonly webhook: WebhookReport | null;
  readonly pendingUpdateCount: number | null;
  /** `null` when no lock was asked for (`--lock-dir`, `--redis`, `--postgres`). */
  readonly lock: LockReport | null;
  readonly findings: readonly Finding[];
}
