import { runDoctorCommand } from "../../src/cli/doctor-command.js";
import type { DoctorReport } from "../../src/doctor/report.js";

export { makeToken, secretOf } from "../helpers/tokens.js";

/** What one in-process run of the doctor printed, and its exit code. */
export interface DoctorOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `polling-supervisor doctor` in-process with its own environment, capturing what it prints. */
export async function doctor(args: string[], env: Record<string, string | undefined> = {}): Promise<DoctorOutput> {
  let stdout = "";
  let stderr = "";
  const code = await runDoctorCommand(args, {
    env,
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

/** Runs the doctor with `--json` and parses the report. */
export async function doctorJson(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; report: DoctorReport; output: string }> {
  const output = await doctor([...args, "--json"], env);
  return { code: output.code, report: JSON.parse(output.stdout) as DoctorReport, output: output.stdout + output.stderr };
}

/** The codes of a report's findings, in order. */
export function codes(report: DoctorReport): string[] {
  return report.findings.map((finding) => finding.code);
}

/** The finding with `code`; fails the test when there is none. */
export function finding(report: DoctorReport, code: string): DoctorReport["findings"][number] {
  const found = report.findings.find((f) => f.code === code);
  if (!found) throw new Error(`no ${code} finding in ${JSON.stringify(report.findings, null, 2)}`);
  return found;
}
