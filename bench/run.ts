/**
 * `npm run bench`: handover gaps, crash takeover, startup cost and scale,
 * beside the baselines, against the emulator (real timing), the local Redis
 * and PostgreSQL, and real child processes.
 *
 *   npm run bench                      full run (a few minutes); writes bench/results/latest.json,
 *                                      bench/results/gaps.svg and the README's benchmark section
 *   npm run bench -- --quick           CI-sized (about a minute); writes bench/results/quick.tmp.json only
 *   options: --shared (the machine runs other work: noted in the results), --note "text",
 *            --only handover,crash,... (suites: startup handover lead retry unsupervised crash sigterm exit scale;
 *              writes bench/results/partial.tmp.json), --out file.json, --readme / --no-readme
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { exitIfLockedSeries } from "./baselines/exit-if-locked.js";
import { unsupervisedSample, unsupervisedSettled } from "./baselines/unsupervised.js";
import { renderGapChart } from "./chart.js";
import { createContext, DATABASE_URL, REDIS_URL, STREAM_RATE } from "./context.js";
import { redisCrashLanes, takeoverSeries, type TakeoverSample } from "./crash.js";
import type { BackendKind } from "./fixtures/locks.js";
import { frameworkStopDuration, handoverSeries, laneHandovers, type HandoverSeries } from "./handover.js";
import { cleanUp, collectVersions, machineBasics, primeRedis } from "./machine.js";
import { evaluateGoals, figures, figuresTable, readmeSection, replaceReadmeSection } from "./report.js";
import type { BenchResults, MachineInfo } from "./results.js";
import { DEFAULT_RENEW_INTERVAL_MS, runScale } from "./scale.js";
import { startupSample, startupSettled, type StartupMode, type StartupSample } from "./startup.js";
import { summarize } from "./stats.js";
import { Worker, WorkerSpares } from "./workers.js";
import type { ScaleResult } from "./fixtures/scale-worker.js";
import type { UnsupervisedSample } from "./baselines/unsupervised.js";
import type { ExitIfLockedSample } from "./baselines/exit-if-locked.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SUITES = ["startup", "handover", "lead", "retry", "unsupervised", "crash", "sigterm", "exit", "scale"] as const;
type Suite = (typeof SUITES)[number];
const BACKENDS: readonly BackendKind[] = ["memory", "file", "redis", "postgres"];

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    shared: { type: "boolean", default: false },
    note: { type: "string" },
    only: { type: "string" },
    out: { type: "string" },
    readme: { type: "boolean" },
    "no-readme": { type: "boolean", default: false },
  },
});
const quick = args.quick === true;

/** Repetitions and sizes of one run. */
interface Plan {
  readonly handovers: number;
  readonly idle: number;
  readonly sigterm: number;
  readonly crash: number;
  readonly redisLanes: number;
  readonly redisRounds: number;
  readonly startup: number;
  readonly unsupervised: number;
  readonly retryLanes: number;
  readonly retryRounds: number;
  readonly exit: number;
  readonly frameworkStop: number;
  readonly scale: readonly number[];
  readonly scaleGrammy: readonly number[];
  /** Whole renewal periods (2 s each). */
  readonly scaleWindowMs: number;
}

const FULL: Plan = {
  handovers: 100,
  idle: 30,
  sigterm: 10,
  crash: 30,
  redisLanes: 10,
  redisRounds: 3,
  startup: 30,
  unsupervised: 30,
  retryLanes: 10,
  retryRounds: 3,
  exit: 30,
  frameworkStop: 30,
  scale: [1_000, 10_000],
  scaleGrammy: [1_000, 10_000],
  scaleWindowMs: 6_000,
};

const QUICK: Plan = {
  handovers: 15,
  idle: 10,
  sigterm: 2,
  crash: 4,
  redisLanes: 4,
  redisRounds: 1,
  startup: 5,
  unsupervised: 2,
  retryLanes: 5,
  retryRounds: 1,
  exit: 3,
  frameworkStop: 5,
  scale: [1_000],
  scaleGrammy: [],
  scaleWindowMs: 2_000,
};

const plan = quick ? QUICK : FULL;

const only = args.only ? new Set(args.only.split(",").map((s) => s.trim())) : undefined;
for (const name of only ?? []) if (!SUITES.includes(name as Suite)) throw new Error(`Unknown suite ${name}; suites: ${SUITES.join(", ")}`);
const wanted = (suite: Suite) => only === undefined || only.has(suite);

const started = Date.now();
const log = (line: string) => console.log(`${`+${((Date.now() - started) / 1000).toFixed(0)}s`.padStart(6)}  ${line}`);

const loadAverage: { at: string; suite: string; load1: number }[] = [];
const sampleLoad = (suite: string) => loadAverage.push({ at: new Date().toISOString(), suite, load1: os.loadavg()[0]! });
const errors: { suite: string; message: string }[] = [];

