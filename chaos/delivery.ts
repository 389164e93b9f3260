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
  /** Every update never answered, with the getUpdates answer that last delivered it (undefined: never delivered). */
  readonly lostDeliveries: readonly { readonly updateId: number; readonly batch: number | undefined }[];
  /**
   * How many getUpdates answers the duplicated messages were first answered
   * from: a crash can repeat the batch it was handling, one batch per lost lease.
   */
  readonly duplicateBatches: number;
  /** The largest getUpdates answer of the run, in updates. */
  readonly largestBatch: number;
  /** For each batch that duplicated messages: its getUpdates seq and how many of its messages were answered twice or more. */
  readonly duplicatesByBatch: readonly { readonly batch: number; readonly messages: number }[];
}

export function scoreDelivery(snapshot: BotSnapshot, sent: readonly SentMessage[]): Delivery {
  const replyTimes = new Map<number, number[]>();
  for (const reply of snapshot.replies) {
    if (reply.replyToMessageId === undefined || Number(reply.chatId) !== CHAT_ID) continue;
    replyTimes.set(reply.replyToMessageId, [...(replyTimes.get(reply.replyToMessageId) ?? []), reply.time]);
  }
  // Every answer that carried each update, in order. A stopping framework's last getUpdates({ offset, limit: 1 })
  // carries one update it does not handle, so "the batch" of an update is not simply its first delivery.
  const deliveries = new Map<number, { seq: number; end: number }[]>();
  let largestBatch = 0;
  for (const call of snapshot.getUpdates) {
    if (call.outcome.kind !== "updates") continue;
    largestBatch = Math.max(largestBatch, call.outcome.updateIds.length);
    for (const id of call.outcome.updateIds) deliveries.set(id, [...(deliveries.get(id) ?? []), { seq: call.seq, end: call.end ?? call.start }]);
  }
  let handled = 0;
  let duplicated = 0;
  const lostUpdateIds: number[] = [];
  const lostDeliveries: { updateId: number; batch: number | undefined }[] = [];
  const batches = new Map<number, number>();
  for (const message of sent) {
    const times = replyTimes.get(message.messageId) ?? [];
    const carried = deliveries.get(message.updateId) ?? [];
    if (times.length === 0) {
      lostUpdateIds.push(message.updateId);
      // Lost: the replica that received it last confirmed it (by asking for more) and never answered.
      lostDeliveries.push({ updateId: message.updateId, batch: carried.at(-1)?.seq });
    } else {
      handled += 1;
    }
    if (times.length > 1) {
      duplicated += times.length - 1;
      // Repeated: the batch it was first answered from, the last one to carry it before that answer.
      const firstAnswer = Math.min(...times);
      const batch = [...carried].reverse().find((d) => d.end <= firstAnswer)?.seq ?? carried[0]?.seq ?? -message.updateId;
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
