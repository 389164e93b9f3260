/**
 * Every finding the doctor can report, each in one line with what to do, and
 * how the findings decide the exit code.
 */
import type { HolderRecord } from "../locks/types.js";
import type { DoctorStatus, Finding, FindingCode, LockReport } from "./report.js";

/** Codes that mean "this could not be checked": exit 2 whatever else was found. */
const COULD_NOT_CHECK: ReadonlySet<FindingCode> = new Set<FindingCode>([
  "INVALID_TOKEN",
  "TOKEN_FILE_UNREADABLE",
  "API_UNREACHABLE",
  "API_ERROR",
  "LOCK_BACKEND_UNAVAILABLE",
]);

/** 2 when something could not be checked, else 1 when a problem was found, else 0. */
export function exitCodeOf(findings: readonly Finding[]): { readonly exitCode: 0 | 1 | 2; readonly status: DoctorStatus } {
  if (findings.some((finding) => COULD_NOT_CHECK.has(finding.code))) return { exitCode: 2, status: "could-not-check" };
  if (findings.some((finding) => finding.level === "problem")) return { exitCode: 1, status: "problems" };
  return { exitCode: 0, status: "healthy" };
}

// --- the token -------------------------------------------------------------

export function missingToken(): Finding {
  return {
    level: "problem",
    code: "INVALID_TOKEN",
    message: "no bot token: BOT_TOKEN is not set and no --token-file was given",
    action: "set BOT_TOKEN in the environment, or pass --token-file PATH (a file holding only the token)",
  };
}

/** `reason` is an InvalidTokenError message, which never contains the token. */
export function malformedToken(source: string, reason: string): Finding {
  return {
    level: "problem",
    code: "INVALID_TOKEN",
    message: `the token from ${source} is not usable: ${reason}`,
    action: `fix ${source}: it must hold exactly the token @BotFather gave you, <digits>:<secret>`,
  };
}

export function tokenFileUnreadable(file: string, reason: string): Finding {
  return {
    level: "problem",
    code: "TOKEN_FILE_UNREADABLE",
    message: `cannot read --token-file ${file} (${reason})`,
    action: "check the path, and that this user may read the file",
  };
}

export function tokenFileReadableByOthers(file: string, mode: number): Finding {
  return {
    level: "warn",
    code: "TOKEN_FILE_PERMISSIONS",
    message: `--token-file ${file} can be read by other users (mode ${(mode & 0o777).toString(8).padStart(3, "0")})`,
    action: `restrict it to its owner: chmod 600 ${file}`,
  };
}

// --- the Bot API -----------------------------------------------------------

export function unauthorized(botId: string): Finding {
  return {
    level: "problem",
    code: "UNAUTHORIZED",
    message: `the Bot API answered 401 Unauthorized for bot ${botId}: the token was revoked or is wrong, and every instance using it fails the same way`,
    action: "get the current token from @BotFather (/mybots, API Token) and update it wherever the bot runs",
  };
}

export function apiUnreachable(apiRoot: string, reason: string): Finding {
  return {
    level: "problem",
    code: "API_UNREACHABLE",
    message: `could not reach the Bot API at ${apiRoot}: ${reason}`,
    action: "check the network, DNS, a proxy, and --api-root; then run doctor again",
  };
}

export function apiError(method: string, errorCode: number, description: string, retryAfter: number | undefined): Finding {
  let action: string;
  if (errorCode === 429) action = `Telegram's flood control: wait ${retryAfter ?? 1} s, then run doctor again`;
  else if (errorCode >= 500) action = "a server error on the Bot API's side: run doctor again in a moment";
  else if (errorCode === 404) action = "the API root does not serve the Bot API: check --api-root (it is the URL before /bot<token>/)";
  else action = "run doctor again; if it persists, check --api-root";
  return { level: "problem", code: "API_ERROR", message: `the Bot API answered ${method} with ${errorCode} ${description}`, action };
}

export function botIdentity(id: number, username: string | null, firstName: string): Finding {
  const who = username === null ? `bot ${id}` : `@${username}`;
  return { level: "ok", code: "BOT_IDENTITY", message: `the token belongs to ${who} (id ${id}, "${firstName}")`, action: null };
}

export function noWebhook(): Finding {
  return { level: "ok", code: "WEBHOOK_NONE", message: "no webhook is set: getUpdates (long polling) can work", action: null };
}

export function webhookSet(host: string): Finding {
  return {
    level: "problem",
    code: "WEBHOOK_SET",
    message: `a webhook is set (host ${host}): getUpdates will fail with 409 until it is deleted`,
    action: "run with --delete-webhook (pending updates are kept); if it comes back, find what calls setWebhook with this token",
  };
}

