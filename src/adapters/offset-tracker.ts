/**
 * Knows which updates of one polling run the Bot API has been told about.
 *
 * An update is confirmed by any getUpdates whose `offset` is higher than its
 * id, at the moment the server receives that request. So the offset of the
 * newest getUpdates sent is what is confirmed, and the highest update id the
 * framework received and handled says what must be confirmed before the lock
 * is released.
 */
export class OffsetTracker {
  /** Offset of the newest getUpdates sent in this run (the server's "previous offset"). */
  #lastSentOffset: number | undefined;
  /** Highest update_id received (or, where the loop may drop the rest of a batch, handled) in this run. */
  #maxReceivedId: number | undefined;

  /** Records a getUpdates about to be sent. */
  noteSent(offset: number | undefined): void {
    this.#lastSentOffset = offset ?? 0;
  }

  /** Records updates the framework's loop received and will handle, or has handled. */
  noteReceived(updates: readonly { readonly update_id: number }[]): void {
    for (const { update_id } of updates) {
      if (this.#maxReceivedId === undefined || update_id > this.#maxReceivedId) this.#maxReceivedId = update_id;
    }
  }

  get lastSentOffset(): number | undefined {
    return this.#lastSentOffset;
  }

  /**
   * Whether a getUpdates with this offset would confirm anything the previous
   * one did not. It does not when nothing was sent in this run (nothing was
   * received either) or when the offset is not above the previous one.
   *
   * Sending such a request is not just useless: with the same offset as the
   * previous getUpdates, less than 3 s later and a timeout below 3, the Bot
   * API turns it into a 3 s long poll, so a graceful stop would take 3 s.
   */
  advances(offset: number | undefined): boolean {
    return this.#lastSentOffset !== undefined && (offset ?? 0) > this.#lastSentOffset;
  }

  /**
   * The offset that confirms every update received in this run, when the
   * getUpdates sent so far have not confirmed them all; otherwise undefined.
   *
   * The in-flight long poll that a stop aborts counts as sent: it was on the
   * wire long enough to reach the server in every case but a stop within the
   * same instant it was sent. Repeating its offset would confirm nothing
   * more in all the other cases, and would pay the same-offset throttle.
   */
  pendingConfirmOffset(): number | undefined {
    if (this.#maxReceivedId === undefined) return undefined;
    const needed = this.#maxReceivedId + 1;
    return this.advances(needed) ? needed : undefined;
  }
}
