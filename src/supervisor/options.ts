import { InvalidOptionError } from "../errors.js";
import type { BotAdapter } from "../adapters/types.js";
import { redactTokens } from "../token.js";
import type { LockBackend } from "../locks/types.js";
import type { Logger } from "./logger.js";

/**
 * What to do after a conflict. The default stops and reports. A bounded
 * retry exists for deployments that want it and must be chosen explicitly.
 */
export type ConflictPolicy =
  | "stop"
  | {
      /** How many times to start polling again after a conflict, keeping the lock meanwhile. */
      readonly retries: number;
      /** How long to wait before each retry, in ms. */
      readonly delayMs: number;
    };

/** Options of {@link PollingSupervisor}. */
export interface SupervisorOptions {
  /** The bot framework: `grammyAdapter(bot)`, `telegrafAdapter(bot)` or `genericAdapter({...})`. */
  readonly adapter: BotAdapter;
  /**
   * The lock store.
   * @default fileLock() — one machine only; use redisLock or postgresLock across machines
   */
  readonly lock?: LockBackend;
  /**
   * The lock's name; instances that must exclude each other use the same name.
   * @default `bot-${botId}` (the token's digits before `:`)
   */
  readonly lockName?: string;
  /**
   * How long the store keeps the lock without a renewal, in ms.
   * @default 10_000
   */
  readonly ttlMs?: number;
  /**
   * How long after the request that granted or renewed the lease it still
   * counts as valid here, in ms. Strictly below `ttlMs`: the difference is
   * the safety margin that makes this instance stop before any other can be
   * granted the lock.
   * @default 0.8 × ttlMs
   */
  readonly renewDeadlineMs?: number;
  /**
   * How often the lease is renewed, in ms. Below `renewDeadlineMs`, so a failed
   * renewal is retried before the deadline.
   * @default ttlMs / 5
   */
  readonly renewIntervalMs?: number;
  /**
   * How long to wait in standby for the lock before `start()` rejects with
   * `LOCK_TIMEOUT`, in ms.
   * @default Infinity (wait for ever)
   */
  readonly standbyTimeoutMs?: number;
  /**
   * Pass `drop_pending_updates: true` to deleteWebhook during preflight.
   * Loses the messages sent while no instance polled.
   * @default false
   */
  readonly dropPendingUpdates?: boolean;
  /**
   * Attempts for each preflight call (getWebhookInfo, deleteWebhook) on 429, 5xx
   * and network errors.
   * @default 3
   */
  readonly preflightAttempts?: number;
  /**
   * How long `stop()` waits for the updates being handled and the offset
   * confirmation before releasing the lock anyway, in ms.
   * @default 30_000
   */
  readonly drainTimeoutMs?: number;
  /**
   * What to do after a conflict.
   * @default "stop"
   */
  readonly onConflict?: ConflictPolicy;
  /**
   * Where the one-line transitions go (`lock acquired (...)`, `polling started`).
   * `false` silences them.
   * @default console, prefixed with `[polling-supervisor <instanceId>]`
   */
  readonly logger?: Logger | false;
  /**
   * This instance's id in holder records and log lines.
   * @default a random 8-character id
   */
  readonly instanceId?: string;
  /**
   * Stop gracefully on these signals, then let the signal end the process.
   * `true` means `["SIGTERM", "SIGINT"]`.
   * @default false
   */
  readonly handleSignals?: boolean | readonly NodeJS.Signals[];
}

/** Options with defaults applied and checked. */
export interface ResolvedOptions {
  readonly lockName: string;
  readonly ttlMs: number;
  readonly renewDeadlineMs: number;
  readonly renewIntervalMs: number;
  readonly standbyTimeoutMs: number;
  readonly dropPendingUpdates: boolean;
  readonly preflightAttempts: number;
  readonly drainTimeoutMs: number;
  readonly onConflict: ConflictPolicy;
  readonly instanceId: string;
  readonly signals: readonly NodeJS.Signals[];
}

