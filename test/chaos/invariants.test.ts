import { describe, expect, it } from "vitest";
import { scoreDelivery } from "../../chaos/delivery.js";
import { handoverGaps, summarizeGaps } from "../../chaos/handover-gaps.js";
import { checkInvariants, type RunRecords } from "../../chaos/invariants.js";
import { CHAT_ID, type SentMessage } from "../../chaos/message-pusher.js";
import type { Incarnation } from "../../chaos/replica-fleet.js";
import type { BotSnapshot, GetUpdatesRecord, ReplyRecord } from "../../src/testing/index.js";

// The chaos run's checks on made-up records: each invariant must catch what
// it is for, and let through what the run allows (a repeated batch after a
// crash, a 409 sent to a client that had gone, the example's own exit code).

const T0 = 1_000_000;

function call(seq: number, outcome: GetUpdatesRecord["outcome"], extra: Partial<GetUpdatesRecord> = {}): GetUpdatesRecord {
  return { seq, start: T0 + seq * 10, end: T0 + seq * 10 + 5, offset: 0, limit: 100, timeout: 30, throttled: { timeout: false, limit: false }, longPoll: true, outcome, params: {}, ...extra };
}

function reply(messageId: number, time = T0): ReplyRecord {
  return { method: "sendMessage", chatId: CHAT_ID, text: "echo", messageId: 9_000 + messageId, replyToMessageId: messageId, time };
}

function snapshot(getUpdates: GetUpdatesRecord[], replies: ReplyRecord[]): BotSnapshot {
  return {
    botId: "1",
    time: T0,
    getUpdates,
    updates: [],
    calls: [],
    replies,
    conflicts: { poller: 0, webhook: 0, "set-webhook": 0 },
    pollGaps: [],
    longestPollGapMs: 0,
    longPollPending: false,
    pendingUpdateCount: 0,
    webhookUrl: "",
    streams: [],
  };
}

function incarnation(id: string, fields: Partial<Incarnation> = {}): Incarnation {
  return {
    id,
    slot: 1,
    startedAt: T0,
    replica: undefined as never,
    lines: [],
    output: [],
    stderr: [],
    getUpdatesAt: [],
    methods: [],
    signals: [],
    phase: "exited",
    pollingSince: undefined,
    stopReason: undefined,
    exit: undefined,
    ...fields,
  };
}

const sent: SentMessage[] = [1, 2, 3].map((n) => ({ messageId: n, updateId: n, sentAt: T0 }));

function records(overrides: Partial<RunRecords> & { getUpdates?: GetUpdatesRecord[]; replies?: ReplyRecord[] }): RunRecords {
  const snap = snapshot(overrides.getUpdates ?? [call(1, { kind: "updates", updateIds: [1, 2, 3] })], overrides.replies ?? [reply(1), reply(2), reply(3)]);
  return {
    snapshot: snap,
    delivery: scoreDelivery(snap, sent),
    incarnations: [],
    deaf: [],
    hung: [],
    leaseLosingFaults: 0,
    confirmsBeforeHandling: false,
    startedAt: T0,
    ...overrides,
  };
}

const kinds = (r: RunRecords) => checkInvariants(r).map((v) => v.kind);

