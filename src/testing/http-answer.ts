import type { ServerResponse } from "node:http";
import type { ApiReply } from "./api-responses.js";
import type { PendingAnswer } from "./pending-answer.js";

/** A {@link PendingAnswer} that writes the envelope to an HTTP response, with `Retry-After` on 429 as the server sends it. */
export class HttpAnswer implements PendingAnswer {
  readonly #response: ServerResponse;
  #answered = false;

  constructor(response: ServerResponse) {
    this.#response = response;
  }

  send(reply: ApiReply): void {
    if (this.#answered) return;
    this.#answered = true;
    if (this.#response.destroyed) return;
    const body = JSON.stringify(reply.body);
    const retryAfter = reply.body.ok ? undefined : reply.body.parameters?.retry_after;
    this.#response.writeHead(reply.status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      ...(retryAfter === undefined ? {} : { "retry-after": String(retryAfter) }),
    });
    this.#response.end(body);
  }

  resetConnection(): void {
    if (this.#answered) return;
    this.#answered = true;
    const socket = this.#response.socket;
    if (socket) socket.resetAndDestroy();
    else this.#response.destroy();
  }

  onClientGone(listener: () => void): void {
    this.#response.once("close", () => {
      if (!this.#answered) listener();
    });
  }
}
