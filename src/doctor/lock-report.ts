import { redactTokens } from "../token.js";
import { lockBackendUnavailable } from "./findings.js";
import type { Finding, LockReport } from "./report.js";

/** The lock part of the report, with the findings about it. */
export interface LockInspection {
  readonly lock: LockReport;
  readonly findings: readonly Finding[];
}

/** A report for a lock nobody holds; backends fill in what they found. */
export function freeLockReport(backend: LockReport["backend"], name: string, location: string): LockReport {
  return { backend, name, location, state: "free", holder: null, holderAlive: null, pttlMs: null, session: null, waiting: null };
}

/** The store could not be read: the lock is `unchecked`, and the error says why (backends keep passwords out of it). */
export function uncheckedLock(lock: LockReport, error: unknown): LockInspection {
  const reason = redactTokens(error instanceof Error ? error.message : String(error)).replace(/\.$/, "");
  const unchecked: LockReport = { ...lock, state: "unchecked" };
  return { lock: unchecked, findings: [lockBackendUnavailable(unchecked, reason)] };
}
