import type { ApiEnvelope, ApiReply } from "./api-responses.js";

/** The way back to whoever made a Bot API call: an HTTP response, or a control-API caller. */
export interface PendingAnswer {
  /** Sends the reply; calls after the first are ignored. */
  send(reply: ApiReply): void;
  /** Drops the connection without an answer (an injected fault). */
  resetConnection(): void;
  /** Calls `listener` once if the caller goes away before the answer (an aborted fetch). */
  onClientGone(listener: () => void): void;
}

/** A {@link PendingAnswer} that hands the envelope to a promise: calls made through the control API. */
export class CapturedAnswer implements PendingAnswer {
  readonly #resolve: (body: ApiEnvelope) => void;
  readonly #reject: (error: Error) => void;
  /** Settles with the answer's envelope, or rejects when the call's connection was reset. */
  readonly body: Promise<ApiEnvelope>;

  constructor() {
    let resolve!: (body: ApiEnvelope) => void;
    let reject!: (error: Error) => void;
    this.body = new Promise<ApiEnvelope>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#resolve = resolve;
    this.#reject = reject;
  }

  send(reply: ApiReply): void {
    this.#resolve(reply.body);
  }

  resetConnection(): void {
    this.#reject(new Error("The emulator reset the connection (an injected connection-reset fault)."));
  }

  onClientGone(): void {
    // A control caller awaits the promise; it cannot go away.
  }
}
