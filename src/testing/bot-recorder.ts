import type { ConflictKind } from "../errors.js";
import type { ApiEnvelope } from "./api-responses.js";
import type {
  Fault,
  GetUpdatesOutcome,
  GetUpdatesRecord,
  MethodCallRecord,
  PollGap,
  ReplyRecord,
  UpdateRecord,
  UpdateRemoval,
} from "./control-types.js";

/** A record as the emulator fills it in; readers get readonly copies. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Fields of a getUpdates record fixed when it is accepted. */
export type GetUpdatesStart = Pick<
  GetUpdatesRecord,
  "start" | "offset" | "limit" | "timeout" | "throttled" | "params"
>;

/**
 * Everything observed for one bot: getUpdates, updates, other calls, replies,
 * 409 counts and polling gaps. Records are mutable here and copied out by
 * `snapshot()`; listeners hear about every change so waiters can re-check.
 */
export class BotRecorder {
  readonly #getUpdates: Mutable<GetUpdatesRecord>[] = [];
  readonly #updates = new Map<number, Mutable<UpdateRecord>>();
  readonly #calls: Mutable<MethodCallRecord>[] = [];
  readonly #replies: ReplyRecord[] = [];
  readonly #conflicts: Record<ConflictKind, number> = { poller: 0, webhook: 0, "set-webhook": 0 };
  readonly #gaps: Mutable<PollGap>[] = [];
  readonly #listeners = new Set<() => void>();
  #sawLongPoll = false;

  /** How many getUpdates were recorded. */
  get getUpdatesCount(): number {
    return this.#getUpdates.length;
  }

  /** Adds a getUpdates record in the `pending` state and returns it for later updates. */
  startGetUpdates(start: GetUpdatesStart): Mutable<GetUpdatesRecord> {
    const record: Mutable<GetUpdatesRecord> = {
      seq: this.#getUpdates.length + 1,
      ...start,
      longPoll: false,
      outcome: { kind: "pending" },
    };
    this.#getUpdates.push(record);
    this.changed();
    return record;
  }

  /** Sets how a getUpdates ended; counts 409s by kind and deliveries per update. */
  endGetUpdates(record: Mutable<GetUpdatesRecord>, outcome: GetUpdatesOutcome, at: number): void {
    record.outcome = outcome;
    record.end = at;
    if (outcome.kind === "conflict") this.#conflicts[outcome.conflict]++;
    if (outcome.kind === "updates") {
      for (const id of outcome.updateIds) {
        const update = this.#updates.get(id);
        if (update) update.deliveries++;
      }
    }
    this.changed();
  }

  /** Marks the moment a pending getUpdates was terminated by a newer one or by setWebhook. */
  kicked(record: Mutable<GetUpdatesRecord>, at: number): void {
    record.kickedAt = at;
    this.changed();
  }

  /** Marks the moment the client closed the connection of a pending getUpdates. */
  clientGone(record: Mutable<GetUpdatesRecord>, at: number): void {
    record.clientGoneAt = at;
    this.changed();
  }

  /** A getUpdates entered the long-poll slot: closes the open polling gap. */
  longPollStarted(record: Mutable<GetUpdatesRecord>, at: number): void {
    record.longPoll = true;
    this.#sawLongPoll = true;
    const open = this.#gaps.at(-1);
    if (open && open.end === undefined) open.end = at;
    this.changed();
  }

  /** The slot became empty: opens a polling gap. */
  longPollEnded(at: number): void {
    if (this.#sawLongPoll) this.#gaps.push({ start: at });
    this.changed();
  }

  /** Records a pushed update. */
  updatePushed(updateId: number, type: string, at: number): void {
    this.#updates.set(updateId, { updateId, type, pushedAt: at, deliveries: 0, confirmed: false });
    this.changed();
  }

  /** Records an update leaving the queue. */
  updateRemoved(updateId: number, reason: UpdateRemoval, at: number): void {
    const update = this.#updates.get(updateId);
    if (!update) return;
    update.removed = { at, reason };
    if (reason === "confirmed") update.confirmed = true;
    this.changed();
  }

  /** Adds a call record without a response and returns it. */
  startCall(call: Pick<MethodCallRecord, "method" | "params" | "time" | "source">): Mutable<MethodCallRecord> {
    const record: Mutable<MethodCallRecord> = { seq: this.#calls.length + 1, ...call };
    this.#calls.push(record);
    this.changed();
    return record;
  }

  /** Sets the answer of a call, and the fault that produced it if any. */
  endCall(record: Mutable<MethodCallRecord>, response: ApiEnvelope | undefined, fault?: Fault["kind"]): void {
    if (response !== undefined) record.response = response;
    if (fault !== undefined) record.fault = fault;
    this.changed();
  }

  /** Records a message the bot sent. */
  reply(reply: ReplyRecord): void {
    this.#replies.push(reply);
    this.changed();
  }

  /** Forgets every record (the queue and webhook are untouched). */
  clear(): void {
    this.#getUpdates.length = 0;
    this.#updates.clear();
    this.#calls.length = 0;
    this.#replies.length = 0;
    this.#gaps.length = 0;
    this.#sawLongPoll = false;
    for (const kind of Object.keys(this.#conflicts) as ConflictKind[]) this.#conflicts[kind] = 0;
    this.changed();
  }

  /** Deep copies of every record. */
  records(): {
    getUpdates: GetUpdatesRecord[];
    updates: UpdateRecord[];
    calls: MethodCallRecord[];
    replies: ReplyRecord[];
    conflicts: Record<ConflictKind, number>;
    pollGaps: PollGap[];
    longestPollGapMs: number;
  } {
    const pollGaps = structuredClone(this.#gaps);
    return {
      getUpdates: structuredClone(this.#getUpdates),
      updates: structuredClone([...this.#updates.values()]),
      calls: structuredClone(this.#calls),
      replies: structuredClone(this.#replies),
      conflicts: { ...this.#conflicts },
      pollGaps,
      longestPollGapMs: Math.max(0, ...pollGaps.map((gap) => (gap.end === undefined ? 0 : gap.end - gap.start))),
    };
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells every listener that something changed. */
  changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
