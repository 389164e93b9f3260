import type { ConflictKind, PollingSupervisorError } from "../errors.js";
import type { HolderRecord } from "../locks/types.js";

/** The supervisor's lifecycle: `idle -> acquiring -> standby -> preflight -> polling -> stopping -> stopped`. */
export type SupervisorState = "idle" | "acquiring" | "standby" | "preflight" | "polling" | "stopping" | "stopped";

/**
 * Why a run ended; exactly one per run.
 * - `stopped`: `stop()` was called (or a handled signal arrived).
 * - `conflict`: something outside the lock polled or set a webhook.
 * - `lock-lost`: the lease could not be kept.
 * - `fatal`: the token was refused (401), preflight failed, standby timed out, or the lock store failed.
 */
export type StopReason = "stopped" | "conflict" | "lock-lost" | "fatal";

/** Payload of `stateChange`. */
export interface StateChangeEvent {
  readonly from: SupervisorState;
  readonly to: SupervisorState;
}

/** Payload of `standby`: another instance holds the lock and this one waits. */
export interface StandbyEvent {
  readonly lock: string;
  /** The current holder as the store reports it; `null` when it could not be read (e.g. it just released). */
  readonly holder: HolderRecord | null;
}

/** Payload of `lockAcquired`. */
export interface LockAcquiredEvent {
  readonly lock: string;
  /** The backend's kind, e.g. `"file"`. */
  readonly backend: string;
  /** Where the lock lives (path, Redis key, advisory key); never a secret. */
  readonly location: string;
  readonly holder: HolderRecord;
  /** How long the lease is valid locally from now, in ms (renewed every `renewIntervalMs`). */
  readonly validForMs: number;
  /** Grows with every grant, where the backend has one (Redis). */
  readonly fencingToken?: number;
  /** How long this instance waited in standby, in ms (0 when the lock was free). */
  readonly waitedMs: number;
}

/** Payload of `webhookCleared`: preflight found a webhook and deleted it. */
export interface WebhookClearedEvent {
  /** The webhook URL that was set, with anything token-shaped redacted. */
  readonly url: string;
  /** The updates waiting on the Bot API when the webhook was deleted. */
  readonly pendingUpdateCount: number;
  /** Whether they were dropped (only when `dropPendingUpdates: true`). */
  readonly droppedPendingUpdates: boolean;
}

/** Payload of `pollingStarted`. */
export interface PollingStartedEvent {
  /** The adapter's name, e.g. `"grammy"`. */
  readonly adapter: string;
  /** Epoch ms when the first getUpdates was sent. */
  readonly at: number;
}

/** Payload of `conflict`: a 409 answered to a getUpdates sent on a valid lease. */
export interface ConflictEvent {
  readonly kind: ConflictKind;
  /** The Bot API's `description`. */
  readonly description: string;
  /** Epoch ms. */
  readonly at: number;
  /** Whether the conflict policy will try polling again (only with an explicit retry policy). */
  readonly willRetry: boolean;
}

/** Why a lease was lost. */
export type LockLostReason =
  /** No renewal succeeded before the renew deadline (store unreachable, event loop stalled). */
  | "expired"
  /** The store said the lease belongs to someone else now. */
  | "refused"
  /** The backend reported the lease gone (connection dropped, lock file replaced). */
  | "backend";

/** Payload of `lockLost`. */
export interface LockLostEvent {
  readonly lock: string;
  readonly reason: LockLostReason;
  /** The store's error, when there was one. */
  readonly error?: unknown;
}

/** Payload of `lockReleased`. */
export interface LockReleasedEvent {
  readonly lock: string;
  /** How long this instance held the lock, in ms. */
  readonly heldMs: number;
}

/** Payload of `stopped`, and the value `finished` resolves with. */
export interface StoppedEvent {
  readonly reason: StopReason;
  /** The error behind `conflict`, `lock-lost` and `fatal`. */
  readonly error?: PollingSupervisorError;
}

/** The supervisor's events, for `supervisor.on(name, listener)`. */
export interface SupervisorEvents {
  stateChange: [event: StateChangeEvent];
  standby: [event: StandbyEvent];
  lockAcquired: [event: LockAcquiredEvent];
  webhookCleared: [event: WebhookClearedEvent];
  pollingStarted: [event: PollingStartedEvent];
  conflict: [event: ConflictEvent];
  lockLost: [event: LockLostEvent];
  lockReleased: [event: LockReleasedEvent];
  stopped: [event: StoppedEvent];
  /** Problems that do not end the run by themselves (a failed renewal that will be retried, a drain timeout), and the error that ended a run. */
  error: [error: PollingSupervisorError];
}

/** Every event name, for code that forwards or logs them all. */
export const SUPERVISOR_EVENTS = [
  "stateChange",
  "standby",
  "lockAcquired",
  "webhookCleared",
  "pollingStarted",
  "conflict",
  "lockLost",
  "lockReleased",
  "stopped",
  "error",
] as const satisfies readonly (keyof SupervisorEvents)[];
