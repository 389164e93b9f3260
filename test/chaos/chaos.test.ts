import { fileURLToPath } from "node:url";
import { describe, it } from "vitest";
import type { ChaosReport } from "../../chaos/report.js";
import { runChaos } from "../../chaos/run-chaos.js";
import type { BackendKind } from "../../chaos/stores/types.js";

// A short `npm run chaos` per backend: three replica processes of the
// backend's example against the emulator, 20 messages/s, and a fault every
// 0.7-2 s drawn from a shuffled bag (SIGTERM, SIGKILL and each store fault),
// then a drain and a graceful stop. The checks are counts from the emulator's
// records and the replicas' logs, never timings. The backends run at the same
// time (nine replica processes on a small machine is part of the chaos).

const root = fileURLToPath(new URL("../..", import.meta.url));
const CHAOS_MS = 20_000;

/** The report, for the failure message. */
function summary(report: ChaosReport): string {
  return JSON.stringify({ ...report, timeline: report.timeline.slice(-60) }, null, 2);
}

describe.concurrent("chaos", () => {
  const cases: [BackendKind, readonly string[]][] = [
    ["file", []],
    ["redis", ["redis-restart", "redis-restart-empty", "redis-drop-connections"]],
    ["postgres", ["pg-terminate-holder", "pg-terminate-waiters", "pg-terminate-all"]],
  ];
  for (const [backend, faultKinds] of cases) {
    it(`with the ${backend} lock: every invariant kept through SIGTERMs, SIGKILLs, restarts and store faults`, async ({ expect }) => {
      const { report } = await runChaos({ backend, root, durationMs: CHAOS_MS, intervalMs: [700, 2_000] });
      const details = summary(report);
      expect(report.violations, details).toEqual([]);
      // The run did what it claims: messages flowed, replicas were stopped and killed, and every store fault happened.
      expect(report.updates.sent, details).toBeGreaterThan(100);
      // Only @grammyjs/runner (the Redis example) may lose what it had in flight when SIGKILLed; the checks above attribute each loss.
      expect(report.updates.lost - report.updates.lostInFlightOnCrash, details).toBe(0);
      if (backend !== "redis") expect(report.updates.lost, details).toBe(0);
      expect(report.kills + report.gracefulStops, details).toBeGreaterThanOrEqual(2);
      for (const kind of faultKinds) expect(report.storeFaults[kind], `${kind}\n${details}`).toBeGreaterThanOrEqual(1);
      expect(report.conflicts.heardByLiveClient, details).toBe(0);
      expect(report.handoverGaps.count, details).toBeGreaterThanOrEqual(1);
    }, 180_000);
  }

  it("the checks catch two pollers and a deaf replica when the replicas are not supervised", async ({ expect }) => {
    const { report } = await runChaos({
      backend: "file",
      root,
      script: "examples/unsupervised-grammy.ts",
      replicas: 2,
      // Few messages, so long polls wait and the second poller kicks the first at once; then long enough for its silence to count as deaf.
      ratePerSecond: 2,
      durationMs: 12_000,
      intervalMs: [60_000, 60_000], // no faults: two plain bot.start() are enough
    });
    const kinds = new Set(report.violations.map((v) => v.kind));
    expect([...kinds].sort(), summary(report)).toEqual(expect.arrayContaining(["deaf-replica", "two-pollers"]));
  }, 120_000);
});
