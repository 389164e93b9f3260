/**
 * Turns bench results into figures, goal verdicts, the console table and
 * the README section. Pure functions of {@link BenchResults}.
 */
import type { BenchResults } from "./results.js";
import { formatMs, summarize, type Summary } from "./stats.js";

export const README_START = "<!-- bench:start -->";
export const README_END = "<!-- bench:end -->";

/** One timing figure: a label and its samples' summary. */
export interface Figure {
  readonly group: "graceful" | "sigterm" | "crash" | "baseline";
  readonly label: string;
  /** A shorter label for the chart. */
  readonly chartLabel?: string;
  readonly summary: Summary;
  /** The goal it is held to, if any, as text (`p95 <= 15 ms`), and its p95 bound. */
  readonly goal?: string;
  readonly targetMs?: number;
  readonly met?: boolean;
}

export interface GoalVerdict {
  readonly goal: string;
  readonly measured: string;
  /** null when the run did not measure it (a suite failed or was skipped). */
  readonly met: boolean | null;
  /** By how much and why, for a missed goal; what it rests on, for a met one. */
  readonly note: string;
}

const GRACEFUL_P95_MS: Readonly<Record<string, number>> = { memory: 15, file: 50, redis: 15, postgres: 15 };
const CRASH_P95_MS: Readonly<Record<string, number>> = { file: 250, postgres: 250 };
const DEFAULT_TTL_MS = 10_000;

const nonNull = (values: readonly (number | null | undefined)[]): number[] => values.filter((v): v is number => typeof v === "number");

/** Every timing figure, in table order. */
export function figures(results: BenchResults): Figure[] {
  const out: Figure[] = [];
  for (const series of results.handover) {
    const idle = series.streamRate === 0;
    const target = GRACEFUL_P95_MS[series.backend];
    const summary = summarize(series.samples.map((s) => s.gapMs));
    const goal = !idle && target !== undefined ? { goal: `p95 ≤ ${target} ms`, targetMs: target, met: summary.p95 <= target } : {};
    out.push({
      group: "graceful",
      label: `${series.backend}${series.backend === "memory" ? " (one process)" : ""}${idle ? ", idle (no updates)" : ""}`,
      chartLabel: `${series.backend}${idle ? ", idle" : ""}`,
      summary,
      ...goal,
    });
  }
  for (const [backend, samples] of Object.entries(results.sigterm)) {
    out.push({ group: "sigterm", label: backend, summary: summarize(samples.map((s) => s.gapMs)) });
  }
  for (const [backend, samples] of Object.entries(results.crash)) {
    const summary = summarize(samples.map((s) => s.gapMs));
    const target = backend === "redis" ? DEFAULT_TTL_MS + 100 : CRASH_P95_MS[backend];
    const goal =
      target === undefined
        ? {}
        : { goal: backend === "redis" ? "p95 ≤ TTL + 100 ms" : `p95 ≤ ${target} ms`, targetMs: target, met: summary.p95 <= target };
    out.push({ group: "crash", label: backend === "redis" ? "redis (ttlMs 10 s)" : backend, summary, ...goal });
  }
  const { fixedRetry, exitIfLocked, unsupervised } = results.baselines;
  for (const [label, gaps] of Object.entries(fixedRetry)) {
    const chartLabel = label.includes("k8s") ? "retry every 2–4.4 s (k8s), redis" : label.includes("1 s") ? "retry every 1 s (lockfile), file" : label;
    out.push({ group: "baseline", label, chartLabel, summary: summarize(gaps) });
  }
  if (exitIfLocked.length > 0) {
    out.push({
      group: "baseline",
      label: "exit-if-locked, stop-first deploy (file)",
      chartLabel: "exit-if-locked, stop-first deploy",
      summary: summarize(exitIfLocked.map((s) => s.stopFirstGapMs)),
    });
  }
  if (results.frameworkStop.stopMs.length > 0) {
    out.push({
      group: "baseline",
      label: "grammY's own bot.stop() during an idle poll (stop → confirmation answered)",
      chartLabel: "grammY bot.stop(), idle poll",
      summary: summarize(results.frameworkStop.stopMs),
    });
  }
  const deaf = nonNull(unsupervised.map((s) => s.deafAfterMs));
  if (deaf.length > 0) {
    out.push({
      group: "baseline",
      label: "unsupervised: second instance's first getUpdates → one instance deaf",
      chartLabel: "unsupervised: until one is deaf",
      summary: summarize(deaf),
    });
  }
  return out;
}

