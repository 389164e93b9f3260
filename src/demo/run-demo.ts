import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBotApiEmulator, type BotApiEmulator, type BotControl } from "../testing/index.js";
import { startReplica, killAll, type Replica } from "./replica-process.js";
import { pollGapAfter, scoreRun, type Score } from "./scoreboard.js";

const SUPERVISED = "examples/grammy-file-lock.ts";
const UNSUPERVISED = "examples/unsupervised-grammy.ts";
const RATE_PER_SECOND = 50;

/** Where the demo runs and writes. */
export interface DemoOptions {
  /** The repository root, where `examples/` lives. */
  readonly root: string;
  readonly write: (line: string) => void;
}

interface PhaseResult {
  readonly score: Score;
  readonly gaps: readonly { readonly label: string; readonly ms: number | null }[];
  readonly problems: readonly string[];
}

/**
 * The main job: the grammY example under the default file lock against an
 * embedded emulator: a graceful handover, a crash takeover, then two
 * unsupervised instances for contrast. Resolves with the exit code: 1 when
 * the supervised run broke an invariant.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  if (!existsSync(join(options.root, SUPERVISED))) {
    options.write(`The demo runs from a clone of the repository (it starts ${SUPERVISED}): git clone, npm install, npm run demo.`);
    return 2;
  }
  const emulator = await createBotApiEmulator();
  const started = performance.now();
  const say = (who: string, text: string) =>
    options.write(`${`+${((performance.now() - started) / 1000).toFixed(1)}s`.padStart(7)}  ${who.padEnd(9)} ${text}`);
  const replicas: Replica[] = [];
  try {
    say("demo", `Bot API emulator at ${emulator.apiRoot}; messages arrive at ${RATE_PER_SECOND}/s`);
    const supervised = await supervisedPhase(emulator, options.root, say, replicas);
    await killAll(replicas);
    const unsupervised = await unsupervisedPhase(emulator, options.root, say, replicas);
    printSummary(options.write, supervised, unsupervised);
    if (supervised.problems.length > 0) {
      options.write(`\nINVARIANT BROKEN in the supervised run:\n${supervised.problems.map((p) => `  - ${p}`).join("\n")}`);
      return 1;
    }
    options.write("\nSupervised: every message answered, none twice beyond the crash allowance, no 409 heard by a live poller.");
    return 0;
  } finally {
    await killAll(replicas);
    await emulator.close();
  }
}

type Say = (who: string, text: string) => void;

async function supervisedPhase(emulator: BotApiEmulator, root: string, say: Say, replicas: Replica[]): Promise<PhaseResult> {
  say("demo", "--- supervised: grammY + polling-supervisor, default file lock ---");
  const token = demoToken();
  const bot = emulator.registerBot(token);
  const lockDir = mkdtempSync(join(tmpdir(), "polling-supervisor-demo-"));
  const env = { BOT_TOKEN: token, BOT_API_ROOT: emulator.apiRoot, LOCK_DIR: lockDir };
  const start = (name: string) => {
    const replica = startReplica(name, SUPERVISED, env, root, (line) => say(name, line.replace(/^\[polling-supervisor \w+\] /, "")));
    replicas.push(replica);
    return replica;
  };
  try {
    const a = start("A");
    await a.waitForLine(/polling started/);
    const b = start("B");
    await b.waitForLine(/standby/);
    const pusher = pushMessages(bot);
    await sleep(3_000);

    say("demo", "SIGTERM -> A (a deploy replaces it)");
    const termAt = now();
    a.child.kill("SIGTERM");
    await b.waitForLine(/polling started/);
    await a.exited;
    const c = start("C");
    await c.waitForLine(/standby/);
    await sleep(2_500);

    say("demo", "SIGKILL -> B (it crashes)");
    const killAt = now();
    b.child.kill("SIGKILL");
    await c.waitForLine(/polling started/);
    await sleep(2_500);
    const messageIds = pusher.stop();
    say("demo", `stopped sending after ${messageIds.length} messages; waiting for answers`);
    await bot.waitFor((s) => scoreRun(s, messageIds).lost === 0, { timeoutMs: 10_000 }).catch(() => undefined);
    c.child.kill("SIGTERM");
    await c.exited;

    const snapshot = bot.snapshot();
    const score = scoreRun(snapshot, messageIds);
    const leftovers = readdirSync(lockDir);
    const problems = [
      ...(score.lost > 0 ? [`${score.lost} messages never answered`] : []),
      ...(score.heardConflicts > 0 ? [`${score.heardConflicts} 409 answers reached a live poller (two pollers at once)`] : []),
      ...(score.duplicated > score.largestBatch ? [`${score.duplicated} duplicate answers, more than one batch (${score.largestBatch})`] : []),
      ...(leftovers.length > 0 ? [`lock files left after every instance exited: ${leftovers.join(", ")}`] : []),
    ];
    return {
      score,
      gaps: [
        { label: "graceful handover (SIGTERM A -> B polls)", ms: pollGapAfter(snapshot, termAt) },
        { label: "crash takeover (SIGKILL B -> C polls)", ms: pollGapAfter(snapshot, killAt) },
      ],
      problems,
    };
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

async function unsupervisedPhase(emulator: BotApiEmulator, root: string, say: Say, replicas: Replica[]): Promise<PhaseResult> {
  say("demo", "--- unsupervised: two plain grammY bot.start() on one token ---");
  const token = demoToken();
  const bot = emulator.registerBot(token);
  const env = { BOT_TOKEN: token, BOT_API_ROOT: emulator.apiRoot };
  const start = (name: string) => {
    const replica = startReplica(name, UNSUPERVISED, env, root, (line) => say(name, line));
    replicas.push(replica);
    return replica;
  };
  const u1 = start("U1");
  await u1.waitForLine(/polling started/);
  const u2 = start("U2");
  await u2.waitForLine(/polling started/);
  const pusher = pushMessages(bot);
  await u1.waitForLine(/polling stopped/, 10_000).catch(() => undefined);
  await sleep(2_500);
  say("demo", "SIGTERM -> U2 (a deploy replaces it); U1 is still running");
  const termAt = now();
  u2.child.kill("SIGTERM");
  await u2.exited;
  await sleep(2_500);
  const messageIds = pusher.stop();
  say("demo", `stopped sending after ${messageIds.length} messages`);
  await sleep(1_500);
  const snapshot = bot.snapshot();
  return {
    score: scoreRun(snapshot, messageIds),
    gaps: [{ label: "after the deploy (SIGTERM U2 -> U1 polls)", ms: pollGapAfter(snapshot, termAt) }],
    problems: [],
  };
}

function printSummary(write: (line: string) => void, supervised: PhaseResult, unsupervised: PhaseResult): void {
  const rows: [string, (r: PhaseResult) => string][] = [
    ["messages sent", (r) => String(r.score.sent)],
    ["answered", (r) => String(r.score.handled)],
    ["answered twice", (r) => String(r.score.duplicated)],
    ["lost (never answered)", (r) => String(r.score.lost)],
    ["409 answers", (r) => String(r.score.conflicts)],
    ["409s heard by a live poller", (r) => String(r.score.heardConflicts)],
  ];
  const gapRows = (r: PhaseResult) => r.gaps.map((g) => [g.label, g.ms === null ? "never" : `${Math.round(g.ms)} ms`] as const);
  write("\nSummary");
  write(`| ${"".padEnd(42)} | ${"supervised".padStart(10)} | ${"unsupervised".padStart(12)} |`);
  write(`|${"-".repeat(44)}|${"-".repeat(12)}|${"-".repeat(14)}|`);
  for (const [label, value] of rows) {
    write(`| ${label.padEnd(42)} | ${value(supervised).padStart(10)} | ${value(unsupervised).padStart(12)} |`);
  }
  for (const [label, value] of gapRows(supervised)) write(`| ${label.padEnd(42)} | ${value.padStart(10)} | ${"".padStart(12)} |`);
  for (const [label, value] of gapRows(unsupervised)) write(`| ${label.padEnd(42)} | ${"".padStart(10)} | ${value.padStart(12)} |`);
}

/** Pushes a text message every 1/RATE s until stopped; returns the message ids pushed. */
function pushMessages(bot: BotControl): { stop(): number[] } {
  const ids: number[] = [];
  let n = 0;
  const timer = setInterval(() => {
    n += 1;
    const update = bot.pushMessage({ text: `message #${n}` });
    const message = update?.["message"] as { message_id: number } | undefined;
    if (message) ids.push(message.message_id);
  }, 1000 / RATE_PER_SECOND);
  return {
    stop() {
      clearInterval(timer);
      return ids;
    },
  };
}

function demoToken(): string {
  return `${100_000 + Math.floor(Math.random() * 900_000)}:${randomBytes(27).toString("base64url").slice(0, 35)}`;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