async function suite(name: Suite, body: () => Promise<void>): Promise<void> {
  if (!wanted(name)) return;
  sampleLoad(`${name}:start`);
  log(`${name}…`);
  try {
    await body();
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    errors.push({ suite: name, message });
    log(`${name} FAILED: ${message}`);
  }
  sampleLoad(`${name}:end`);
}

async function main(): Promise<number> {
  const ctx = await createContext({ quick, log });
  const versions = await collectVersions(REDIS_URL, DATABASE_URL);
  log(`${quick ? "quick" : "full"} run ${ctx.runId}: Node ${versions.node}, Redis ${versions.redisServer ?? "unreachable"}, PostgreSQL ${versions.postgresServer ?? "unreachable"}, load ${os.loadavg()[0]!.toFixed(2)}`);
  const primeMs = await primeRedis(REDIS_URL, ctx.redisKeyPrefix);
  if (primeMs > 1000) log(`first run against this Redis (or it lost its data): waited ${(primeMs / 1000).toFixed(1)} s for the Redis lock's data-loss guard`);
  const a = await Worker.start("worker-a");
  const b = await Worker.start("worker-b");
  const ipc = [...(await a.calibrate(30)), ...(await b.calibrate(30))];
  const spares = new WorkerSpares("holder-");

  const handover: HandoverSeries[] = [];
  const sigterm: Record<string, TakeoverSample[]> = {};
  const crash: Record<string, TakeoverSample[]> = {};
  const startup: StartupSample[] = [];
  const scale: ScaleResult[] = [];
  const unsupervised: UnsupervisedSample[] = [];
  const fixedRetry: Record<string, number[]> = {};
  let exitIfLocked: ExitIfLockedSample[] = [];
  let frameworkStop: { stopMs: number[]; throttled: number } = { stopMs: [], throttled: 0 };

  try {
    await suite("startup", async () => {
      const modes: StartupMode[] = ["grammy", ...BACKENDS];
      // Interleaved, so load that comes and goes hits every mode alike.
      for (let rep = 0; rep < plan.startup; rep++) {
        for (const webhook of [false, true]) for (const mode of modes) startup.push(await startupSample(ctx, a, mode, webhook));
      }
      await startupSettled();
    });

    await suite("handover", async () => {
      for (const backend of BACKENDS) {
        const series = await handoverSeries(ctx, {
          label: backend,
          lock: ctx.lockSpec(backend),
          first: a,
          second: backend === "memory" ? a : b,
          count: plan.handovers,
          streamRate: STREAM_RATE,
        });
        handover.push(series);
        const gap = summarize(series.samples.map((s) => s.gapMs));
        log(`  ${backend}: median ${gap.median.toFixed(1)} ms, p95 ${gap.p95.toFixed(1)} ms; lost ${series.updates?.lost}, duplicated ${series.updates?.duplicated}`);
      }
    });

    await suite("lead", async () => {
      const idle = await handoverSeries(ctx, { label: "memory", lock: ctx.lockSpec("memory"), first: a, second: a, count: plan.idle, streamRate: 0 });
      handover.push(idle);
      frameworkStop = await frameworkStopDuration(ctx, b, plan.frameworkStop);
      log(`  idle supervised handover p95 ${summarize(idle.samples.map((s) => s.gapMs)).p95.toFixed(1)} ms; grammY's own idle stop median ${summarize(frameworkStop.stopMs).median.toFixed(0)} ms`);
    });

    await suite("retry", async () => {
      fixedRetry["fixed-period retry, k8s-style 2 s (redis)"] = await laneHandovers(ctx, {
        label: "k8s-retry",
        lock: { ...ctx.lockSpec("redis"), retry: { kind: "k8s", retryPeriodMs: 2000, jitterFactor: 1.2 } },
        holders: a,
        waiters: b,
        lanes: plan.retryLanes,
        rounds: plan.retryRounds,
        staggerMs: 4400,
      });
      fixedRetry["fixed-period retry, lockfile-style 1 s (file)"] = await laneHandovers(ctx, {
        label: "lockfile-retry",
        lock: { ...ctx.lockSpec("file"), retry: { kind: "fixed", periodMs: 1000 } },
        holders: a,
        waiters: b,
        lanes: plan.retryLanes,
        rounds: plan.retryRounds,
        staggerMs: 1000,
      });
    });

    await suite("unsupervised", async () => {
      for (let i = 0; i < plan.unsupervised; i++) unsupervised.push(await unsupervisedSample(ctx, a, b));
      await unsupervisedSettled();
    });

    await suite("crash", async () => {
      for (const backend of ["file", "postgres"] as const) {
        crash[backend] = await takeoverSeries(ctx, { label: `${backend}-crash`, lock: ctx.lockSpec(backend), signal: "SIGKILL", count: plan.crash, waiter: b, spares });
        log(`  ${backend}: p95 ${summarize(crash[backend].map((s) => s.gapMs)).p95.toFixed(0)} ms`);
      }
      const redisLock = ctx.lockSpec("redis");
      if (redisLock.kind !== "redis") throw new Error("unreachable");
      crash["redis"] = await redisCrashLanes(ctx, {
        lock: redisLock,
        lanes: plan.redisLanes,
        rounds: plan.redisRounds,
        renewIntervalMs: DEFAULT_RENEW_INTERVAL_MS,
        waiter: b,
      });
    });

    await suite("sigterm", async () => {
      for (const backend of ["file", "redis", "postgres"] as const) {
        sigterm[backend] = await takeoverSeries(ctx, { label: `${backend}-sigterm`, lock: ctx.lockSpec(backend), signal: "SIGTERM", count: plan.sigterm, waiter: b, spares });
      }
    });

    await suite("exit", async () => {
      exitIfLocked = await exitIfLockedSeries(ctx, plan.exit);
    });

    await suite("scale", async () => {
      // Nothing else of the bench runs meanwhile: the workers are idle.
      for (const count of plan.scale) {
        for (const backend of ["memory", "redis"] as const) {
          const result = await runScale(ctx, { backend, adapter: "core", count, windowMs: plan.scaleWindowMs });
          scale.push(result);
          log(`  ${count} ${backend}: ${(result.heapPerSupervisorBytes / 1024).toFixed(1)} KB each${result.redis ? `, ${result.redis.roundTripsPerRenewalPeriod.toFixed(2)} renew round trips per period` : ""}`);
        }
      }
      for (const count of plan.scaleGrammy) scale.push(await runScale(ctx, { backend: "memory", adapter: "grammy", count, windowMs: plan.scaleWindowMs }));
    });
  } finally {
    await spares.close();
    await Promise.all([a.request({ cmd: "closeLocks" }).catch(() => undefined), b.request({ cmd: "closeLocks" }).catch(() => undefined)]);
    await Promise.all([a.close(), b.close()]);
    await ctx.dispose();
    await cleanUp(REDIS_URL, ctx.redisKeyPrefix, ctx.lockNames, DATABASE_URL, ctx.pgTable);
  }

  const machine: MachineInfo = {
    ...machineBasics(),
    loadAverage,
    shared: args.shared === true,
    note: args.note ?? null,
  };
  const results: BenchResults = {
    schema: 1,
    mode: quick ? "quick" : "full",
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    machine,
    versions,
    settings: {
      emulatorTiming: { ...ctx.emulator.timing },
      streamRatePerSecond: STREAM_RATE,
      supervisorDefaults: { ttlMs: 10_000, renewIntervalMs: DEFAULT_RENEW_INTERVAL_MS, filePollMs: 1000 },
      t0: "taken in the bench process (which runs the emulator) right before it sends the IPC command (stop, start) or the signal; gaps end when the emulator receives the new poller's first getUpdates",
      ipcRoundTripMs: summarize(ipc),
    },
    handover,
    sigterm,
    crash,
    startup,
    scale,
    baselines: { unsupervised, fixedRetry, exitIfLocked },
    frameworkStop,
    errors,
  };

  // Only a complete full run stands for the published figures; anything less goes to a scratch file.
  const partial = quick || only !== undefined;
  const outFile = path.resolve(ROOT, args.out ?? (quick ? "bench/results/quick.tmp.json" : partial ? "bench/results/partial.tmp.json" : "bench/results/latest.json"));
  mkdirSync(path.dirname(outFile), { recursive: true });
  // Microseconds are plenty: keeps the file small and its diffs readable.
  const rounded = (_key: string, value: unknown) => (typeof value === "number" && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value);
  writeFileSync(outFile, `${JSON.stringify(results, rounded, 1)}\n`);

  const writeReadme = args["no-readme"] ? false : (args.readme ?? !partial);
  const chartRelative = "bench/results/gaps.svg";
  if (writeReadme) {
    writeFileSync(path.join(ROOT, chartRelative), renderGapChart(figures(results)));
    const readmePath = path.join(ROOT, "README.md");
    writeFileSync(readmePath, replaceReadmeSection(readFileSync(readmePath, "utf8"), readmeSection(results, chartRelative)));
  }

  console.log(`\n${figuresTable(figures(results))}\n`);
  for (const v of evaluateGoals(results)) console.log(`${v.met === null ? "?" : v.met ? "MET   " : "MISSED"}  ${v.goal}: ${v.measured}`);
  console.log(`\nwrote ${path.relative(ROOT, outFile)}${writeReadme ? `, ${chartRelative}, README.md (benchmark section)` : ""} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (errors.length > 0) console.log(`${errors.length} suite(s) failed: ${errors.map((e) => e.suite).join(", ")}`);
  return errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
