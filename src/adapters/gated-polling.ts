import { classifyApiError } from "../api/classify-error.js";
import { InvalidOptionError, LeaseNotValidError } from "../errors.js";
import type { AbortSignalLike } from "./link-signals.js";
import { linkSignals } from "./link-signals.js";
import { OffsetTracker } from "./offset-tracker.js";
import type { GetUpdatesOutcome, GetUpdatesParams, PollingGate, PollingRun } from "./types.js";

/** Which code sent a getUpdates. */
export type GetUpdatesOrigin =
  /** The framework's polling loop: it passes its own abort signal. */
  | "loop"
  /** Without a signal: the framework's last offset confirmation on stop, or user code. */
  | "other"
  /** This module's own confirmation after the loop ended. */
  | "own";

/** How one framework's polling loop is started, stopped and asked to confirm an offset. */
export interface LoopDriver {
  /** Starts the framework's loop; settles when the loop has ended. */
  start(): Promise<void>;
  /** The framework's own stop. Called at most once per run, and never while a loop getUpdates is in flight. */
  stop(): Promise<unknown> | void;
  /** Resolves once every update the loop received has been handled, for loops whose end does not imply it. */
  idle?(): Promise<void>;
  /** Sends `getUpdates(params)` through the framework's transport with `marker` as its abort signal. */
  confirm(params: GetUpdatesParams, marker: AbortSignal): Promise<unknown>;
  /** Calls getWebhookInfo through the framework's transport; resolves with its result. */
  getWebhookInfo(): Promise<unknown>;
  /**
   * True when the loop may leave received updates unhandled on stop; the
   * adapter then reports each handled update with {@link GatedPolling.noteHandled}
   * and only those are confirmed.
   * @default false (every update received is handled before the loop ends)
   */
  readonly reportsHandledUpdates?: boolean;
}

/** One intercepted getUpdates, in the framework's own terms (`R` is what its transport answers). */
export interface InterceptedGetUpdates<R> {
  readonly params: GetUpdatesParams;
  /** The signal the framework passed with the request, if any. */
  readonly signal: AbortSignalLike | undefined;
  /** Sends the request with `signal`. */
  send(signal: AbortSignal): Promise<R>;
  /** What an answer means (grammY's transformers see `{ ok: false }` answers instead of errors). */
  outcome(answer: R): GetUpdatesOutcome;
  /** An answer with no updates, given without sending anything. */
  empty(): R;
}

/**
 * Owns every getUpdates one bot object sends: installed once per bot, it lets
 * a request out only through the gate of the current supervisor run, and
 * refuses it when no run is active. It also drives the run's lifecycle (stop,
 * wait for the handlers, confirm the offset) on top of a {@link LoopDriver}.
 */
export class GatedPolling {
  #run: ActiveRun | undefined;
  readonly #ownMarkers = new WeakSet<object>();

  /** Whether a supervisor run is polling with this bot. */
  get polling(): boolean {
    return this.#run !== undefined;
  }

  /** Tells which code sent a getUpdates from the signal it passed. */
  originOf(signal: AbortSignalLike | undefined): GetUpdatesOrigin {
    if (signal === undefined) return "other";
    return this.#ownMarkers.has(signal) ? "own" : "loop";
  }

  /** Records an update the framework has handled, for drivers that set `reportsHandledUpdates`. */
  noteHandled(updateId: number): void {
    this.#run?.tracker.noteReceived([{ update_id: updateId }]);
  }

