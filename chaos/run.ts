/**
 * `npm run chaos -- [--duration 120] [--backend file|redis|postgres|all]
 *   [--replicas 3] [--rate 20] [--seed N] [--quiet]`
 *
 * Runs the examples as real replica processes against the emulator under
 * random SIGTERMs, SIGKILLs and lock-store faults, checks the invariants,
 * prints a table and writes chaos/results/<backend>-latest.json. Exits 1
 * when an invariant was broken. Needs redis-server on PATH (a private one
 * is started) and PostgreSQL at DATABASE_URL (default the test database).
 */
import { fileURLToPath } from "node:url";
import { parseChaosArguments } from "./arguments.js";
import { formatTable, writeReport, type ChaosReport } from "./report.js";
import { runChaos } from "./run-chaos.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const resultsDir = fileURLToPath(new URL("./results", import.meta.url));

async function main(): Promise<number> {
  const args = parseChaosArguments(process.argv.slice(2));
  if ("help" in args) {
    process.stdout.write(args.help);
    return args.exitCode;
  }
  const reports: ChaosReport[] = [];
  for (const backend of args.backends) {
    const { report } = await runChaos({
      backend,
      root,
      durationMs: args.durationSeconds * 1000,
      replicas: args.replicas,
      ratePerSecond: args.ratePerSecond,
      ...(args.seed === undefined ? {} : { seed: args.seed }),
      ...(args.quiet ? {} : { log: (line: string) => process.stdout.write(`[${backend}] ${line}\n`) }),
    });
    reports.push(report);
    const path = writeReport(resultsDir, report);
    process.stdout.write(`\n${backend}: ${report.violations.length} invariant violations; report in ${path}\n`);
    for (const violation of report.violations) process.stdout.write(`  ${violation.kind}: ${violation.detail}\n`);
  }
  process.stdout.write(`\n${formatTable(reports)}\n`);
  return reports.some((r) => r.violations.length > 0) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`chaos run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  },
);