const GROUP_TITLES: Readonly<Record<Figure["group"], string>> = {
  graceful: "Graceful handover: `stop()` → the waiter's first getUpdates (200 updates/s)",
  sigterm: "Graceful handover by SIGTERM, real processes (`handleSignals: true`)",
  crash: "Crash takeover: SIGKILL → the waiter's first getUpdates (default settings)",
  baseline: "Baselines (same emulator, same locks)",
};

/** The figures as one markdown table. */
export function figuresTable(list: readonly Figure[]): string {
  const lines = ["| | n | median | p95 | max | goal |", "|---|--:|--:|--:|--:|---|"];
  let group: Figure["group"] | undefined;
  for (const f of list) {
    if (f.group !== group) {
      group = f.group;
      lines.push(`| **${GROUP_TITLES[group]}** | | | | | |`);
    }
    const verdict = f.goal === undefined ? "" : `${f.met ? "✅" : "❌"} ${f.goal}`;
    lines.push(`| ${f.label} | ${f.summary.n} | ${formatMs(f.summary.median)} | ${formatMs(f.summary.p95)} | ${formatMs(f.summary.max)} | ${verdict} |`);
  }
  return lines.join("\n");
}

/** The goals of the issue, each with what was measured and, when missed, by how much and why. */
export function evaluateGoals(results: BenchResults): GoalVerdict[] {
  const verdicts: GoalVerdict[] = [];
  const loaded = results.machine.shared ? " The machine was shared with other work during the run, which inflates the tail." : "";

  for (const series of results.handover.filter((s) => s.streamRate > 0)) {
    const target = GRACEFUL_P95_MS[series.backend];
    if (target === undefined) continue;
    const gap = summarize(series.samples.map((s) => s.gapMs));
    const firstCall = summarize(nonNull(series.samples.map((s) => s.waiterFirstCallMs)));
    const start = summarize(nonNull(series.samples.map((s) => (s.waiterFirstCallMs === null ? null : s.gapMs - s.waiterFirstCallMs))));
    const met = gap.p95 <= target;
    const breakdown = `stop → waiter's first call (holder drains, confirms, releases; waiter wakes, is granted) median ${formatMs(firstCall.median)}, p95 ${formatMs(firstCall.p95)}; first call → getUpdates (preflight getWebhookInfo, then grammY's getMe ‖ deleteWebhook, then getUpdates: three round trips) median ${formatMs(start.median)}, p95 ${formatMs(start.p95)}.`;
    verdicts.push({
      goal: `Graceful handover p95 ≤ ${target} ms (${series.backend})`,
      measured: `p95 ${formatMs(gap.p95)} (median ${formatMs(gap.median)}, n = ${gap.n})`,
      met,
      note: met ? breakdown : `Missed by ${formatMs(gap.p95 - target)}. ${breakdown}${loaded}`,
    });
  }

  const streamed = results.handover.filter((s) => s.streamRate > 0 && s.updates !== null);
  if (streamed.length > 0) {
    const total = streamed.reduce(
      (acc, s) => ({
        handovers: acc.handovers + s.samples.length,
        pushed: acc.pushed + s.updates!.pushed,
        lost: acc.lost + s.updates!.lost,
        duplicated: acc.duplicated + s.updates!.duplicated,
      }),
      { handovers: 0, pushed: 0, lost: 0, duplicated: 0 },
    );
    const fewest = Math.min(...streamed.map((s) => s.samples.length));
    const perBackend = streamed.map((s) => `${s.backend} ${s.updates!.lost}/${s.updates!.duplicated} over ${s.samples.length}`).join(", ");
    verdicts.push({
      goal: "Zero updates lost and zero duplicated across ≥ 100 graceful handovers",
      measured: `${total.lost} lost, ${total.duplicated} duplicated of ${total.pushed} updates over ${total.handovers} handovers (lost/duplicated per backend: ${perBackend})`,
      met: total.lost === 0 && total.duplicated === 0 && fewest >= 100,
      note:
        fewest >= 100
          ? "Counted by the bots' handlers (every update id handled, by whom), under a steady stream of updates."
          : `Only ${fewest} handovers per backend in this run (a --quick run); the goal needs ≥ 100.`,
    });
  }

  for (const [backend, samples] of Object.entries(results.crash)) {
    const gap = summarize(samples.map((s) => s.gapMs));
    if (backend === "redis") {
      const overhead = summarize(nonNull(samples.map((s) => (s.remainingTtlMs === undefined ? null : s.gapMs - s.remainingTtlMs))));
      const target = DEFAULT_TTL_MS + 100;
      verdicts.push({
        goal: "Crash takeover p95 ≤ TTL + 100 ms (Redis, ttlMs 10 s)",
        measured: `p95 ${formatMs(gap.p95)} (median ${formatMs(gap.median)}, n = ${gap.n})`,
        met: gap.p95 <= target,
        note: `The key outlives its holder by what was left of its TTL (8–10 s with renewals every 2 s); the waiter retries when the key's PTTL runs out. Gap minus that remaining TTL: median ${formatMs(overhead.median)}, p95 ${formatMs(overhead.p95)}.`,
      });
      continue;
    }
    const target = CRASH_P95_MS[backend];
    if (target === undefined) continue;
    const detect = summarize(nonNull(samples.map((s) => s.waiterFirstCallMs)));
    const met = gap.p95 <= target;
    const why =
      backend === "file"
        ? `Nothing wakes the waiter when the holder dies: the lock directory does not change, so fs.watch stays silent, and the dead pid is only seen on the waiter's next jittered look (pollMs 1000: every 500–1000 ms). Kill → waiter's first call: median ${formatMs(detect.median)}, p95 ${formatMs(detect.p95)}. Proposed fix (not implemented): while the holder is a live local process, look at its pid (a kill(pid, 0) syscall, no file I/O) every ~50 ms, or have the holder listen on a Unix socket in the lock directory that waiters connect to, so its death closes their connection at once.`
        : `The holder's connection closes with its process, PostgreSQL drops its session advisory lock, and the waiter blocked in pg_advisory_lock is granted at once. Kill → waiter's first call: median ${formatMs(detect.median)}, p95 ${formatMs(detect.p95)}.`;
    verdicts.push({
      goal: `Crash takeover p95 ≤ ${target} ms (${backend}, one host)`,
      measured: `p95 ${formatMs(gap.p95)} (median ${formatMs(gap.median)}, n = ${gap.n})`,
      met,
      note: met ? why : `Missed by ${formatMs(gap.p95 - target)}. ${why}`,
    });
  }

  const plain = results.startup.filter((s) => s.mode === "grammy" && !s.webhook);
  if (plain.length > 0) {
    const base = Math.max(...plain.map((s) => s.calls.length));
    const supervised = results.startup.filter((s) => s.mode !== "grammy" && !s.webhook);
    const worst = Math.max(...supervised.map((s) => s.calls.length));
    verdicts.push({
      goal: "Startup: at most one Bot API call more than grammY's own bot.start() (no webhook)",
      measured: `${worst} calls (${supervised[0]?.calls.join(", ") ?? "?"}) against ${base} (${plain[0]?.calls.join(", ")})`,
      met: worst <= base + 1,
      note: "The extra call is preflight's getWebhookInfo; deleteWebhook is only sent when a webhook is set (grammY sends its own anyway).",
    });
  }

  const tenK = results.scale.filter((r) => r.config.count === 10_000 && r.config.adapter === "core");
  if (tenK.length > 0) {
    const worstHeap = Math.max(...tenK.map((r) => r.heapPerSupervisorBytes));
    verdicts.push({
      goal: "Scale: 10,000 supervisors in one process, ≤ 16 KB heap each",
      measured: tenK.map((r) => `${r.config.backend} ${(r.heapPerSupervisorBytes / 1024).toFixed(1)} KB`).join(", "),
      met: worstHeap <= 16 * 1024,
      note: "heapUsed after GC with every supervisor polling, minus heapUsed after GC with the bots (adapters) built, divided by the count.",
    });
    const redisRun = tenK.find((r) => r.config.backend === "redis");
    const redis = redisRun?.redis;
    if (redisRun && redis) {
      verdicts.push({
        goal: "Scale: at most one Redis round trip per renewal period for all of a process's leases",
        measured: `${redis.roundTripsPerRenewalPeriod.toFixed(2)} renewal round trips per period at 10,000 leases (${redis.leasesRenewedPerRoundTrip.toFixed(0)} leases per round trip, ${redis.commandsPerSecond.toFixed(1)} commands/s)`,
        met: redis.roundTripsPerRenewalPeriod <= 1.05,
        note: `Counted on the ioredis client: every EVALSHA of the renew script is one round trip. Every lease of a process renews on one shared beat per renewal interval, and the backend sends the renewals of one tick as one script call. The price: the work of all renewals lands in one burst per period (event-loop delay max ${formatMs(redisRun.eventLoopDelayMs.max)} at 10,000 Redis leases, mostly garbage collection of the per-lease promises).`,
      });
    }
  }
  return verdicts;
}

