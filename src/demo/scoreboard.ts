import type { BotSnapshot } from "../testing/index.js";

/** What a run did to the messages users sent, read from the emulator's records. */
export interface Score {
  /** Messages pushed. */
  readonly sent: number;
  /** Messages answered at least once. */
  readonly handled: number;
  /** Answers beyond the first, summed over messages. */
  readonly duplicated: number;
  /** Messages never answered. */
  readonly lost: number;
  /** 409 answers sent by the Bot API, to anyone. */
  readonly conflicts: number;
  /** 409 answers a live client received: two pollers at once. */
  readonly heardConflicts: number;
  /** The largest batch one getUpdates delivered (a crash may repeat at most that many). */
  readonly largestBatch: number;
}

/** Scores a bot's records: `messageIds` are the messages pushed, answered by replies that quote them. */
export function scoreRun(snapshot: BotSnapshot, messageIds: readonly number[]): Score {
  const answers = new Map<number, number>();
  for (const reply of snapshot.replies) {
    if (reply.replyToMessageId !== undefined) answers.set(reply.replyToMessageId, (answers.get(reply.replyToMessageId) ?? 0) + 1);
  }
  let handled = 0;
  let duplicated = 0;
  for (const id of messageIds) {
    const count = answers.get(id) ?? 0;
    if (count > 0) handled += 1;
    duplicated += Math.max(0, count - 1);
  }
  const conflicts = snapshot.conflicts.poller + snapshot.conflicts.webhook + snapshot.conflicts["set-webhook"];
  const heardConflicts = snapshot.getUpdates.filter((g) => g.outcome.kind === "conflict" && g.clientGoneAt === undefined).length;
  const largestBatch = Math.max(0, ...snapshot.getUpdates.map((g) => (g.outcome.kind === "updates" ? g.outcome.updateIds.length : 0)));
  return { sent: messageIds.length, handled, duplicated, lost: messageIds.length - handled, conflicts, heardConflicts, largestBatch };
}

/**
 * Milliseconds from `since` (epoch ms) to the first long poll (a getUpdates
 * sent with `timeout > 0`) that arrived after it, or `null` if none did. A
 * stopping instance's offset confirmation is sent with `timeout=0` and does not count.
 */
export function pollGapAfter(snapshot: BotSnapshot, since: number): number | null {
  const next = snapshot.getUpdates.find((g) => g.start > since && Number(g.params["timeout"] ?? 0) > 0);
  return next ? next.start - since : null;
}
