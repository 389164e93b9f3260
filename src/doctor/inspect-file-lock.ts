import { readdir, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileLock } from "../locks/file.js";
import type { HolderRecord } from "../locks/types.js";
import { lockDirMissing, lockFree, lockHeld, lockHolderDead, lockLeaseExpired } from "./findings.js";
import { checkHolderProcess } from "./holder-liveness.js";
import { freeLockReport, uncheckedLock, type LockInspection } from "./lock-report.js";

const OWNER_FILE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.json$/;

/**
 * The holder of a `fileLock({ dir })` lock. `inspect()` only reports a live
 * holder; when it finds none, an owner record left in the lock directory (a
 * SIGKILLed or crashed holder, or one that stopped renewing) is reported as
 * `stale`. Reads only: nothing in the directory is created or changed.
 */
export async function inspectFileLock(dir: string, name: string): Promise<LockInspection> {
  const backend = fileLock({ dir });
  const base = freeLockReport("file", name, backend.describe(name));
  try {
    try {
      await stat(dir);
    } catch (error) {
      if ((error as { code?: unknown }).code !== "ENOENT") throw error;
      // inspect() would create the directory; a missing one is a finding of its own.
      return { lock: base, findings: [lockDirMissing(base, dir, path.join(tmpdir(), "polling-supervisor"))] };
    }
    const holder = await backend.inspect(name);
    if (holder) {
      const { alive, evidence } = checkHolderProcess(holder);
      const lock = { ...base, state: "held" as const, holder, holderAlive: alive };
      // inspect() already leaves out a dead same-host holder; a race with its death ends up here.
      if (alive === false) return { lock, findings: [lockHolderDead(lock, holder, takeoverAdvice)] };
      return { lock, findings: [lockHeld(lock, holder, evidence)] };
    }
    const left = await leftOwner(base.location);
    if (!left) return { lock: base, findings: [lockFree(base)] };
    const { alive } = checkHolderProcess(left);
    const lock = { ...base, state: "stale" as const, holder: left, holderAlive: alive };
    if (alive === false) return { lock, findings: [lockHolderDead(lock, left, takeoverAdvice)] };
    return { lock, findings: [lockLeaseExpired(lock, left, alive)] };
  } catch (error) {
    return uncheckedLock(base, error);
  } finally {
    await backend.close();
  }
}

const takeoverAdvice = "nothing to clean up: the next instance on this host takes the lock over at once; start one";

/** The holder in an owner record left in the lock directory, if any. */
async function leftOwner(location: string): Promise<HolderRecord | undefined> {
  // describe() is "file <lock directory>".
  if (!location.startsWith("file ")) return undefined;
  const lockDir = location.slice("file ".length);
  let entries: string[];
  try {
    entries = await readdir(lockDir);
  } catch {
    return undefined;
  }
  for (const entry of entries.filter((e) => OWNER_FILE.test(e))) {
    try {
      const record = JSON.parse(await readFile(path.join(lockDir, entry), "utf8")) as { holder?: Partial<HolderRecord> };
      const holder = record.holder;
      if (
        typeof holder?.instanceId === "string" &&
        typeof holder.hostname === "string" &&
        typeof holder.pid === "number" &&
        typeof holder.since === "string"
      ) {
        return { instanceId: holder.instanceId, hostname: holder.hostname, pid: holder.pid, since: holder.since };
      }
    } catch {
      // Removed or rewritten while we read: the next entry, or none.
    }
  }
  return undefined;
}
