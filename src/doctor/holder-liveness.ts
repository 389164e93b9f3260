import { hostname } from "node:os";
import type { HolderRecord } from "../locks/types.js";

/** Whether a holder's process is alive, and how that was decided (one clause for the finding). */
export interface HolderLiveness {
  /** `null`: cannot be checked from here (another host, or no usable pid). */
  readonly alive: boolean | null;
  readonly evidence: string;
}

/**
 * `process.kill(pid, 0)` when the holder runs on this host (by hostname);
 * otherwise says it cannot be checked from here. A pid reused by an unrelated
 * process after the holder died looks alive: the check is a hint, not proof.
 */
export function checkHolderProcess(holder: HolderRecord): HolderLiveness {
  if (holder.hostname !== hostname()) {
    return { alive: null, evidence: `it runs on host ${holder.hostname}, so whether its process is alive cannot be checked from here` };
  }
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) {
    return { alive: null, evidence: "its record has no usable pid, so whether its process is alive cannot be checked" };
  }
  try {
    process.kill(holder.pid, 0);
    return { alive: true, evidence: `pid ${holder.pid} is alive on this host` };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // EPERM: the process exists but belongs to another user.
    if (code === "EPERM") return { alive: true, evidence: `pid ${holder.pid} is alive on this host (owned by another user)` };
    if (code === "ESRCH") return { alive: false, evidence: `pid ${holder.pid} is gone from this host` };
    return { alive: null, evidence: `pid ${holder.pid} could not be checked (${String(code)})` };
  }
}