const LOCK_NAME = /^[A-Za-z0-9._-]{1,128}$/;
const INSTANCE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Applies defaults and validates; throws {@link InvalidOptionError} naming the bad value. */
export function resolveOptions(options: SupervisorOptions, botId: string, randomId: () => string): ResolvedOptions {
  const ttlMs = positive(options, "ttlMs", 10_000);
  const renewDeadlineMs = positive(options, "renewDeadlineMs", Math.floor(ttlMs * 0.8));
  if (renewDeadlineMs >= ttlMs) {
    throw new InvalidOptionError(
      "renewDeadlineMs",
      `Expected \`renewDeadlineMs\` (${renewDeadlineMs}) to be below \`ttlMs\` (${ttlMs}): the gap is what keeps two instances from polling at once.`,
    );
  }
  const renewIntervalMs = positive(options, "renewIntervalMs", Math.floor(ttlMs / 5));
  if (renewIntervalMs >= renewDeadlineMs) {
    throw new InvalidOptionError(
      "renewIntervalMs",
      `Expected \`renewIntervalMs\` (${renewIntervalMs}) to be below \`renewDeadlineMs\` (${renewDeadlineMs}), so a failed renewal is retried before the lease is given up.`,
    );
  }
  const lockName = options.lockName ?? `bot-${botId}`;
  if (typeof lockName !== "string" || !LOCK_NAME.test(lockName)) {
    throw new InvalidOptionError(
      "lockName",
      `Expected \`lockName\` to be 1-128 characters of letters, digits, ".", "_" or "-", got ${describe(lockName)}.`,
    );
  }
  const instanceId = options.instanceId ?? randomId();
  if (typeof instanceId !== "string" || !INSTANCE_ID.test(instanceId)) {
    throw new InvalidOptionError(
      "instanceId",
      `Expected \`instanceId\` to be 1-64 characters of letters, digits, ".", "_" or "-", got ${describe(instanceId)}.`,
    );
  }
  const preflightAttempts = options.preflightAttempts ?? 3;
  if (!Number.isInteger(preflightAttempts) || preflightAttempts < 1 || preflightAttempts > 100) {
    throw new InvalidOptionError(
      "preflightAttempts",
      `Expected \`preflightAttempts\` to be an integer from 1 to 100, got ${describe(preflightAttempts)}.`,
    );
  }
  return {
    lockName,
    ttlMs,
    renewDeadlineMs,
    renewIntervalMs,
    standbyTimeoutMs: positive(options, "standbyTimeoutMs", Number.POSITIVE_INFINITY, true),
    dropPendingUpdates: flag(options, "dropPendingUpdates"),
    preflightAttempts,
    drainTimeoutMs: positive(options, "drainTimeoutMs", 30_000),
    onConflict: conflictPolicy(options.onConflict),
    instanceId,
    signals: signals(options.handleSignals),
  };
}

type NumericOption = "ttlMs" | "renewDeadlineMs" | "renewIntervalMs" | "standbyTimeoutMs" | "drainTimeoutMs";

function positive(options: SupervisorOptions, key: NumericOption, fallback: number, allowInfinity = false): number {
  const value = options[key] ?? fallback;
  const ok = typeof value === "number" && value > 0 && (Number.isFinite(value) || (allowInfinity && value === Infinity));
  if (!ok) {
    throw new InvalidOptionError(
      key,
      `Expected \`${key}\` to be a positive ${allowInfinity ? "number (or Infinity)" : "finite number"} of milliseconds, got ${describe(value)}.`,
    );
  }
  return value;
}

function flag(options: SupervisorOptions, key: "dropPendingUpdates"): boolean {
  const value = options[key] ?? false;
  if (typeof value !== "boolean") {
    throw new InvalidOptionError(key, `Expected \`${key}\` to be true or false, got ${describe(value)}.`);
  }
  return value;
}

function conflictPolicy(policy: ConflictPolicy | undefined): ConflictPolicy {
  if (policy === undefined || policy === "stop") return "stop";
  const ok =
    typeof policy === "object" &&
    Number.isInteger(policy.retries) &&
    policy.retries >= 1 &&
    policy.retries <= 100 &&
    typeof policy.delayMs === "number" &&
    Number.isFinite(policy.delayMs) &&
    policy.delayMs >= 0;
  if (!ok) {
    throw new InvalidOptionError(
      "onConflict",
      `Expected \`onConflict\` to be "stop" or { retries: 1..100, delayMs: >= 0 }, got ${describe(policy)}.`,
    );
  }
  return { retries: policy.retries, delayMs: policy.delayMs };
}

function signals(option: boolean | readonly NodeJS.Signals[] | undefined): readonly NodeJS.Signals[] {
  if (option === undefined || option === false) return [];
  if (option === true) return ["SIGTERM", "SIGINT"];
  if (Array.isArray(option) && option.every((s) => typeof s === "string" && /^SIG[A-Z0-9]+$/.test(s))) return option;
  throw new InvalidOptionError(
    "handleSignals",
    `Expected \`handleSignals\` to be a boolean or a list of signal names like ["SIGTERM"], got ${describe(option)}.`,
  );
}

function describe(value: unknown): string {
  // A token passed in the wrong option must not end up in the message: redact before shortening.
  if (typeof value === "string") {
    const shown = redactTokens(value);
    return JSON.stringify(shown.length > 40 ? `${shown.slice(0, 40)}…` : shown);
  }
  if (typeof value === "object" && value !== null) {
    try {
      return redactTokens(JSON.stringify(value));
    } catch {
      return "an object";
    }
  }
  return String(value);
}
