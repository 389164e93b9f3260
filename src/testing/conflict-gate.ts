import type { ConflictKind } from "../errors.js";
import { conflictReply, CONFLICT_DESCRIPTIONS } from "./api-responses.js";
import type { GetUpdatesCall } from "./get-updates-call.js";

/**
 * Sends 409 answers the way `Client::fail_query_conflict` does: at once when
 * the bot's last immediate 409 was at least `delayMs` ago, otherwise after
 * `delayMs`. Delayed answers do not move the window.
 */
export class ConflictGate {
  readonly #delayMs: number;
  #nextImmediateAt = Number.NEGATIVE_INFINITY;
  readonly #delayed = new Map<GetUpdatesCall, NodeJS.Timeout>();

  constructor(delayMs: number) {
    this.#delayMs = delayMs;
  }

  /** Answers `call` with the 409 of `kind`, now or after the delay. */
  fail(call: GetUpdatesCall, kind: ConflictKind, now: number): void {
    if (now >= this.#nextImmediateAt) {
      this.#nextImmediateAt = now + this.#delayMs;
      answerConflict(call, kind);
      return;
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(call);
      answerConflict(call, kind);
    }, this.#delayMs);
    this.#delayed.set(call, timer);
  }

  /** Forgets the last immediate 409, as a restarted `Client` does after close or logOut. */
  restart(): void {
    this.#nextImmediateAt = Number.NEGATIVE_INFINITY;
  }

  /** Stops every delayed 409 and returns the calls that were waiting for one. */
  cancelDelayed(): GetUpdatesCall[] {
    const calls = [...this.#delayed.keys()];
    for (const timer of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    return calls;
  }
}

function answerConflict(call: GetUpdatesCall, kind: ConflictKind): void {
  call.finish({ kind: "conflict", conflict: kind, description: CONFLICT_DESCRIPTIONS[kind] }, conflictReply(kind));
}
