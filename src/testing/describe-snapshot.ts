import type { BotSnapshot } from "./control-types.js";

/** A one-line summary of a snapshot, for the message of a wait that timed out. */
export function describeSnapshot(snapshot: BotSnapshot): string {
  const last = snapshot.getUpdates.at(-1);
  return [
    `bot ${snapshot.botId}`,
    `${snapshot.getUpdates.length} getUpdates (last: ${last === undefined ? "none" : last.outcome.kind})`,
    `${snapshot.updates.length} updates pushed, ${snapshot.pendingUpdateCount} pending`,
    `${snapshot.replies.length} replies`,
    `409s ${JSON.stringify(snapshot.conflicts)}`,
    `long poll ${snapshot.longPollPending ? "pending" : "not pending"}`,
    `webhook "${snapshot.webhookUrl}"`,
  ].join("; ");
}
