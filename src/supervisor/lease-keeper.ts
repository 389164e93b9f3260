import type { Lease } from "../locks/types.js";
import type { LockLostReason } from "./events.js";

/** Timing a {@link LeaseKeeper} works with. */
export interface LeaseTiming {
  readonly renewDeadlineMs: number;
  readonly renewIntervalMs: number;
}

/** What a {@link LeaseKeeper} reports. */
export interface LeaseKeeperHooks {
  /** Called once, when the lease is gone; the keeper's `signal` is already aborted. */
  onLost(reason: LockLostReason, error?: unknown): void;
  /** A renewal failed but the deadline has not passed yet; it will be retried. */
  onRenewError(error: unknown): void;
}

/**
 * Keeps a lease and decides, by the local monotonic clock, whether it is
 * valid. The lease counts as valid until `renewDeadlineMs` after the request
 * that last granted or renewed it was *sent*, so the store's own expiry
 * (`ttlMs` after it received that request) is always later.
 */
export class LeaseKeeper {
  readonly lease: Lease;
  readonly #timing: LeaseTiming;
  readonly #hooks: LeaseKeeperHooks;
  readonly #controller = new AbortController();
  #validUntil: number;
  #renewTimer: NodeJS.Timeout | undefined;
  #cancelBeat: (() => void) | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #onBackendLost = () => this.#lose("backend", this.lease.lost.reason);

  constructor(lease: Lease, timing: LeaseTiming, hooks: LeaseKeeperHooks) {
    this.lease = lease;
    this.#timing = timing;
    this.#hooks = hooks;
    this.#validUntil = lease.grantedAt + timing.renewDeadlineMs;
    if (lease.lost.aborted) {
      queueMicrotask(this.#onBackendLost);
    } else {
      lease.lost.addEventListener("abort", this.#onBackendLost, { once: true });
    }
    this.#armDeadline();
    this.#renewOnBeat();
  }

  /** Aborted when the lease is lost; pass it to anything that must stop with the lease. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether the lease is valid at `now` (monotonic ms). */
  isValid(now = performance.now()): boolean {
    return !this.#controller.signal.aborted && now < this.#validUntil;
  }

  /** Milliseconds of local validity left; 0 when lost. */
  validForMs(now = performance.now()): number {
    return this.isValid(now) ? this.#validUntil - now : 0;
  }

  /** Stops renewing (before a release); the lease stays valid until its deadline. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#renewTimer);
    this.#cancelBeat?.();
    clearTimeout(this.#deadlineTimer);
    this.lease.lost.removeEventListener("abort", this.#onBackendLost);
  }

  /** The next renewal, on the process-wide beat of this renewal interval. */
  #renewOnBeat(): void {
    if (this.#stopped) return;
    this.#cancelBeat = RenewalBeat.of(this.#timing.renewIntervalMs).schedule(() => {
      this.#cancelBeat = undefined;
      void this.#renew();
    });
  }

  /** A retry after a failed renewal, on its own timer. */
  #retryRenew(delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#renewTimer);
    this.#renewTimer = setTimeout(() => void this.#renew(), delayMs);
  }

  #armDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    const delay = Math.max(0, this.#validUntil - performance.now());
    this.#deadlineTimer = setTimeout(() => {
      if (performance.now() >= this.#validUntil) this.#lose("expired");
      else this.#armDeadline();
    }, delay);
  }

  async #renew(): Promise<void> {
    const sentAt = performance.now();
    // After a stalled event loop the deadline may have passed while no timer could run: give up first.
    if (sentAt >= this.#validUntil) {
      this.#lose("expired");
      return;
    }
    let renewed: boolean;
    try {
      renewed = await this.lease.renew();
    } catch (error) {
      if (this.#stopped || this.#controller.signal.aborted) return;
      this.#hooks.onRenewError(error);
      const left = this.#validUntil - performance.now();
      this.#retryRenew(Math.max(50, Math.min(this.#timing.renewIntervalMs, left / 3)));
      return;
    }
    if (this.#stopped || this.#controller.signal.aborted) return;
    if (!renewed) {
      this.#lose("refused");
      return;
    }
    // The deadline only moves later: its timer, when it fires, sees that and waits for the rest.
    this.#validUntil = Math.max(this.#validUntil, sentAt + this.#timing.renewDeadlineMs);
    this.#renewOnBeat();
  }

  #lose(reason: LockLostReason, error?: unknown): void {
    if (this.#controller.signal.aborted || this.#stopped) return;
    this.stop();
    this.#controller.abort(reason);
    this.#hooks.onLost(reason, error);
  }
}

/**
 * One timer per renewal interval for every keeper in the process. Leases
 * renewed on the same beat reach their backend in the same tick, where it
 * batches them: one Redis round trip per period for all of a process's
 * leases, one statement per PostgreSQL connection. Beats fall on multiples of
 * the interval on the monotonic clock, so the next one is never more than
 * one interval away: a lease is renewed at least as often as
 * `renewIntervalMs` says (its first renewal may come sooner), never later.
 */
class RenewalBeat {
  static readonly #beats = new Map<number, RenewalBeat>();
  readonly #intervalMs: number;
  readonly #due = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;

  private constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  static of(intervalMs: number): RenewalBeat {
    let beat = RenewalBeat.#beats.get(intervalMs);
    if (!beat) {
      beat = new RenewalBeat(intervalMs);
      RenewalBeat.#beats.set(intervalMs, beat);
    }
    return beat;
  }

  /** Calls `renew` on the next beat; returns a function that cancels it. */
  schedule(renew: () => void): () => void {
    this.#due.add(renew);
    if (!this.#timer) this.#arm();
    return () => {
      this.#due.delete(renew);
      if (this.#due.size === 0) this.#idle();
    };
  }

  #arm(): void {
    this.#timer = setTimeout(() => this.#beat(), this.#intervalMs - (performance.now() % this.#intervalMs));
  }

  #beat(): void {
    this.#timer = undefined;
    const due = [...this.#due];
    this.#due.clear();
    for (const renew of due) renew();
    if (this.#due.size > 0) this.#arm();
    else this.#idle();
  }

  #idle(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (RenewalBeat.#beats.get(this.#intervalMs) === this) RenewalBeat.#beats.delete(this.#intervalMs);
  }
}