function scaleTable(results: BenchResults): string {
  if (results.scale.length === 0) return "";
  const lines = [
    "| supervisors | backend | adapter | heap each | start all | CPU (steady) | event-loop delay p99 / max | Redis cmd/s | renew round trips / period |",
    "|--:|---|---|--:|--:|--:|--:|--:|--:|",
  ];
  for (const r of results.scale) {
    lines.push(
      `| ${r.config.count.toLocaleString("en-US")} | ${r.config.backend} | ${r.config.adapter === "core" ? "structural" : "grammY"} | ${(r.heapPerSupervisorBytes / 1024).toFixed(1)} KB | ${formatMs(r.startAllMs)} | ${(r.cpuShare * 100).toFixed(1)} % | ${formatMs(r.eventLoopDelayMs.p99)} / ${formatMs(r.eventLoopDelayMs.max)} | ${r.redis ? r.redis.commandsPerSecond.toFixed(1) : "–"} | ${r.redis ? r.redis.roundTripsPerRenewalPeriod.toFixed(2) : "–"} |`,
    );
  }
  return lines.join("\n");
}

function startupTable(results: BenchResults): string {
  if (results.startup.length === 0) return "";
  const lines = [
    "| start | webhook set | Bot API calls up to the first getUpdates | n | median | p95 | max | of which lock (median) |",
    "|---|---|---|--:|--:|--:|--:|--:|",
  ];
  const order = ["grammy", "memory", "file", "redis", "postgres"];
  for (const webhook of [false, true]) {
    for (const mode of order) {
      const samples = results.startup.filter((s) => s.webhook === webhook && s.mode === mode);
      if (samples.length === 0) continue;
      const calls = [...new Set(samples.map((s) => s.calls.join(" → ")))];
      const time = summarize(samples.map((s) => s.timeMs));
      const lock = summarize(nonNull(samples.map((s) => s.lockMs)));
      const label = mode === "grammy" ? "grammY `bot.start()` alone" : `supervisor, ${mode} lock`;
      lines.push(
        `| ${label} | ${webhook ? "yes" : "no"} | ${samples[0]!.calls.length}: ${calls.join("; or ")} | ${time.n} | ${formatMs(time.median)} | ${formatMs(time.p95)} | ${formatMs(time.max)} | ${lock.n > 0 ? formatMs(lock.median) : "–"} |`,
      );
    }
  }
  return lines.join("\n");
}