export function webhookDeleted(host: string, pendingUpdateCount: number): Finding {
  return {
    level: "ok",
    code: "WEBHOOK_DELETED",
    message: `the webhook (host ${host}) was deleted with drop_pending_updates=false: ${plural(pendingUpdateCount, "pending update")} kept`,
    action: null,
  };
}

export function webhookNotCleared(host: string): Finding {
  return {
    level: "problem",
    code: "WEBHOOK_NOT_CLEARED",
    message: `the webhook was deleted, but one is set again (host ${host}): something keeps calling setWebhook with this token`,
    action: "find and stop it (a webhook-mode copy of the bot, another deployment, a setup script), then run with --delete-webhook again",
  };
}

export function webhookLastError(date: string, message: string, webhookStillSet: boolean): Finding {
  return {
    level: "warn",
    code: "WEBHOOK_LAST_ERROR",
    message: `Telegram's last webhook delivery failed at ${date}: ${message}`,
    action: webhookStillSet
      ? "the webhook endpoint is failing; for long polling, delete the webhook (--delete-webhook)"
      : "it came from the webhook that is now gone; nothing to do for long polling",
  };
}

export function pendingUpdates(count: number, webhookSet: boolean): Finding {
  if (count === 0) return { level: "ok", code: "PENDING_UPDATES", message: "no updates are waiting on Telegram", action: null };
  return {
    level: "warn",
    code: "PENDING_UPDATES",
    message: `${plural(count, "update")} waiting on Telegram: nothing has fetched ${count === 1 ? "it" : "them"} yet`,
    action: webhookSet
      ? "pending updates wait for webhook delivery; delete the webhook (--delete-webhook) so a polling instance fetches them"
      : "normal for a moment; if the count keeps growing, no instance polls: start one (updates are kept 24 h; do not drop them)",
  };
}

// --- the lock --------------------------------------------------------------

/** `evidence` says how the holder was judged alive (or that it cannot be, from here). */
export function lockHeld(lock: LockReport, holder: HolderRecord, evidence: string): Finding {
  return {
    level: "ok",
    code: "LOCK_HELD",
    message: `lock "${lock.name}" (${lock.location}) is held by ${describeHolder(holder)}; ${evidence}`,
    action: null,
  };
}

export function lockHolderDead(lock: LockReport, holder: HolderRecord, next: string): Finding {
  return {
    level: "warn",
    code: "LOCK_HOLDER_DEAD",
    message: `lock "${lock.name}" (${lock.location}) was last held by ${describeHolder(holder)}, but that process is gone (crashed or killed): no supervised instance polls`,
    action: next,
  };
}

/** `alive` is `null` when the holder runs on another host. */
export function lockLeaseExpired(lock: LockReport, holder: HolderRecord, alive: boolean | null): Finding {
  const why =
    alive === null
      ? "its lease ran out without renewal; it runs on another host, so whether its process is alive cannot be checked from here"
      : "its process is alive but stopped renewing the lease (hung, paused, or a blocked event loop)";
  return {
    level: "warn",
    code: "LOCK_LEASE_EXPIRED",
    message: `lock "${lock.name}" (${lock.location}) was held by ${describeHolder(holder)}; ${why}`,
    action: "look at that process (it should have stopped polling on its own); the next instance takes the lock over",
  };
}

export function lockFree(lock: LockReport): Finding {
  return {
    level: "warn",
    code: "LOCK_FREE",
    message: `lock "${lock.name}" (${lock.location}) is free: no supervised instance polls right now`,
    action:
      "start an instance (or check --lock-name and the backend match the bot's); if the bot still answers messages, something outside the lock polls it (a laptop, an unsupervised copy): find and stop it",
  };
}

export function lockDirMissing(lock: LockReport, dir: string, defaultDir: string): Finding {
  return {
    level: "warn",
    code: "LOCK_DIR_MISSING",
    message: `the lock directory ${dir} does not exist: no instance on this host has used it, so lock "${lock.name}" is not held here`,
    action: `pass the directory the bot gives fileLock({ dir }) (default ${defaultDir}); a file lock covers this machine only`,
  };
}

export function lockBackendUnavailable(lock: LockReport, reason: string): Finding {
  return {
    level: "problem",
    code: "LOCK_BACKEND_UNAVAILABLE",
    message: `could not inspect lock "${lock.name}" (${lock.location}): ${reason}`,
    action: "check the URL or directory and that the store is up and reachable from here; then run doctor again",
  };
}

function describeHolder(holder: HolderRecord): string {
  return `${holder.hostname} pid ${holder.pid} since ${holder.since} (instance ${holder.instanceId})`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
