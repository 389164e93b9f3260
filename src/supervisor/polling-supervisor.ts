import { randomBytes } from "node:crypto";
import { EventEmitter } from "eventemitter3";
import { classifyApiError } from "../api/classify-error.js";
import type { BotAdapter, PollingRun } from "../adapters/types.js";
import {
  BackendUnavailableError,
  ConflictError,
  InvalidOptionError,
  LockLostError,
  LockTimeoutError,
  PollingFailedError,
  PollingSupervisorError,
  StoppedError,
  UnauthorizedError,
} from "../errors.js";
import { fileLock } from "../locks/file.js";
import { createHolderRecord } from "../locks/holder.js";
import type { HolderRecord, LockBackend } from "../locks/types.js";
import { redactError, redactTokens } from "../token.js";
import type {
  ConflictEvent,
  LockLostReason,
  StopReason,
  StoppedEvent,
  SupervisorEvents,
  SupervisorState,
} from "./events.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { createSafeLogger, type Logger } from "./logger.js";
import { resolveOptions, type ResolvedOptions, type SupervisorOptions } from "./options.js";
import { SupervisorGate } from "./polling-gate.js";
import { clearWebhook } from "./preflight.js";
import { abortableSleep } from "./abortable-sleep.js";

/** A snapshot for health checks, from {@link PollingSupervisor.status}. */
export interface SupervisorStatus {
  readonly state: SupervisorState;
  /** True while this instance polls on a valid lease. */
  readonly isPoller: boolean;
  readonly lock: { readonly name: string; readonly backend: string; readonly location: string };
  /** This instance's holder record. */
  readonly self: HolderRecord;
  /** Who holds the lock as far as this instance knows: itself while it holds it, the holder it saw in standby otherwise. */
  readonly holder: HolderRecord | null;
  /** Local validity left on the lease, in ms; 0 when not holding. */
  readonly leaseValidForMs: number;
  readonly fencingToken: number | null;
  /** Epoch ms of the last getUpdates answered with success; `null` before the first. */
  readonly lastGetUpdatesAt: number | null;
  readonly lastConflict: ConflictEvent | null;
  /** Set once the run has ended. */
  readonly stopReason: StopReason | null;
}

/**
 * Makes sure exactly one instance of a bot long-polls: it takes a lock,
 * clears a webhook, starts the framework's polling through a gate that
 * needs a valid lease, and reports conflicts and lost locks as events. It
 * never restarts polling by itself.
 *
 * @example
 * const supervisor = new PollingSupervisor({ adapter: grammyAdapter(bot), lock: redisLock({ url }) });
 * supervisor.on("conflict", (e) => console.warn(e.kind, e.description));
 * await supervisor.start(); // resolves once this instance polls
 * process.once("SIGTERM", () => supervisor.stop());
 */
export class PollingSupervisor extends EventEmitter<SupervisorEvents> {
  readonly #adapter: BotAdapter;
  readonly #lock: LockBackend;
  readonly #options: ResolvedOptions;
  readonly #log: Logger;
  readonly #holder: HolderRecord;
  readonly #stopController = new AbortController();
  readonly #finished: Promise<StoppedEvent>;
  #resolveFinished!: (event: StoppedEvent) => void;
  #state: SupervisorState = "idle";
  #startPromise: Promise<void> | undefined;
  #ending: Promise<StoppedEvent> | undefined;
  #keeper: LeaseKeeper | undefined;
  #acquiredAt = 0;
  #run: PollingRun | undefined;
  #runController: AbortController | undefined;
  #standbyHolder: HolderRecord | null = null;
  #lastGetUpdatesAt: number | null = null;
  #lastConflict: ConflictEvent | null = null;
  #stopReason: StopReason | null = null;
  #conflictRetriesLeft: number;
  readonly #signalHandler = (signal: NodeJS.Signals) => this.#onSignal(signal);

