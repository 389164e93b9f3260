import { randomBytes } from "node:crypto";
import { createBotApiEmulator, type BotSnapshot } from "../src/testing/index.js";
import { redactTokens } from "../src/token.js";
import { unleashChaos, type ChaosAction } from "./chaos-monkey.js";
import { watchForDeafReplicas } from "./deaf-monitor.js";
import { scoreDelivery } from "./delivery.js";
import { handoverGaps, summarizeGaps, type HandoverCause } from "./handover-gaps.js";
import { checkInvariants, lostInFlightOnCrash, senderOf, type RunRecords } from "./invariants.js";
import { pushMessages } from "./message-pusher.js";
import { createRandom } from "./random.js";
import { ReplicaFleet, type Incarnation } from "./replica-fleet.js";
import type { ChaosReport } from "./report.js";
import { createFileStore } from "./stores/file-store.js";
import { createPostgresStore } from "./stores/postgres-store.js";
import { createRedisStore } from "./stores/redis-store.js";
import type { BackendKind, ChaosStore } from "./stores/types.js";

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  readonly backend: BackendKind;
  /** The repository root, where `examples/` lives. */
  readonly root: string;
  /** How long to inject faults, ms. Start-up, drain and the final stop come on top. */
  readonly durationMs: number;
  /** @default 3 */
  readonly replicas?: number;
  /** Messages per second. @default 20 */
  readonly ratePerSecond?: number;
  /** @default random */
  readonly seed?: number;
  /** The bot token; a fresh random one by default. */
  readonly token?: string;
  /** Pause between two faults, ms. @default [1000, 3000] */
  readonly intervalMs?: readonly [number, number];
  /**
   * Run this script instead of the backend's example (relative to `root`);
   * the harness's own tests use the unsupervised example to show that the
   * checks catch two pollers. @default the backend's example
   */
  readonly script?: string;
  /** One line per event, for a progress log; token-free. */
  readonly log?: (line: string) => void;
  /** Called with the store while a lease is held (after start-up, after each fault, before the final stop). */
  readonly onStoreSample?: (contents: readonly string[]) => void;
}

/** A run's report, and what the token scan reads. */
export interface ChaosRun {
  readonly report: ChaosReport;
  /** Every byte each replica wrote. */
  readonly replicaOutput: readonly string[];
  /** The emulator's records at the end. */
  readonly snapshot: BotSnapshot;
}

/** How long a second of a getUpdates `timeout` lasts in the emulator: a 30 s long poll takes 3 s. */
const LONG_POLL_SECOND_MS = 100;
/** What the deaf check allows on top of the long-poll timeout (a busy 2-core machine). */
const DEAF_MARGIN_MS = 3_000;
/** How long a SIGTERMed replica may take to exit: the supervisor's drainTimeoutMs (30 s) and some. */
const STOP_GRACE_MS = 35_000;

