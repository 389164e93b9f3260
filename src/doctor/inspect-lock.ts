import { inspectFileLock } from "./inspect-file-lock.js";
import { inspectPostgresLock } from "./inspect-postgres-lock.js";
import { inspectRedisLock } from "./inspect-redis-lock.js";
import { freeLockReport, uncheckedLock, type LockInspection } from "./lock-report.js";

/** Which lock store to look in: `--lock-dir`, `--redis` or `--postgres`. */
export type LockTarget =
  | { readonly kind: "file"; readonly dir: string }
  | { readonly kind: "redis"; readonly url: string }
  | { readonly kind: "postgres"; readonly url: string };

/** Who holds lock `name` in `target`, and whether that holder looks alive. Never throws. */
export async function inspectLock(target: LockTarget, name: string): Promise<LockInspection> {
  try {
    switch (target.kind) {
      case "file":
        return await inspectFileLock(target.dir, name);
      case "redis":
        return await inspectRedisLock(target.url, name);
      case "postgres":
        return await inspectPostgresLock(target.url, name);
    }
  } catch (error) {
    // A backend that could not even be created (bad option, missing package); the message never holds a password.
    return uncheckedLock(freeLockReport(target.kind, name, target.kind), error);
  }
}
