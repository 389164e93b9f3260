import type { ApiReply } from "./api-responses.js";
import type { BotRecorder, Mutable } from "./bot-recorder.js";
import { timestamp } from "./clock.js";
import type { GetUpdatesOutcome, GetUpdatesRecord } from "./control-types.js";
import type { PendingAnswer } from "./pending-answer.js";

/** One getUpdates in flight: its record and the way to answer it, answered exactly once. */
export class GetUpdatesCall {
  readonly record: Mutable<GetUpdatesRecord>;
  readonly #answer: PendingAnswer;
  readonly #recorder: BotRecorder;

  constructor(record: Mutable<GetUpdatesRecord>, answer: PendingAnswer, recorder: BotRecorder) {
    this.record = record;
    this.#answer = answer;
    this.#recorder = recorder;
    answer.onClientGone(() => recorder.clientGone(record, timestamp()));
  }

  /** True until the call is answered. */
  get pending(): boolean {
    return this.record.outcome.kind === "pending";
  }

  /** Sends `reply` and records `outcome`; ignored once answered. */
  finish(outcome: GetUpdatesOutcome, reply: ApiReply): void {
    if (!this.pending) return;
    this.#answer.send(reply);
    this.#recorder.endGetUpdates(this.record, outcome, timestamp());
  }

  /** Resets the connection and records the fault; ignored once answered. */
  reset(): void {
    if (!this.pending) return;
    this.#answer.resetConnection();
    this.#recorder.endGetUpdates(this.record, { kind: "fault", fault: "connection-reset" }, timestamp());
  }

  /** Drops the connection and records `closed` (emulator shutdown); ignored once answered. */
  close(): void {
    if (!this.pending) return;
    this.#answer.resetConnection();
    this.#recorder.endGetUpdates(this.record, { kind: "closed" }, timestamp());
  }
}