describe("checkInvariants", () => {
  it("passes a clean run", () => {
    expect(checkInvariants(records({}))).toEqual([]);
  });

  it("a 409 to a connected client is two pollers; to a client that had gone it is allowed", () => {
    const heard = call(2, { kind: "conflict", conflict: "poller", description: "Conflict" });
    const gone = call(3, { kind: "conflict", conflict: "poller", description: "Conflict" }, { clientGoneAt: T0 + 31 });
    const webhook = call(4, { kind: "conflict", conflict: "webhook", description: "Conflict" });
    expect(kinds(records({ getUpdates: [call(1, { kind: "updates", updateIds: [1, 2, 3] }), heard, gone, webhook] }))).toEqual(["two-pollers", "webhook-conflict"]);
  });

  it("an unanswered message is lost, unless a runner that had confirmed its batch was SIGKILLed holding it", () => {
    expect(kinds(records({ replies: [reply(1), reply(3)] }))).toEqual(["lost-update"]);
    // getUpdates #1 (delivering 1, 2, 3) reached the emulator at T0 + 10 from R1.1.
    const killedRunner = incarnation("R1.1", { getUpdatesAt: [T0 + 9], signals: [{ signal: "SIGKILL", at: T0 + 20, reason: "chaos" }] });
    const gracefulRunner = incarnation("R1.1", { getUpdatesAt: [T0 + 9], signals: [{ signal: "SIGTERM", at: T0 + 20, reason: "chaos" }] });
    expect(kinds(records({ replies: [reply(1), reply(3)], incarnations: [killedRunner], confirmsBeforeHandling: true }))).toEqual([]);
    expect(kinds(records({ replies: [reply(1), reply(3)], incarnations: [killedRunner], confirmsBeforeHandling: false }))).toEqual(["lost-update"]);
    expect(kinds(records({ replies: [reply(1), reply(3)], incarnations: [gracefulRunner], confirmsBeforeHandling: true }))).toEqual(["lost-update"]);
  });

  it("duplicates: one batch per killed poller or lost lease, none otherwise", () => {
    const twoBatches = [call(1, { kind: "updates", updateIds: [1, 2] }), call(2, { kind: "updates", updateIds: [3] }), call(3, { kind: "updates", updateIds: [1, 2, 3] })];
    const duplicated = [reply(1), reply(2), reply(3), reply(1), reply(3)];
    const killedPoller = incarnation("R1.1", { getUpdatesAt: [T0], signals: [{ signal: "SIGKILL", at: T0 + 1, reason: "chaos" }] });
    const lostLease = incarnation("R2.1", { lines: [{ at: T0, text: "[polling-supervisor x] lock lost (refused); polling stopped" }] });
    expect(kinds(records({ getUpdates: twoBatches, replies: duplicated }))).toEqual(["duplicate-without-crash"]);
    expect(kinds(records({ getUpdates: twoBatches, replies: duplicated, incarnations: [killedPoller] }))).toEqual(["duplicate-without-crash"]);
    expect(kinds(records({ getUpdates: twoBatches, replies: duplicated, incarnations: [killedPoller, lostLease] }))).toEqual([]);
    // A stopping replica's closing getUpdates({ offset, limit: 1 }) carries update 1 without handling it (#1); the next
    // poller answers it from #2 and is killed; the one after answers it again from #3. One batch repeated, one kill.
    const closing = [call(1, { kind: "updates", updateIds: [1] }), call(2, { kind: "updates", updateIds: [1, 2, 3] }), call(3, { kind: "updates", updateIds: [1] })];
    const answeredTwice = [reply(1, T0 + 30), reply(2, T0 + 30), reply(3, T0 + 30), reply(1, T0 + 40)];
    expect(scoreDelivery(snapshot(closing, answeredTwice), sent).duplicatesByBatch).toEqual([{ batch: 2, messages: 1 }]);
    expect(kinds(records({ getUpdates: closing, replies: answeredTwice, incarnations: [killedPoller] }))).toEqual([]);
    // A SIGKILL before the replica ever polled repeats nothing, so it allows nothing.
    const killedWaiter = incarnation("R3.1", { getUpdatesAt: [], signals: [{ signal: "SIGKILL", at: T0, reason: "chaos" }] });
    expect(kinds(records({ getUpdates: twoBatches, replies: [reply(1), reply(2), reply(3), reply(1)], incarnations: [killedWaiter] }))).toEqual(["duplicate-without-crash"]);
  });

  it("a deaf replica, an unhandled rejection, an exit nobody asked for and a hung SIGTERM are each reported", () => {
    const crashed = incarnation("R1.1", { lines: [{ at: T0, text: "Node.js v20.20.2" }], exit: { code: 1, signal: null, at: T0 } });
    const unhandled = incarnation("R1.2", { lines: [{ at: T0, text: "[UnhandledPromiseRejection: This error originated ...]" }] });
    const abort = incarnation("R1.3", { exit: { code: 134, signal: null, at: T0 } });
    const killedByOthers = incarnation("R1.4", { exit: { code: null, signal: "SIGSEGV", at: T0 } });
    const ownExit = incarnation("R1.5", { exit: { code: 1, signal: null, at: T0 } });
    const asked = incarnation("R1.6", { signals: [{ signal: "SIGKILL", at: T0, reason: "chaos" }], exit: { code: null, signal: "SIGKILL", at: T0 } });
    const runnerLog = incarnation("R1.7", { lines: [{ at: T0, text: "    at async worker (/x/node_modules/@grammyjs/runner/out/source.js:63:31)" }] });
    const hung = incarnation("R1.8", { lines: [{ at: T0, text: "SIGTERM received: stopping gracefully" }] });
    const result = kinds(
      records({
        incarnations: [crashed, unhandled, abort, killedByOthers, ownExit, asked, runnerLog, hung],
        deaf: [{ id: "R2.1", silentMs: 9_000, at: T0, lastLine: "polling started (grammy)" }],
        hung: [hung],
      }),
    );
    expect(result.sort()).toEqual(["crash", "crash", "crash", "crash", "deaf-replica", "hung-on-sigterm"].sort());
  });
});

describe("handoverGaps", () => {
  it("measures from the last getUpdates of anyone else to a new poller's first, and names how the previous turn ended", () => {
    const a = incarnation("R1.1", { getUpdatesAt: [100, 200, 300], signals: [{ signal: "SIGTERM", at: 310, reason: "chaos" }] });
    const b = incarnation("R2.1", { getUpdatesAt: [450, 500], signals: [{ signal: "SIGKILL", at: 510, reason: "chaos" }] });
    const c = incarnation("R3.1", { getUpdatesAt: [2_500] });
    const late = incarnation("R1.2", { getUpdatesAt: [9_000] });
    const gaps = handoverGaps([c, a, b, late], 5_000);
    expect(gaps).toEqual([
      { ms: 150, cause: "graceful", from: "R1.1", to: "R2.1" },
      { ms: 2_000, cause: "crash", from: "R2.1", to: "R3.1" },
    ]);
    expect(summarizeGaps(gaps)).toEqual({ count: 2, medianMs: 150, p95Ms: 2_000, maxMs: 2_000 });
    expect(summarizeGaps([])).toEqual({ count: 0, medianMs: null, p95Ms: null, maxMs: null });
  });
});