function updatesTable(results: BenchResults): string {
  const rows = results.handover.filter((s) => s.updates !== null);
  if (rows.length === 0) return "";
  const lines = ["| backend | handovers | updates pushed | handled | lost | duplicated | 409s heard by a live poller |", "|---|--:|--:|--:|--:|--:|--:|"];
  for (const s of rows) {
    const heard = s.samples.reduce((n, x) => n + x.conflictsHeard, 0);
    lines.push(`| ${s.backend} | ${s.samples.length} | ${s.updates!.pushed} | ${s.updates!.handled} | ${s.updates!.lost} | ${s.updates!.duplicated} | ${heard} |`);
  }
  return lines.join("\n");
}

/** Where the graceful handover's time goes, hop by hop (medians, p95 in parentheses). */
function breakdownTable(results: BenchResults): string {
  const rows = results.handover.filter((s) => s.samples.length > 0);
  if (rows.length === 0) return "";
  const cell = (values: number[]) => {
    const sum = summarize(values);
    return sum.n === 0 ? "–" : `${formatMs(sum.median)} (${formatMs(sum.p95)})`;
  };
  const lines = [
    "| backend | stop → holder released the lock ¹ | released → waiter granted ¹ | granted → waiter's first Bot API call ¹ | first call → first getUpdates ² | whole gap |",
    "|---|--:|--:|--:|--:|--:|",
  ];
  for (const series of rows) {
    const s = series.samples;
    lines.push(
      `| ${series.backend}${series.streamRate === 0 ? ", idle" : ""} | ${cell(nonNull(s.map((x) => x.releasedMs)))} | ${cell(nonNull(s.map((x) => (x.releasedMs === null || x.acquiredMs === null ? null : x.acquiredMs - x.releasedMs))))} | ${cell(nonNull(s.map((x) => (x.acquiredMs === null || x.waiterFirstCallMs === null ? null : x.waiterFirstCallMs - x.acquiredMs))))} | ${cell(nonNull(s.map((x) => (x.waiterFirstCallMs === null ? null : x.gapMs - x.waiterFirstCallMs))))} | ${cell(s.map((x) => x.gapMs))} |`,
    );
  }
  return [
    ...lines,
    "",
    "¹ From the processes' own event times, put on the bench's clock with an offset estimated by IPC ping (± a fraction of a millisecond); the holder's release and the waiter's grant come from two processes, so their difference can be negative (PostgreSQL grants the waiter before the holder's unlock statement has returned). ² At the emulator: preflight's getWebhookInfo, then grammY's getMe and deleteWebhook (in parallel), then getUpdates.",
  ].join("\n");
}

