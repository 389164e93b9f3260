import { InvalidOptionError } from "../errors.js";

/**
 * Every delay the real Bot API server applies, in milliseconds. Each default is
 * the real server's value (tdlib/telegram-bot-api `Client.cpp`); tests shorten
 * them so that a 3 s rule takes 100 ms.
 */
export interface EmulatorTiming {
  /**
   * A 409 is sent at once when the bot's previous 409 was at least this long
   * ago; otherwise it is held back this long (`fail_query_conflict`).
   * @default 3000
   */
  readonly conflictDelayMs: number;
  /**
   * A getUpdates with the same offset as the previous one, started less than
   * this long after it and with `timeout < 3`, is given `timeout = 3`.
   * @default 3000
   */
  readonly sameOffsetWindowMs: number;
  /**
   * A getUpdates with the same offset as the previous one, started less than
   * this long after it, is also given `limit = 1`.
   * @default 500
   */
  readonly sameOffsetLimitWindowMs: number;
  /**
   * How long one second of a getUpdates `timeout` lasts. `timeout=30` waits
   * `30 * longPollSecondMs`; the same-offset throttle's `timeout = 3` too.
   * @default 1000
   */
  readonly longPollSecondMs: number;
  /**
   * Minimum interval between two setWebhook calls with a URL; a faster one gets
   * 429 `Too Many Requests: retry after 1`.
   * @default 1000
   */
  readonly setWebhookIntervalMs: number;
  /**
   * How long an unconfirmed update is kept before it is dropped.
   * @default 86_400_000 (24 hours)
   */
  readonly updateTtlMs: number;
}

/** The real server's timing, used for every field a caller leaves out. */
export const REAL_TIMING: EmulatorTiming = Object.freeze({
  conflictDelayMs: 3000,
  sameOffsetWindowMs: 3000,
  sameOffsetLimitWindowMs: 500,
  longPollSecondMs: 1000,
  setWebhookIntervalMs: 1000,
  updateTtlMs: 86_400_000,
});

/** Fills in the real value for every field left out; rejects unknown fields and negative or non-finite values. */
export function resolveTiming(overrides: Partial<EmulatorTiming> = {}): EmulatorTiming {
  for (const name of Object.keys(overrides)) {
    if (!(name in REAL_TIMING)) {
      const known = Object.keys(REAL_TIMING).join(", ");
      throw new InvalidOptionError(`timing.${name}`, `Unknown timing option \`${name}\`; known ones: ${known}.`);
    }
  }
  const timing = { ...REAL_TIMING, ...overrides };
  for (const [name, value] of Object.entries(timing)) {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new InvalidOptionError(
        `timing.${name}`,
        `Expected \`timing.${name}\` to be a finite number of milliseconds >= 0, got ${String(value)}.`,
      );
    }
  }
  return Object.freeze(timing);
}
