import type { BotSnapshot } from "../src/testing/index.js";
import { CHAT_ID, type SentMessage } from "./message-pusher.js";

/** What happened to the messages users sent, from the emulator's records. */
export interface Delivery {
  readonly sent: number;
  /** Messages answered at least once (a reply quoting them). */
  readonly handled: number;
  /** Replies beyond the first, summed over messages. */
  readonly duplicated: number;
  readonly lost: number;
  /** Update ids never answered (the first few). */
  readonly lostUpdateIds: readonly number[];
  /** Every update never answered, with the getUpdates answer that first delivered it (undefined: never delivered). */
  readonly lostDeliveries: readonly { readonly updateId: number; readonly batch: number | undefined }[];
  /**
   * How many getUpdates answers the duplicated messages were first
   * delivered in: a crash can repeat the batch it was handling, one batch per lost lease.
   */
  readonly duplicateBatches: number;
  /** The largest getUpdates answer of the run, in updates. */
  readonly largestBatch: number;
  /** For each batch that duplicated messages: its getUpdates seq and how many of its messages were answered twice or more. */
  readonly duplicatesByBatch: readonly { readonly batch: number; readonly messages: number }[];
}

export function scoreDelivery(snapshot: BotSnapshot, sent: readonly SentMessage[]): Delivery {
  const answers = new Map<number, number>();
  for (const reply of snapshot.replies) {
    if (reply.replyToMessageId === undefined || Number(reply.chatId) !== CHAT_ID) continue;
    answers.set(reply.replyToMessageId, (answers.get(reply.replyToMessageId) ?? 0) + 1);
  }
  const firstBatch = new Map<number, number>();
  let largestBatch = 0;
  for (const call of snapshot.getUpdates) {
    if (call.outcome.kind !== "updates") continue;
    largestBatch = Math.max(largestBatch, call.outcome.updateIds.length);
    for (const id of call.outcome.updateIds) if (!firstBatch.has(id)) firstBatch.set(id, call.seq);
  }
  let handled = 0;
  let duplicated = 0;
  const lostUpdateIds: number[] = [];
  const lostDeliveries: { updateId: number; batch: number | undefined }[] = [];
  const batches = new Map<number, number>();
  for (const message of sent) {
    const count = answers.get(message.messageId) ?? 0;
    if (count === 0) {
      lostUpdateIds.push(message.updateId);
      lostDeliveries.push({ updateId: message.updateId, batch: firstBatch.get(message.updateId) });
    } else {
      handled += 1;
    }
    if (count > 1) {
      duplicated += count - 1;
      const batch = firstBatch.get(message.updateId) ?? -message.updateId;
      batches.set(batch, (batches.get(batch) ?? 0) + 1);
    }
  }
  return {
    sent: sent.length,
    handled,
    duplicated,
    lost: sent.length - handled,
    lostUpdateIds: lostUpdateIds.slice(0, 20),
    lostDeliveries,
    duplicateBatches: batches.size,
    largestBatch,
    duplicatesByBatch: [...batches].map(([batch, messages]) => ({ batch, messages })),
  };
}