function baselineNotes(results: BenchResults): string[] {
  const notes: string[] = [];
  const { unsupervised, exitIfLocked } = results.baselines;
  if (unsupervised.length > 0) {
    const n = unsupervised.length;
    const newDeaf = unsupervised.filter((s) => s.deaf === "new").length;
    const oldDeaf = unsupervised.filter((s) => s.deaf === "old").length;
    const conflicts = summarize(unsupervised.map((s) => s.conflicts));
    const sum = (pick: (s: (typeof unsupervised)[number]) => number) => unsupervised.reduce((total, s) => total + pick(s), 0);
    const split = unsupervised.filter((s) => s.afterSecondStart.old > 0 && s.afterSecondStart.new > 0).length;
    const deafDecided = newDeaf > 0
      ? `the new one in ${newDeaf}: a deploy that then stops the old one leaves nobody polling, with a healthy-looking process up`
      : "never the new one in these runs (the new poll kicks the old one's pending long poll), but a deploy that stops the old instance cannot know that";
    notes.push(
      `**Unsupervised** (two plain grammY \`bot.start()\` on one token, ${n} runs; the second starts while updates arrive at 200/s): in ${oldDeaf + newDeaf}/${n} runs one instance went deaf (its loop ended on a 409 while its process stayed up): the old one in ${oldDeaf}, ${deafDecided}. Of the updates pushed after the second start, the old instance handled ${sum((s) => s.afterSecondStart.old)}, the new one ${sum((s) => s.afterSecondStart.new)}, both ${sum((s) => s.afterSecondStart.both)}, neither ${sum((s) => s.afterSecondStart.neither)} (split between the two in ${split}/${n} runs); 409 answers per run: median ${conflicts.median}, max ${conflicts.max}. grammY and Telegraf stop on the first 409; a framework that retries on 409 ping-pongs instead and splits every update stream.`,
    );
  }
  if (exitIfLocked.length > 0) {
    const exited = exitIfLocked.filter((s) => s.overlapExitCode !== 0).length;
    const exitMs = summarize(exitIfLocked.map((s) => s.overlapExitMs));
    const oldExit = summarize(exitIfLocked.map((s) => s.oldExitMs));
    const boot = summarize(exitIfLocked.map((s) => s.bootMs));
    notes.push(
      `**Exit-if-locked** (file lock, exit when held; ${exitIfLocked.length} deploys of each kind): in an overlapping deploy the new instance exited in ${exited}/${exitIfLocked.length} (median ${formatMs(exitMs.median)} after its start), i.e. the deploy fails and the old code keeps running. In a stop-first deploy the gap is the old instance's stop (median ${formatMs(oldExit.median)}) plus a process start (median ${formatMs(boot.median)} to the first Bot API call, with tsx; compiled JS starts faster) plus grammY's start.`,
    );
  }
  const fs = results.frameworkStop;
  if (fs.stopMs.length > 0) {
    const s = summarize(fs.stopMs);
    notes.push(
      `**The same-offset throttle** (the lead to check): grammY's own \`bot.stop()\` during an idle long poll confirms with the offset of the poll it aborted; the emulator (like the Bot API) throttled ${fs.throttled}/${fs.stopMs.length} of those confirmations into a 3 s long poll, and the stop took median ${formatMs(s.median)}. Under the supervisor the adapter answers such a confirmation locally (nothing new to confirm), or asks getWebhookInfo first when the aborted poll's fate is unknown; see the idle handover row.`,
    );
  }
  return notes;
}

