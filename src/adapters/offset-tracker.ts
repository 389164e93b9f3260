/** What is left to confirm after a polling loop ended. */
export interface PendingConfirmation {
  /** The offset that confirms every update the loop received. */
  readonly offset: number;
  /**
   * True when the newest getUpdates had this very offset but was aborted (or
   * failed) before an answer: it confirmed them if it reached the Bot API,
   * and nothing tells whether it did.
   */
  readonly uncertain: boolean;
}

/**
 * Knows which updates of one polling run the Bot API has been told about.
 *
 * An update is confirmed by any getUpdates whose `offset` is higher than its
 * id, at the moment the server receives that request. A request that was
 * answered was received; one that was aborted (a stop cancels the long poll)
 * may or may not have been.
 */
export class OffsetTracker {
  /** Offset of the newest getUpdates handed to the transport in this run (the server's "previous offset", if it arrived). */
  #lastSentOffset: number | undefined;
  /** Highest offset of a getUpdates that was answered with updates: certainly received. */
  #answeredOffset: number | undefined;
  /** Highest update_id received (or, where the loop may drop the rest of a batch, handled) in this run. */
  #maxReceivedId: number | undefined;

  /** Records a getUpdates about to be sent. */
  noteSent(offset: number | undefined): void {
    this.#lastSentOffset = offset ?? 0;
  }

  /** Records that a getUpdates with this offset was answered with updates. */
  noteAnswered(offset: number | undefined): void {
    const value = offset ?? 0;
    if (this.#answeredOffset === undefined || value > this.#answeredOffset) this.#answeredOffset = value;
  }

  /** Records updates the framework's loop received and will handle, or has handled. */
  noteReceived(updates: readonly { readonly update_id: number }[]): void {
    for (const { update_id } of updates) {
      if (this.#maxReceivedId === undefined || update_id > this.#maxReceivedId) this.#maxReceivedId = update_id;
    }
  }

  /**
   * Whether a getUpdates with this offset could confirm anything the previous
   * one did not. It cannot when nothing was sent in this run (so nothing was
   * received) or when the offset is not above the previous one.
   *
   * Sending such a request is worse than useless: with the same offset as the
   * previous getUpdates, less than 3 s later and a timeout below 3, the Bot
   * API turns it into a 3 s long poll, so a graceful stop would take 3 s.
   */
  advances(offset: number | undefined): boolean {
    return this.#lastSentOffset !== undefined && (offset ?? 0) > this.#lastSentOffset;
  }

  /** What must still be confirmed for every update received in this run; undefined when nothing. */
  pendingConfirmation(): PendingConfirmation | undefined {
    if (this.#maxReceivedId === undefined) return undefined;
    const offset = this.#maxReceivedId + 1;
    if (this.#answeredOffset !== undefined && this.#answeredOffset >= offset) return undefined;
    return { offset, uncertain: this.#lastSentOffset === offset };
  }
}
