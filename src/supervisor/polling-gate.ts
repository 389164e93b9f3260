import { LeaseNotValidError } from "../errors.js";
import type { GetUpdatesOutcome, GetUpdatesParams, PollingGate } from "../adapters/types.js";
import type { LeaseKeeper } from "./lease-keeper.js";

/** What the gate tells the supervisor. */
export interface GateHooks {
  /** The first getUpdates of this run passed the gate. */
  onFirstPoll(): void;
  /** A getUpdates answered with updates (possibly none). */
  onUpdates(count: number): void;
  /**
   * A getUpdates failed. `leaseWasValid` says whether the lease was still
   * valid when the answer arrived: a 409 after the lease was lost is expected.
   */
  onError(error: unknown, leaseWasValid: boolean): void;
}

/**
 * The gate every getUpdates of one polling run passes through: it refuses to
 * let a request go out unless the lease is valid at that moment, and hands
 * out a signal that aborts the request when the lease is lost or the run is
 * cut short.
 */
export class SupervisorGate implements PollingGate {
  readonly signal: AbortSignal;
  readonly #keeper: LeaseKeeper;
  readonly #hooks: GateHooks;
  #polled = false;

  constructor(keeper: LeaseKeeper, runSignal: AbortSignal, hooks: GateHooks) {
    this.#keeper = keeper;
    this.#hooks = hooks;
    this.signal = AbortSignal.any([keeper.signal, runSignal]);
  }

  enter(_params: GetUpdatesParams): AbortSignal {
    if (this.signal.aborted) {
      throw new LeaseNotValidError(this.#keeper.signal.aborted ? "the lease was lost" : "this polling run has ended");
    }
    if (!this.#keeper.isValid()) {
      throw new LeaseNotValidError("the lease is past its renew deadline");
    }
    if (!this.#polled) {
      this.#polled = true;
      this.#hooks.onFirstPoll();
    }
    return this.signal;
  }

  settled(outcome: GetUpdatesOutcome): void {
    if ("updates" in outcome) this.#hooks.onUpdates(outcome.updates.length);
    else this.#hooks.onError(outcome.error, this.#keeper.isValid());
  }
}