function throttleNote(results: BenchResults): string | null {
  const all = results.handover.flatMap((s) => s.samples);
  if (all.length === 0) return null;
  const confirms = all.filter((s) => s.confirm !== null);
  const slow = confirms.filter((s) => (s.confirm!.servedMs ?? 0) > 1000);
  return `Of ${all.length} supervised graceful stops, ${confirms.length} sent an offset confirmation to the emulator (the others had nothing left to confirm and answered grammY's locally); ${confirms.filter((s) => s.confirm!.throttled).length} of those were throttled to \`timeout=3\`, and ${slow.length} waited (all were answered at once because updates were pending).`;
}

/** The README section (without the markers). */
export function readmeSection(results: BenchResults, chartPath: string): string {
  const verdicts = evaluateGoals(results);
  const m = results.machine;
  const loads = m.loadAverage.map((l) => l.load1);
  const loadText = loads.length > 0 ? `, 1-min load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}` : "";
  const when = results.startedAt.slice(0, 10);
  const parts = [
    "## Benchmarks",
    "",
    `\`npm run bench\` runs every scenario against the Bot API emulator (real timing: the 3 s rules are on), the local Redis and PostgreSQL, and real child processes, in a few minutes; \`npm run bench -- --quick\` is a CI-sized run. Every gap is measured at the emulator, from the moment the bench sends the command or signal (so it includes its delivery: IPC round trip median ${formatMs(results.settings.ipcRoundTripMs.median)}) to when the new poller's first \`getUpdates\` arrives, not by the process being measured. Figures are medians, p95 (nearest rank) and max. All samples, the machine and the versions are in [\`bench/results/latest.json\`](bench/results/latest.json).`,
    "",
    `Last ${results.mode} run: ${when}, Node ${results.versions.node}, ${m.cpuCount} × ${m.cpuModel}, Redis ${results.versions.redisServer ?? "?"}, PostgreSQL ${results.versions.postgresServer ?? "?"}, ${results.mode === "full" ? "" : "quick mode, "}${m.shared ? `**shared machine** (other test suites were running${loadText})` : `machine not shared${loadText}`}.${m.note ? ` ${m.note}` : ""}`,
    "",
    `![Handover and takeover gaps per backend and baseline (log scale)](${chartPath})`,
    "",
    figuresTable(figures(results)),
    "",
    "### Goals",
    "",
    ...verdicts.map((v) => `- ${v.met === null ? "❔" : v.met ? "✅" : "❌"} **${v.goal}**: ${v.measured}. ${v.note}`),
    "",
    "### Where the handover time goes",
    "",
    "Medians, p95 in parentheses. The stop drains the batch being handled, confirms the offset (a getUpdates, after a getWebhookInfo when the aborted poll's fate is unknown), then releases; the waiter then needs three Bot API round trips of its own. On loopback every hop is a fraction of a millisecond; what is left is scheduling on a busy machine.",
    "",
    breakdownTable(results),
    "",
    "### Updates across graceful handovers",
    "",
    updatesTable(results),
    "",
    throttleNote(results) ?? "",
    "",
    "### Startup cost",
    "",
    startupTable(results),
    "",
    "### Scale (one process)",
    "",
    "Each bot has a structural adapter that answers preflight locally and holds one gated getUpdates open (or, in the grammY rows, a real grammY `Bot` whose `fetch` answers from memory), so the figures are the supervisor's, its lease's and the lock's, not HTTP's. Heap: `heapUsed` after GC with every supervisor polling, minus the same with the bots built, per supervisor. CPU and event-loop delay over whole renewal periods of steady state (three in a full run). Every lease of a process renews on one shared beat per renewal interval, so Redis gets one renew script per period for all of them; the price is one burst of work per period (the event-loop delay max).",
    "",
    scaleTable(results),
    "",
    "### Baselines",
    "",
    ...baselineNotes(results).flatMap((n) => [n, ""]),
  ];
  return parts.join("\n").replace(/\n{3,}/g, "\n\n").trim();
}

/**
 * Puts `section` between the bench markers of `readme`, leaving everything
 * else as it was. Without markers, adds them before the `## Architecture`
 * heading, or at the end when there is none.
 */
export function replaceReadmeSection(readme: string, section: string): string {
  const block = `${README_START}\n${section.trim()}\n${README_END}`;
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start !== -1 && end > start) return readme.slice(0, start) + block + readme.slice(end + README_END.length);
  if (start !== -1 || end !== -1) throw new Error("README.md has only one of the bench markers: fix it by hand before regenerating.");
  const heading = readme.search(/^## Architecture\s*$/m);
  if (heading === -1) return `${readme.replace(/\s*$/, "")}\n\n${block}\n`;
  return `${readme.slice(0, heading)}${block}\n\n${readme.slice(heading)}`;
}