  /** Validates `options`; throws `InvalidOptionError` naming the bad value. Makes no Bot API call. */
  constructor(options: SupervisorOptions) {
    super();
    if (typeof options !== "object" || options === null) {
      throw new InvalidOptionError("options", "Expected an options object: new PollingSupervisor({ adapter, lock }).");
    }
    const adapter: unknown = options.adapter;
    if (!isAdapter(adapter)) {
      throw new InvalidOptionError(
        "adapter",
        "Expected `adapter` to be a bot adapter: grammyAdapter(bot), telegrafAdapter(bot) or genericAdapter({...}).",
      );
    }
    if (options.lock !== undefined && !isLockBackend(options.lock)) {
      throw new InvalidOptionError(
        "lock",
        "Expected `lock` to be a lock backend: memoryLock(), fileLock(), redisLock({...}) or postgresLock({...}).",
      );
    }
    this.#adapter = adapter;
    this.#options = resolveOptions(options, adapter.botId, () => randomBytes(4).toString("hex"));
    this.#lock = options.lock ?? fileLock();
    this.#log = createSafeLogger(options.logger, this.#options.instanceId);
    this.#holder = createHolderRecord(this.#options.instanceId);
    this.#conflictRetriesLeft = this.#options.onConflict === "stop" ? 0 : this.#options.onConflict.retries;
    this.#finished = new Promise((resolve) => {
      this.#resolveFinished = resolve;
    });
  }

  /** The current state. */
  get state(): SupervisorState {
    return this.#state;
  }

  /** This instance's id, as in holder records and log lines. */
  get instanceId(): string {
    return this.#options.instanceId;
  }

  /** Settles once the run has ended, with its one reason. Never rejects. */
  get finished(): Promise<StoppedEvent> {
    return this.#finished;
  }

  /**
   * Acquires the lock (waiting in standby while another instance holds it),
   * clears a webhook, and starts polling. Resolves once this instance's first
   * getUpdates has been sent; rejects with a typed error when that cannot
   * happen (`STOPPED` if `stop()` came first). Calling it again returns the
   * same promise.
   */
  start(): Promise<void> {
    this.#startPromise ??= this.#begin();
    return this.#startPromise;
  }

  /**
   * Stops gracefully: stops fetching, lets the updates already received be
   * handled (up to `drainTimeoutMs`), confirms the offset, then releases the
   * lock. Safe in any state and more than once; in standby it leaves the queue.
   */
  async stop(): Promise<void> {
    await this.#end("stopped");
  }

  /** A snapshot for health checks. */
  status(): SupervisorStatus {
    const keeper = this.#keeper;
    const holding = keeper !== undefined && keeper.isValid() && this.#state !== "stopped";
    return {
      state: this.#state,
      isPoller: this.#state === "polling" && holding,
      lock: { name: this.#options.lockName, backend: this.#lock.kind, location: this.#lock.describe(this.#options.lockName) },
      self: this.#holder,
      holder: holding ? this.#holder : this.#standbyHolder,
      leaseValidForMs: holding ? keeper.validForMs() : 0,
      fencingToken: holding ? (keeper.lease.fencingToken ?? null) : null,
      lastGetUpdatesAt: this.#lastGetUpdatesAt,
      lastConflict: this.#lastConflict,
      stopReason: this.#stopReason,
    };
  }

  async #begin(): Promise<void> {
    if (this.#ending) throw new StoppedError();
    this.#installSignalHandlers();
    try {
      await this.#acquireLease();
      await this.#runPreflight();
      await this.#startPolling();
    } catch (error) {
      const typed = toTypedError(error);
      const ended = await this.#end(reasonFor(typed), typed);
      throw ended.reason === "stopped" ? new StoppedError() : (ended.error ?? typed);
    }
  }

  async #acquireLease(): Promise<void> {
    const { lockName: name, ttlMs, standbyTimeoutMs } = this.#options;
    const request = { name, holder: this.#holder, ttlMs };
    this.#setState("acquiring");
    const waitStart = performance.now();
    let lease = await this.#lock.tryAcquire(request).catch((error: unknown) => {
      throw backendError(error, this.#lock, name);
    });
    if (!lease) {
      this.#standbyHolder = await this.#lock.inspect(name).catch(() => null);
      this.#setState("standby");
      this.#notify("standby", { lock: name, holder: this.#standbyHolder });
      this.#log.info(
        this.#standbyHolder
          ? `standby: ${name} is held${describeHolder(this.#standbyHolder)}; waiting for it`
          : `standby: ${name} is not available yet; waiting for it`,
      );
      const signal = Number.isFinite(standbyTimeoutMs)
        ? AbortSignal.any([this.#stopController.signal, AbortSignal.timeout(standbyTimeoutMs)])
        : this.#stopController.signal;
      lease = await this.#lock.acquire(request, signal).catch((error: unknown) => {
        if (this.#stopController.signal.aborted) throw new StoppedError();
        if (signal.aborted) {
          throw new LockTimeoutError(
            `Waited ${standbyTimeoutMs} ms in standby for ${name}${describeHolder(this.#standbyHolder)}: raise standbyTimeoutMs, or stop the holder.`,
          );
        }
        throw backendError(error, this.#lock, name);
      });
    }
    if (this.#stopController.signal.aborted) {
      await lease.release();
      throw new StoppedError();
    }
    const keeper = new LeaseKeeper(lease, this.#options, {
      onLost: (reason, error) => this.#onLeaseLost(reason, error),
      onRenewError: (error) => {
        this.#log.warn(`lease renewal failed, retrying: ${errorText(error)}`);
        this.#notify("error", backendError(error, this.#lock, name));
      },
    });
    this.#keeper = keeper;
    this.#acquiredAt = performance.now();
    this.#standbyHolder = null;
    const location = this.#lock.describe(name);
    this.#notify("lockAcquired", {
      lock: name,
      backend: this.#lock.kind,
      location,
      holder: this.#holder,
      validForMs: keeper.validForMs(),
      waitedMs: Math.round(this.#acquiredAt - waitStart),
      ...(lease.fencingToken === undefined ? {} : { fencingToken: lease.fencingToken }),
    });
    const fencing = lease.fencingToken === undefined ? "" : `, fencing token ${lease.fencingToken}`;
    this.#log.info(`lock acquired (${location}${fencing})`);
  }

  async #runPreflight(): Promise<void> {
    this.#setState("preflight");
    const keeper = this.#keeper!;
    const result = await clearWebhook(this.#adapter, {
      dropPendingUpdates: this.#options.dropPendingUpdates,
      attempts: this.#options.preflightAttempts,
      signal: AbortSignal.any([this.#stopController.signal, keeper.signal]),
      onRetry: (method, error) => this.#log.warn(`${method} failed, retrying: ${errorText(error)}`),
    });
    if (result.clearedUrl !== null) {
      this.#notify("webhookCleared", {
        url: result.clearedUrl,
        pendingUpdateCount: result.pendingUpdateCount,
        droppedPendingUpdates: result.droppedPendingUpdates,
      });
      this.#log.info(
        `webhook cleared (was ${result.clearedUrl}; ${result.pendingUpdateCount} pending updates ${result.droppedPendingUpdates ? "dropped" : "kept"})`,
      );
    } else {
      this.#log.info(`no webhook set (${result.pendingUpdateCount} pending updates${result.droppedPendingUpdates ? " dropped" : ""})`);
    }
  }

  /** The one code path that starts polling. Resolves once the first getUpdates passed the gate. */
  async #startPolling(): Promise<void> {
    if (this.#ending) throw new StoppedError();
    const keeper = this.#keeper!;
    const runController = new AbortController();
    let markPolled!: () => void;
    const polled = new Promise<void>((resolve) => {
      markPolled = resolve;
    });
    const gate = new SupervisorGate(keeper, runController.signal, {
      onFirstPoll: () => markPolled(),
      onUpdates: () => {
        this.#lastGetUpdatesAt = Date.now();
      },
      onError: (error, leaseWasValid) => this.#onGetUpdatesError(run, error, leaseWasValid),
    });
    this.#runController = runController;
    const run = this.#adapter.startPolling(gate);
    this.#run = run;
    const ended = run.done.then(
      () => this.#onRunEnded(run, undefined),
      (error: unknown) => this.#onRunEnded(run, error),
    );
    await Promise.race([
      polled,
      ended.then(() => {
        throw this.#ending ? new StoppedError() : new LockLostError("polling ended before it started");
      }),
    ]);
    if (this.#ending) throw new StoppedError();
    this.#setState("polling");
    this.#notify("pollingStarted", { adapter: this.#adapter.name, at: Date.now() });
    this.#log.info(`polling started (${this.#adapter.name})`);
  }

  #onGetUpdatesError(run: PollingRun, error: unknown, leaseWasValid: boolean): void {
    if (run !== this.#run || this.#ending) return;
    const classified = classifyApiError(error);
    if (classified.kind === "unauthorized") {
      void this.#end("fatal", new UnauthorizedError({ cause: error }));
      return;
    }
    if (classified.kind !== "conflict" || !leaseWasValid) return;
    const willRetry = this.#conflictRetriesLeft > 0;
    const conflict: ConflictEvent = { kind: classified.conflict, description: classified.description, at: Date.now(), willRetry };
    this.#lastConflict = conflict;
    this.#notify("conflict", conflict);
    this.#log.warn(`conflict (${conflict.kind}): ${conflict.description}${willRetry ? "; retrying as configured" : ""}`);
    if (willRetry) {
      this.#conflictRetriesLeft -= 1;
      void this.#retryAfterConflict(run);
    } else {
      void this.#end("conflict", new ConflictError(conflict.kind, conflict.description, { cause: error }));
    }
  }

  async #retryAfterConflict(run: PollingRun): Promise<void> {
    this.#run = undefined;
    this.#runController?.abort();
    this.#setState("preflight");
    await settle(run.stop());
    const delay = this.#options.onConflict === "stop" ? 0 : this.#options.onConflict.delayMs;
    await abortableSleep(delay, this.#stopController.signal);
    if (this.#ending) return;
    try {
      await this.#startPolling();
    } catch (error) {
      const typed = toTypedError(error);
      void this.#end(reasonFor(typed), typed);
    }
  }

  #onRunEnded(run: PollingRun, error: unknown): void {
    if (run !== this.#run || this.#ending) return;
    if (error === undefined) {
      this.#log.warn("the framework's polling loop ended without stop(): was bot.stop() called directly?");
      void this.#end("stopped");
      return;
    }
    const classified = classifyApiError(error);
    if (classified.kind === "conflict" && this.#keeper?.isValid()) {
      // The gate normally reports this first; this covers adapters that cannot see getUpdates.
      this.#onGetUpdatesError(run, error, true);
      return;
    }
    const typed = toTypedError(error);
    void this.#end(reasonFor(typed), typed);
  }

  #onLeaseLost(reason: LockLostReason, error: unknown): void {
    const name = this.#options.lockName;
    this.#notify("lockLost", { lock: name, reason, ...(error === undefined ? {} : { error: redactError(error) }) });
    this.#log.error(`lock lost (${reason}${error === undefined ? "" : `: ${errorText(error)}`}); polling stopped`);
    void this.#end(
      "lock-lost",
      new LockLostError(
        `The lease on ${name} was lost (${reason}): polling stopped before another instance could be granted the lock. Call start() on a new supervisor to queue again.`,
        error === undefined ? undefined : { cause: error },
      ),
    );
  }

  #end(reason: StopReason, error?: PollingSupervisorError): Promise<StoppedEvent> {
    this.#ending ??= this.#shutdown(reason, error);
    return this.#ending;
  }

  async #shutdown(reason: StopReason, error: PollingSupervisorError | undefined): Promise<StoppedEvent> {
    this.#stopController.abort(new StoppedError());
    if (error) {
      redactError(error);
      this.#notify("error", error);
      if (reason !== "lock-lost") this.#log.error(`${error.code}: ${error.message}`);
    }
    if (this.#state !== "idle") this.#setState("stopping");
    const run = this.#run;
    if (run) {
      if (reason !== "stopped") this.#runController?.abort();
      await this.#drain(run);
    }
    await this.#releaseLease(reason);
    this.#stopReason = reason;
    this.#setState("stopped");
    this.#removeSignalHandlers();
    const event: StoppedEvent = error ? { reason, error } : { reason };
    this.#notify("stopped", event);
    this.#log.info(`stopped (${reason})`);
    this.#resolveFinished(event);
    return event;
  }

  async #drain(run: PollingRun): Promise<void> {
    const { drainTimeoutMs } = this.#options;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), drainTimeoutMs);
    });
    const outcome = await Promise.race([run.stop().then(() => "done" as const, (e: unknown) => e), timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.#log.warn(`the polling loop did not stop within drainTimeoutMs (${drainTimeoutMs} ms); releasing the lock anyway`);
    } else if (outcome !== "done" && !isExpectedStopError(outcome)) {
      this.#log.warn(`the polling loop stopped with an error: ${errorText(outcome)}`);
    }
  }

  async #releaseLease(reason: StopReason): Promise<void> {
    const keeper = this.#keeper;
    if (!keeper) return;
    const lost = reason === "lock-lost" || keeper.signal.aborted;
    keeper.stop();
    try {
      // Releasing a lost lease is still safe: backends compare the holder before deleting.
      await keeper.lease.release();
    } catch (error) {
      this.#log.warn(`releasing the lock failed: ${errorText(error)}; it expires after ttlMs`);
      this.#notify("error", backendError(error, this.#lock, this.#options.lockName));
      return;
    }
    if (lost) return;
    const heldMs = Math.round(performance.now() - this.#acquiredAt);
    this.#notify("lockReleased", { lock: this.#options.lockName, heldMs });
    this.#log.info(`lock released (held ${heldMs} ms)`);
  }

  /** Emits without letting a throwing listener break the state machine; the listener's error is logged. */
  #notify<K extends keyof SupervisorEvents>(event: K, ...args: SupervisorEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: SupervisorEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.#log.error(`a "${event}" listener threw: ${errorText(error)}`);
    }
  }

  #setState(to: SupervisorState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#notify("stateChange", { from, to });
  }

  #installSignalHandlers(): void {
    for (const signal of this.#options.signals) process.on(signal, this.#signalHandler);
  }

  #removeSignalHandlers(): void {
    for (const signal of this.#options.signals) process.off(signal, this.#signalHandler);
  }

  #onSignal(signal: NodeJS.Signals): void {
    this.#removeSignalHandlers();
    this.#log.info(`${signal} received: stopping gracefully`);
    void this.stop().finally(() => {
      // Let the signal end the process as it would have, unless the application handles it too.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

function isAdapter(value: unknown): value is BotAdapter {
  if (typeof value !== "object" || value === null) return false;
  const a = value as Record<string, unknown>;
  return typeof a["botId"] === "string" && typeof a["callApi"] === "function" && typeof a["startPolling"] === "function";
}

function isLockBackend(value: unknown): value is LockBackend {
  if (typeof value !== "object" || value === null) return false;
  const l = value as Record<string, unknown>;
  return ["tryAcquire", "acquire", "inspect", "describe"].every((key) => typeof l[key] === "function");
}

function reasonFor(error: PollingSupervisorError): StopReason {
  switch (error.code) {
    case "STOPPED":
      return "stopped";
    case "CONFLICT":
      return "conflict";
    case "LOCK_LOST":
      return "lock-lost";
    default:
      return "fatal";
  }
}

function toTypedError(error: unknown): PollingSupervisorError {
  if (error instanceof PollingSupervisorError) return error;
  const classified = classifyApiError(error);
  if (classified.kind === "unauthorized") return new UnauthorizedError({ cause: error });
  if (classified.kind === "conflict") return new ConflictError(classified.conflict, classified.description, { cause: error });
  return new PollingFailedError(
    `The polling loop failed: ${errorText(error)}. Check the error's cause; the lock was released.`,
    { cause: error },
  );
}

function backendError(error: unknown, lock: LockBackend, name: string): PollingSupervisorError {
  if (error instanceof PollingSupervisorError) return error;
  return new BackendUnavailableError(
    `The ${lock.kind} lock store failed for ${name}: ${errorText(error)}. Check that it is reachable and writable.`,
    { cause: error },
  );
}

function isExpectedStopError(error: unknown): boolean {
  const kind = classifyApiError(error).kind;
  return kind === "aborted" || kind === "conflict" || error instanceof PollingSupervisorError;
}

function describeHolder(holder: HolderRecord | null): string {
  return holder ? ` by ${holder.hostname} pid ${holder.pid} (instance ${holder.instanceId}) since ${holder.since}` : "";
}

function errorText(error: unknown): string {
  return redactTokens(error instanceof Error ? error.message : String(error));
}

function settle(promise: Promise<unknown>): Promise<void> {
  return promise.then(
    () => undefined,
    () => undefined,
  );
}
