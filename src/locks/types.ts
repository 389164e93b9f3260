/**
 * The contract every lock backend implements. The supervisor owns lease
 * timing (by the local monotonic clock); a backend only grants, renews and
 * releases, and tells the supervisor when it learns a lease is gone.
 */

/** Who holds a lock. Never contains the bot token. */
export interface HolderRecord {
  /** The supervisor's instance id (random unless given). */
  readonly instanceId: string;
  readonly hostname: string;
  readonly pid: number;
  /** When this holder started waiting or holding, ISO 8601. */
  readonly since: string;
}

/** A granted lock. */
export interface Lease {
  /** The lock name this lease is for. */
  readonly name: string;
  readonly holder: HolderRecord;
  /** The TTL it was granted or last renewed with, in ms. */
  readonly ttlMs: number;
  /**
   * `performance.now()` taken just before the request that granted the lease
   * was sent. The lease is valid on the store until at least this + `ttlMs`.
   */
  readonly grantedAt: number;
  /** A number that grows with every grant of this lock, where the backend has one (Redis). */
  readonly fencingToken?: number;
  /**
   * Extends the lease to `ttlMs` from now. Resolves `true` when renewed,
   * `false` when the store says the lease is no longer ours. Rejects on a
   * transient store error (the supervisor retries until its renew deadline).
   */
  renew(): Promise<boolean>;
  /** Releases the lock if it is still ours and wakes waiters. Idempotent; never rejects for "not ours". */
  release(): Promise<void>;
  /** Aborted when the backend learns on its own that the lease is gone (connection dropped, lock file replaced). */
  readonly lost: AbortSignal;
}

/** Options for one acquire call. */
export interface AcquireRequest {
  readonly name: string;
  readonly holder: HolderRecord;
  readonly ttlMs: number;
}

/** A lock store. Backends live one per file: `memoryLock`, `fileLock`, `redisLock`, `postgresLock`. */
export interface LockBackend {
  /** Short kind, e.g. `"file"`, used in log lines and events. */
  readonly kind: string;
  /** Where the lock named `name` lives, for log lines (`file /tmp/x.lock`, `redis 127.0.0.1:6379 key`); never a secret. */
  describe(name: string): string;
  /** One attempt: the lease when granted, `null` when someone else holds it. */
  tryAcquire(request: AcquireRequest): Promise<Lease | null>;
  /**
   * Waits until the lock is granted or `signal` aborts (then rejects with
   * `signal.reason`). Wakes on release rather than sleeping a fixed period.
   */
  acquire(request: AcquireRequest, signal: AbortSignal): Promise<Lease>;
  /** The current holder, or `null` when the lock is free (or expired). */
  inspect(name: string): Promise<HolderRecord | null>;
  /** Frees connections and watchers this backend owns. Leases it granted are released first. */
  close(): Promise<void>;
}

/** The factory shape every backend module exports. */
export type LockBackendFactory<Options> = (options?: Options) => LockBackend;
