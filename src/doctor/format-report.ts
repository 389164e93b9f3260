import type { DoctorReport, Finding, FindingLevel } from "./report.js";

const LABELS: Record<FindingLevel, string> = { ok: "ok     ", warn: "warn   ", problem: "PROBLEM" };

/**
 * The report for people: one line per finding (what was found; what to do;
 * its code), then the verdict and what was not checked.
 */
export function formatReport(report: DoctorReport, context: { readonly apiRoot: string }): string {
  const lines = [`polling-supervisor doctor (Bot API at ${context.apiRoot})`, ""];
  for (const finding of report.findings) lines.push(`  ${LABELS[finding.level]}  ${findingLine(finding)}`);
  lines.push("", verdict(report));
  const unchecked: string[] = [];
  if (report.lock === null) unchecked.push("the lock (pass --lock-dir DIR, --redis URL or --postgres URL)");
  unchecked.push("whether something outside the lock polls (doctor never sends getUpdates: a probe cannot see another poller, and a long one would kick it)");
  lines.push(`not checked: ${unchecked.join("; ")}`);
  return `${lines.join("\n")}\n`;
}

function findingLine(finding: Finding): string {
  return `${finding.message}${finding.action === null ? "" : `; ${finding.action}`}  [${finding.code}]`;
}

function verdict(report: DoctorReport): string {
  const count = (level: FindingLevel, noun: string): string | undefined => {
    const n = report.findings.filter((finding) => finding.level === level).length;
    return n === 0 ? undefined : `${n} ${noun}${n === 1 ? "" : "s"}`;
  };
  const tally = [count("problem", "problem"), count("warn", "warning")].filter((part) => part !== undefined).join(", ");
  const summary = tally === "" ? "" : ` (${tally})`;
  switch (report.status) {
    case "healthy":
      return `healthy${summary}: exit 0`;
    case "problems":
      return `problems found${summary}: exit 1`;
    case "could-not-check":
      return `could not check everything${summary}: exit 2`;
  }
}