/**
 * One chaos run against one lock backend: real replica processes of the
 * backend's example against an in-process emulator, a steady stream of
 * messages, random SIGTERMs, SIGKILLs and store faults for `durationMs`,
 * then a drain, a graceful stop of everyone, and the invariant checks.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosRun> {
  const seed = options.seed ?? randomBytes(4).readUInt32BE(0);
  const random = createRandom(seed);
  const size = options.replicas ?? 3;
  const ratePerSecond = options.ratePerSecond ?? 20;
  const token = options.token ?? randomToken();
  const startedAt = now();
  const timeline: string[] = [];
  const note = (text: string, at = now()) => {
    const line = `+${((at - startedAt) / 1000).toFixed(1).padStart(5)}s ${redactTokens(text)}`;
    timeline.push(line);
    options.log?.(line);
  };

  const emulator = await createBotApiEmulator({ bots: [token], timing: { longPollSecondMs: LONG_POLL_SECOND_MS } });
  const bot = emulator.bot(token);
  const store = await openStore(options);
  const sample = async () => options.onStoreSample?.(await store.contents().catch(() => []));
  const fleet = new ReplicaFleet({
    root: options.root,
    script: options.script ?? store.example,
    size,
    env: { BOT_TOKEN: token, ...store.env() },
    emulatorPort: Number(new URL(emulator.apiRoot).port),
    random,
    restartDelayMs: [200, 1500],
    healthCheckMs: 2_000,
    onEvent: (incarnation, text) => {
      if (isMilestone(text)) note(`${incarnation.id} ${text.replace(/^\[polling-supervisor \w+\] /, "")}`);
    },
  });
  const example = options.script ?? store.example;
  note(`${store.kind}: ${size} replicas of ${example}, ${ratePerSecond} messages/s, seed ${seed}`);

  try {
    await fleet.startAll();
    await waitUntil(() => fleet.poller() !== undefined, 60_000, "no replica started polling");
    await sample();
    const deafWatch = watchForDeafReplicas(fleet, store.longPollTimeoutSeconds * LONG_POLL_SECOND_MS + DEAF_MARGIN_MS);
    const pusher = pushMessages(bot, ratePerSecond);
    const chaosStart = now();
    const monkey = unleashChaos({
      fleet,
      store,
      random,
      intervalMs: options.intervalMs ?? [1000, 3000],
      pollerBias: 0.6,
      onAction: (action) => {
        note(describeAction(action), action.at);
        if (action.kind === "store-fault") void sample();
      },
    });
    await sleep(options.durationMs);
    await monkey.stop();
    const chaosDurationMs = Math.round(now() - chaosStart);
    note("chaos over: restarting what is down, then draining");

    await fleet.settled();
    const drainedBy = now() + 60_000;
    await waitUntil(() => fleet.poller() !== undefined, 60_000, "no replica polls after the chaos").catch((e: Error) => note(e.message));
    pusher.stop();
    // Until every message is answered, except those a SIGKILLed runner had in flight (they never will be).
    const confirmsBeforeHandling = store.confirmsBeforeHandling && options.script === undefined;
    const unanswerable = (snapshot: BotSnapshot) => {
      const records = { snapshot, incarnations: fleet.incarnations, confirmsBeforeHandling } as const;
      return scoreDelivery(snapshot, pusher.sent).lostDeliveries.filter((l) => !lostInFlightOnCrash(l.batch, records)).length;
    };
    await waitUntil(() => unanswerable(bot.snapshot()) === 0, Math.max(0, drainedBy - now()), "").catch(() =>
      note("drain: some messages are still unanswered"),
    );
    await sample();
    const finalStopAt = now();
    note("final stop: SIGTERM to every replica");
    const deaf = deafWatch.stop();
    const hung = await fleet.stopAll(STOP_GRACE_MS);

    const snapshot = bot.snapshot();
    const delivery = scoreDelivery(snapshot, pusher.sent);
    const actions = monkey.actions;
    const gaps = handoverGaps(fleet.incarnations, finalStopAt);
    const records: RunRecords = {
      snapshot,
      delivery,
      incarnations: fleet.incarnations,
      deaf,
      hung,
      leaseLosingFaults: actions.filter((a) => a.fault?.mayLoseLease).length,
      confirmsBeforeHandling,
      startedAt,
    };
    const violations = checkInvariants(records);
    for (const violation of violations) note(`VIOLATION ${violation.kind}: ${violation.detail}`);
    const byCause: Partial<Record<HandoverCause, ReturnType<typeof summarizeGaps>>> = {};
    for (const cause of new Set(gaps.map((g) => g.cause))) byCause[cause] = summarizeGaps(gaps.filter((g) => g.cause === cause));
    const report: ChaosReport = {
      backend: store.kind,
      example,
      seed,
      startedAt: new Date(startedAt).toISOString(),
      chaosDurationMs,
      totalDurationMs: Math.round(now() - startedAt),
      replicas: size,
      ratePerSecond,
      kills: actions.filter((a) => a.kind === "sigkill").length,
      killsOfPoller: actions.filter((a) => a.kind === "sigkill" && a.targetWasPolling).length,
      gracefulStops: actions.filter((a) => a.kind === "sigterm").length,
      gracefulStopsOfPoller: actions.filter((a) => a.kind === "sigterm" && a.targetWasPolling).length,
      storeFaults: countBy(actions.filter((a) => a.fault && !a.error).map((a) => a.fault!.kind)),
      restarts: fleet.restarts,
      healthReplacements: fleet.healthReplacements,
      updates: {
        sent: delivery.sent,
        handled: delivery.handled,
        duplicated: delivery.duplicated,
        duplicateBatches: delivery.duplicateBatches,
        lost: delivery.lost,
        lostInFlightOnCrash: delivery.lostDeliveries.filter((l) => lostInFlightOnCrash(l.batch, records)).length,
        largestBatch: delivery.largestBatch,
      },
      handoverGaps: { ...summarizeGaps(gaps), byCause },
      conflicts: {
        answered: snapshot.conflicts.poller + snapshot.conflicts.webhook + snapshot.conflicts["set-webhook"],
        heardByLiveClient: snapshot.getUpdates.filter((g) => g.outcome.kind === "conflict" && g.clientGoneAt === undefined).length,
      },
      runEnds: countBy(fleet.incarnations.map(runEnd)),
      duplicateBatches: delivery.duplicatesByBatch.slice(0, 50).map(({ batch, messages }) => {
        const call = snapshot.getUpdates.find((g) => g.seq === batch);
        const to = call ? senderOf(call.start, fleet.incarnations) : undefined;
        return {
          atS: call ? Math.round((call.start - startedAt) / 100) / 10 : -1,
          size: call?.outcome.kind === "updates" ? call.outcome.updateIds.length : 0,
          duplicated: messages,
          to: to?.id ?? "unknown",
          toEnded: to ? howItEnded(to) : "unknown",
        };
      }),
      violations,
      timeline,
    };
    return { report, replicaOutput: fleet.incarnations.flatMap((i) => i.output), snapshot };
  } finally {
    await fleet.close();
    await emulator.close();
    await store.close();
  }
}

function openStore(options: ChaosOptions): Promise<ChaosStore> {
  switch (options.backend) {
    case "file":
      return Promise.resolve(createFileStore());
    case "redis":
      return createRedisStore();
    case "postgres":
      return createPostgresStore();
  }
}

function describeAction(action: ChaosAction): string {
  if (action.kind === "store-fault") return `FAULT ${action.fault?.kind}: ${action.error ?? action.fault?.detail}`;
  return `${action.kind.toUpperCase()} -> ${action.target}${action.targetWasPolling ? " (the poller)" : ""}`;
}

function isMilestone(text: string): boolean {
  return /polling started|lock lost|conflict \(|stopped \(|exited|^started$|Error|ERR|Unhandled|[A-Z_]{6,}: /.test(text);
}

/** The signals it got and its log's end, e.g. `SIGKILL (chaos)` or `SIGTERM (chaos), stopped`. */
function howItEnded(incarnation: Incarnation): string {
  const signals = incarnation.signals.map((s) => `${s.signal} (${s.reason})`);
  return [...signals, ...(incarnation.stopReason ? [incarnation.stopReason] : [])].join(", ") || "running";
}

function runEnd(incarnation: Incarnation): string {
  if (incarnation.stopReason) return incarnation.stopReason;
  if (incarnation.exit?.signal === "SIGKILL") return "killed";
  if (incarnation.exit?.signal === "SIGTERM") return "stopped";
  return incarnation.exit ? `exit ${String(incarnation.exit.code)}` : "running";
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** A well-formed token for a bot id no test uses (900000000 and up). */
function randomToken(): string {
  return `${900_000_000 + randomBytes(3).readUIntBE(0, 3)}:${randomBytes(27).toString("base64url").slice(0, 35)}`;
}

async function waitUntil(condition: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!condition()) {
    if (now() > deadline) throw new Error(message);
    await sleep(100);
  }
}

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
