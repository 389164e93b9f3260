import type { GetUpdatesCall } from "./get-updates-call.js";

/** The one getUpdates a bot may have waiting, with where it reads from. */
export interface LongPoll {
  readonly call: GetUpdatesCall;
  readonly offset: number;
  readonly limit: number;
}

/**
 * `LONG_POLL_WAIT_AFTER`: once an update arrives, the waiting long poll is
 * answered this much later so that updates pushed together are served together.
 */
const WAKE_DELAY_MS = 1;

/**
 * Holds the bot's pending long poll (`long_poll_query_`). It stays held after
 * its client disconnects, until it is due (timeout or new update) or taken
 * (kicked by a newer getUpdates or by setWebhook).
 */
export class LongPollSlot {
  #held: { poll: LongPoll; due: () => void; timer: NodeJS.Timeout; woken: boolean } | undefined;

  /** The pending long poll, if any. */
  get held(): LongPoll | undefined {
    return this.#held?.poll;
  }

  /** Holds `poll` until `waitMs` passes or {@link wake} is called; then calls `due`. The slot must be empty. */
  hold(poll: LongPoll, waitMs: number, due: () => void): void {
    if (this.#held) throw new Error("LongPollSlot.hold: the slot is taken; take() the previous long poll first.");
    this.#held = { poll, due, timer: setTimeout(due, waitMs), woken: false };
  }

  /** An update arrived: the held long poll becomes due shortly. */
  wake(): void {
    const held = this.#held;
    if (!held || held.woken) return;
    held.woken = true;
    clearTimeout(held.timer);
    held.timer = setTimeout(held.due, WAKE_DELAY_MS);
  }

  /** Empties the slot and returns what it held. */
  take(): LongPoll | undefined {
    const held = this.#held;
    if (!held) return undefined;
    clearTimeout(held.timer);
    this.#held = undefined;
    return held.poll;
  }
}
