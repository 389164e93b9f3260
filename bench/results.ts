/** The shape of bench/results/latest.json: every sample, and where it was taken. */
import type { UnsupervisedSample } from "./baselines/unsupervised.js";
import type { ExitIfLockedSample } from "./baselines/exit-if-locked.js";
import type { TakeoverSample } from "./crash.js";
import type { ScaleResult } from "./fixtures/scale-worker.js";
import type { HandoverSeries } from "./handover.js";
import type { StartupSample } from "./startup.js";
import type { Summary } from "./stats.js";

export interface MachineInfo {
  readonly platform: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly totalMemoryMb: number;
  /** 1-minute load average, sampled before and after each suite. */
  readonly loadAverage: readonly { readonly at: string; readonly suite: string; readonly load1: number }[];
  /** The machine was shared with other work during the run (say so with --shared); timings are then pessimistic. */
  readonly shared: boolean;
  readonly note: string | null;
}

export interface Versions {
  readonly node: string;
  readonly pollingSupervisor: string;
  readonly grammy: string;
  readonly ioredis: string;
  readonly pg: string;
  readonly redisServer: string | null;
  readonly postgresServer: string | null;
}

export interface BenchResults {
  readonly schema: 1;
  readonly mode: "full" | "quick";
  readonly startedAt: string;
  readonly durationMs: number;
  readonly machine: MachineInfo;
  readonly versions: Versions;
  readonly settings: {
    readonly emulatorTiming: Readonly<Record<string, number>>;
    readonly streamRatePerSecond: number;
    readonly supervisorDefaults: { readonly ttlMs: number; readonly renewIntervalMs: number; readonly filePollMs: number };
    /** How t0 is taken: in the bench process, right before the IPC command or the signal is sent. */
    readonly t0: string;
    /** Round trip of an IPC ping to a worker, ms: the one-way delay is inside every gap. */
    readonly ipcRoundTripMs: Summary;
  };
  readonly handover: readonly HandoverSeries[];
  readonly sigterm: Readonly<Record<string, readonly TakeoverSample[]>>;
  readonly crash: Readonly<Record<string, readonly TakeoverSample[]>>;
  readonly startup: readonly StartupSample[];
  readonly scale: readonly ScaleResult[];
  readonly baselines: {
    readonly unsupervised: readonly UnsupervisedSample[];
    readonly fixedRetry: Readonly<Record<string, readonly number[]>>;
    readonly exitIfLocked: readonly ExitIfLockedSample[];
  };
  /** grammY's own bot.stop() during an idle long poll: stop to its confirmation answered, at the emulator. */
  readonly frameworkStop: { readonly stopMs: readonly number[]; readonly throttled: number };
  readonly errors: readonly { readonly suite: string; readonly message: string }[];
}