  /** Starts one polling run: the driver's loop, with every getUpdates routed through `gate`. */
  begin(gate: PollingGate, driver: LoopDriver): PollingRun {
    if (this.#run !== undefined) {
      throw new InvalidOptionError(
        "adapter",
        "This bot object is already polling for another supervisor run: give each PollingSupervisor its own bot object.",
      );
    }
    const run = new ActiveRun(gate, driver, (marker) => this.#ownMarkers.add(marker));
    this.#run = run;
    const done = run.drive().finally(() => {
      if (this.#run === run) this.#run = undefined;
    });
    // The supervisor always reads `done`; this keeps an unread rejection from crashing a process that does not.
    done.catch(() => {});
    return {
      done,
      stop: () => {
        run.requestStop();
        return done.then(
          () => {},
          () => {},
        );
      },
    };
  }

  /** Routes one getUpdates: through the gate of the active run, answered locally, or refused. */
  async intercept<R>(call: InterceptedGetUpdates<R>): Promise<R> {
    const run = this.#run;
    if (run === undefined) {
      throw new LeaseNotValidError("no supervisor run is polling with this bot right now");
    }
    const origin = this.originOf(call.signal);
    if (origin === "loop") return run.sendFromLoop(call);
    if (origin === "other" && !run.tracker.advances(call.params.offset)) {
      // The framework's stop confirms an offset the previous getUpdates already
      // confirmed (a stop during an idle long poll). Sending it would confirm
      // nothing, and the Bot API would make it a 3 s long poll (same offset,
      // < 3 s later, timeout < 3): answer it here instead.
      return call.empty();
    }
    return run.send(call, false);
  }
}

class ActiveRun {
  readonly tracker = new OffsetTracker();
  readonly #gate: PollingGate;
  readonly #driver: LoopDriver;
  readonly #markOwn: (marker: object) => void;
  /** Aborts the in-flight getUpdates when a stop is asked for. */
  readonly #controller = new AbortController();
  #stopWanted = false;
  /** Why the gate ended the run (refused a getUpdates, or aborted its signal). */
  #gateError: unknown;
  #loopRequestInFlight = false;
  #frameworkStopped: Promise<unknown> | undefined;

  constructor(gate: PollingGate, driver: LoopDriver, markOwn: (marker: object) => void) {
    this.#gate = gate;
    this.#driver = driver;
    this.#markOwn = markOwn;
  }

  get #endWanted(): boolean {
    return this.#stopWanted || this.#gateError !== undefined;
  }

  requestStop(): void {
    if (this.#stopWanted) return;
    this.#stopWanted = true;
    this.#endNow();
  }

  readonly #onGateAbort = (): void => {
    this.#gateError ??= asError(this.#gate.signal.reason);
    this.#endNow();
  };

  /**
   * Ends the loop as soon as it is safe. While a loop getUpdates is in flight
   * the framework's stop waits for it to settle (aborting it first): stopping
   * grammY then would make it swallow a 409 that is on its way back.
   */
  #endNow(): void {
    this.#controller.abort();
    if (!this.#loopRequestInFlight) this.#stopFramework();
  }

  #stopFramework(): void {
    if (this.#frameworkStopped !== undefined) return;
    try {
      this.#frameworkStopped = Promise.resolve(this.#driver.stop()).catch(() => {});
    } catch {
      this.#frameworkStopped = Promise.resolve();
    }
  }

  async drive(): Promise<void> {
    const gateSignal = this.#gate.signal;
    // Ended before it began: starting the loop only to stop it would still send getMe and deleteWebhook.
    if (gateSignal.aborted) throw asError(gateSignal.reason);
    gateSignal.addEventListener("abort", this.#onGateAbort, { once: true });
    let failed = false;
    let loopError: unknown;
    try {
      await this.#driver.start();
    } catch (error) {
      failed = true;
      loopError = error;
    }
    await this.#frameworkStopped;
    await this.#driver.idle?.();
    gateSignal.removeEventListener("abort", this.#onGateAbort);
    if (!failed && this.#gateError === undefined && !gateSignal.aborted) await this.#confirmReceived();
    if (failed && !(this.#stopWanted && !endsLoopByItself(loopError))) throw loopError;
    if (this.#gateError !== undefined) throw this.#gateError;
  }

  /** A getUpdates from the framework's loop. */
  async sendFromLoop<R>(call: InterceptedGetUpdates<R>): Promise<R> {
    if (this.#endWanted) {
      this.#stopFramework();
      throw this.#gateError ?? abortError();
    }
    this.#loopRequestInFlight = true;
    try {
      return await this.send(call, true);
    } finally {
      this.#loopRequestInFlight = false;
    }
  }

  /** Passes the gate, sends, reports the outcome to the gate. */
  async send<R>(call: InterceptedGetUpdates<R>, fromLoop: boolean): Promise<R> {
    let gateSignal: AbortSignal;
    try {
      gateSignal = this.#gate.enter(call.params);
    } catch (error) {
      if (fromLoop) {
        this.#gateError ??= error;
        // grammY retries every error that is not a 401/409 answer every 3 s, for ever: stop it first.
        this.#stopFramework();
      }
      throw error;
    }
    // A stop aborts the loop's long poll, never the confirmations that follow it.
    const linked = linkSignals([call.signal, gateSignal, fromLoop ? this.#controller.signal : undefined]);
    let outcome: GetUpdatesOutcome;
    let answer: R | undefined;
    let thrown: { error: unknown } | undefined;
    try {
      // Aborted already (a stop while the gate was entered): it would not reach the Bot API, so it is not sent.
      if (linked.signal.aborted) throw abortError();
      this.tracker.noteSent(call.params.offset);
      answer = await call.send(linked.signal);
      outcome = call.outcome(answer);
    } catch (error) {
      thrown = { error };
      outcome = { error: linked.signal.aborted && classifyApiError(error).kind !== "aborted" ? abortError() : error };
    } finally {
      linked.dispose();
    }
    if ("updates" in outcome) {
      this.tracker.noteAnswered(call.params.offset);
      if (fromLoop && this.#driver.reportsHandledUpdates !== true) this.tracker.noteReceived(outcome.updates);
    }
    this.#gate.settled(outcome);
    // A 401/409 ends every framework's loop by itself, with that error; any other answer would be retried.
    if (fromLoop && this.#endWanted && !("error" in outcome && endsLoopByItself(outcome.error))) this.#stopFramework();
    if (thrown) throw thrown.error;
    return answer as R;
  }

  /** After the loop: confirm every update it received, unless the getUpdates already sent did. */
  async #confirmReceived(): Promise<void> {
    const pending = this.tracker.pendingConfirmation();
    if (pending === undefined) return;
    if (pending.uncertain) {
      // The stop aborted a long poll with exactly this offset. If it reached the Bot API it confirmed
      // everything, and repeating its offset within 3 s would make our confirmation a 3 s long poll. If it
      // did not (a stop right after it was sent), the updates are still waiting. The Bot API's count
      // tells the two apart; and when updates wait, a repeated offset is answered at once anyway.
      const info = await this.#driver.getWebhookInfo().catch(() => undefined);
      if ((info as { pending_update_count?: unknown } | undefined)?.pending_update_count === 0) return;
    }
    const marker = new AbortController().signal;
    this.#markOwn(marker);
    try {
      await this.#driver.confirm({ offset: pending.offset, limit: 1, timeout: 0 }, marker);
    } catch {
      // Refused by the gate or failed (and then reported to it): the next instance gets these updates again.
    }
  }
}

function endsLoopByItself(error: unknown): boolean {
  const kind = classifyApiError(error).kind;
  return kind === "conflict" || kind === "unauthorized";
}

function abortError(): DOMException {
  return new DOMException("The getUpdates request was aborted", "AbortError");
}

function asError(reason: unknown): Error {
  if (reason instanceof Error) return reason;
  return new LeaseNotValidError(`the supervisor ended this polling run (${String(reason)})`);
}
