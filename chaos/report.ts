import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GapSummary, HandoverCause } from "./handover-gaps.js";
import type { Violation } from "./invariants.js";
import type { BackendKind } from "./stores/types.js";

/** What one chaos run did and found; written to chaos/results/<backend>-latest.json. Token-free. */
export interface ChaosReport {
  readonly backend: BackendKind;
  readonly example: string;
  readonly seed: number;
  readonly startedAt: string;
  /** How long faults were injected. */
  readonly chaosDurationMs: number;
  /** The whole run: start-up, chaos, drain and the final stop. */
  readonly totalDurationMs: number;
  readonly replicas: number;
  readonly ratePerSecond: number;
  readonly kills: number;
  readonly killsOfPoller: number;
  readonly gracefulStops: number;
  readonly gracefulStopsOfPoller: number;
  /** Store faults by kind. */
  readonly storeFaults: Readonly<Record<string, number>>;
  /** Processes started again after they exited. */
  readonly restarts: number;
  /** Processes whose run had ended (lock-lost, conflict) but that stayed up, replaced by the health check. */
  readonly healthReplacements: number;
  readonly updates: {
    readonly sent: number;
    readonly handled: number;
    readonly duplicated: number;
    readonly duplicateBatches: number;
    readonly lost: number;
    /** Of `lost`: in flight in a SIGKILLed @grammyjs/runner, which had confirmed them by fetching the next batch. Not a violation. */
    readonly lostInFlightOnCrash: number;
    readonly largestBatch: number;
  };
  readonly handoverGaps: GapSummary & { readonly byCause: Partial<Record<HandoverCause, GapSummary>> };
  readonly conflicts: { readonly answered: number; readonly heardByLiveClient: number };
  /** Each batch that was handled twice: when it was delivered (s from the start), to which replica, and how that replica's turn ended. */
  readonly duplicateBatches: readonly { readonly atS: number; readonly size: number; readonly duplicated: number; readonly to: string; readonly toEnded: string }[];
  /** How replica runs ended, from their logs: `stopped`, `lock-lost`, `conflict`, `fatal`, or `killed`. */
  readonly runEnds: Readonly<Record<string, number>>;
  readonly violations: readonly Violation[];
  /** What the harness did, in order (offsets from the start, s). */
  readonly timeline: readonly string[];
}

/** Writes `<dir>/<backend>-latest.json`; returns its path. */
export function writeReport(dir: string, report: ChaosReport): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${report.backend}-latest.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

/** A Markdown table with one column per report. */
export function formatTable(reports: readonly ChaosReport[]): string {
  const ms = (value: number | null) => (value === null ? "-" : `${value} ms`);
  const gaps = (s: GapSummary | undefined) => (s && s.count > 0 ? `${ms(s.medianMs)} / ${ms(s.p95Ms)} / ${ms(s.maxMs)} (${s.count})` : "-");
  const rows: [string, (r: ChaosReport) => string][] = [
    ["example", (r) => r.example.replace(/^examples\//, "")],
    ["chaos duration", (r) => `${(r.chaosDurationMs / 1000).toFixed(0)} s`],
    ["replicas", (r) => String(r.replicas)],
    ["SIGKILLs (of the poller)", (r) => `${r.kills} (${r.killsOfPoller})`],
    ["SIGTERMs (of the poller)", (r) => `${r.gracefulStops} (${r.gracefulStopsOfPoller})`],
    ["store faults", (r) => Object.entries(r.storeFaults).map(([k, n]) => `${k} ${n}`).join(", ") || "-"],
    ["restarts (health-check replacements)", (r) => `${r.restarts} (${r.healthReplacements})`],
    ["updates sent", (r) => String(r.updates.sent)],
    ["handled", (r) => String(r.updates.handled)],
    ["duplicated (batches)", (r) => `${r.updates.duplicated} (${r.updates.duplicateBatches})`],
    ["lost (in flight in a killed runner)", (r) => `${r.updates.lost} (${r.updates.lostInFlightOnCrash})`],
    ["handover gap median / p95 / max (n)", (r) => gaps(r.handoverGaps)],
    ["  after SIGTERM", (r) => gaps(r.handoverGaps.byCause.graceful)],
    ["  after SIGKILL", (r) => gaps(r.handoverGaps.byCause.crash)],
    ["  after a lost lease", (r) => gaps(r.handoverGaps.byCause["lease-lost"])],
    ["409s answered / heard by a live poller", (r) => `${r.conflicts.answered} / ${r.conflicts.heardByLiveClient}`],
    ["invariant violations", (r) => String(r.violations.length)],
  ];
  const header = `| ${"".padEnd(40)} | ${reports.map((r) => r.backend.padEnd(34)).join(" | ")} |`;
  const rule = `|${"-".repeat(42)}|${reports.map(() => "-".repeat(36)).join("|")}|`;
  const body = rows.map(([label, value]) => `| ${label.padEnd(40)} | ${reports.map((r) => value(r).padEnd(34)).join(" | ")} |`);
  return [header, rule, ...body].join("\n");
}
