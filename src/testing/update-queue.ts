import type { Update, UpdateInput, UpdateRemoval } from "./control-types.js";

/** An update waiting in the queue. */
export interface QueuedUpdate {
  readonly update: Update;
  readonly type: string;
  readonly expiresAt: number;
}

/** Called for every update that leaves the queue. */
export type RemovalListener = (updateId: number, reason: UpdateRemoval, at: number) => void;

/** What one getUpdates read: the updates to serve and the offset the read started from. */
export interface QueueRead {
  readonly updates: readonly Update[];
  /** The offset after a zero or negative one was resolved to the first pending update. */
  readonly offset: number;
}

/** The TQueue sanity window: an offset more than this past the next id is "in the future" and ignored. */
const FUTURE_TOLERANCE = 10;
/** The TQueue sanity window: an offset this far behind the next id is "in the past" and ignored. */
const PAST_TOLERANCE = 2_000_000;

/**
 * One bot's pending updates, with the semantics of `td::TQueue` as
 * `Client::do_get_updates` uses it: ids rise by one, a read confirms (deletes)
 * everything below its offset, a negative offset keeps only the last N, and
 * updates expire after a fixed time.
 */
export class UpdateQueue {
  readonly #ttlMs: number;
  readonly #onRemoved: RemovalListener;
  #events: QueuedUpdate[] = [];
  /** The id the next update gets; undefined until the first push ("queue is not created yet"). */
  #tail: number | undefined;
  readonly #firstId: number;

  constructor(options: { ttlMs: number; firstUpdateId: number; onRemoved: RemovalListener }) {
    this.#ttlMs = options.ttlMs;
    this.#firstId = options.firstUpdateId;
    this.#onRemoved = options.onRemoved;
  }

  /** Adds an update with the next id. */
  push(input: UpdateInput, type: string, now: number): Update {
    const updateId = this.#tail ?? this.#firstId;
    this.#tail = updateId + 1;
    const { update_id: _ignored, ...fields } = input;
    const update: Update = { update_id: updateId, ...fields };
    this.#events.push({ update, type, expiresAt: now + this.#ttlMs });
    return update;
  }

  /** Number of pending updates (`pending_update_count`). */
  size(now: number): number {
    this.#expire(now);
    return this.#events.length;
  }

  /**
   * Reads up to `limit` updates from `offset`, as `do_get_updates` does:
   * a negative offset first drops all but the last `-offset` updates; zero or
   * negative then means "from the first pending"; a positive offset confirms
   * every update below it, unless it is too far in the future or past to be
   * valid, in which case it is ignored and reading starts at the first pending.
   */
  read(offset: number, limit: number, now: number): QueueRead {
    this.#expire(now);
    if (offset < 0) this.clear(-offset, "trimmed", now);
    const from = offset <= 0 ? this.#head() : offset;
    if (from <= 0 || this.#tail === undefined) return { updates: [], offset: from };
    const valid = from <= this.#tail + FUTURE_TOLERANCE && from >= this.#tail - PAST_TOLERANCE;
    if (valid) this.#removeWhile((event) => event.update.update_id < from, "confirmed", now);
    const start = valid ? from : this.#head();
    const updates = this.#events
      .filter((event) => event.update.update_id >= start)
      .slice(0, limit)
      .map((event) => event.update);
    return { updates, offset: from };
  }

  /** Drops every update except the last `keep` (`TQueue::clear`). */
  clear(keep: number, reason: UpdateRemoval, now: number): void {
    const dropCount = Math.max(0, this.#events.length - keep);
    let index = 0;
    this.#removeWhile(() => index++ < dropCount, reason, now);
  }

  /** The id of the first pending update, or the next id when none is pending, or 0 before the first push. */
  #head(): number {
    return this.#events[0]?.update.update_id ?? this.#tail ?? 0;
  }

  #expire(now: number): void {
    const expired = this.#events.filter((event) => event.expiresAt < now);
    if (expired.length === 0) return;
    this.#events = this.#events.filter((event) => event.expiresAt >= now);
    for (const event of expired) this.#onRemoved(event.update.update_id, "expired", now);
  }

  /** Removes events from the front while the predicate holds (ids are ascending). */
  #removeWhile(predicate: (event: QueuedUpdate) => boolean, reason: UpdateRemoval, now: number): void {
    let count = 0;
    while (count < this.#events.length && predicate(this.#events[count]!)) count++;
    const removed = this.#events.splice(0, count);
    for (const event of removed) this.#onRemoved(event.update.update_id, reason, now);
  }
}
