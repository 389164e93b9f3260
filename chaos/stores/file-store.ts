import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChaosStore } from "./types.js";

/** A file lock store: a lock directory that does not exist yet, so the lock creates it (with its own modes). */
export interface FileChaosStore extends ChaosStore {
  readonly lockDir: string;
  /** Paths under the lock directory (the directory included) that a group or others may read, write or enter. */
  permissionProblems(): string[];
}

export function createFileStore(): FileChaosStore {
  const base = mkdtempSync(join(tmpdir(), "ps-chaos-file-"));
  const lockDir = join(base, "locks");
  const entries = (): string[] => {
    try {
      return [lockDir, ...readdirSync(lockDir, { recursive: true, encoding: "utf8" }).map((entry) => join(lockDir, entry))];
    } catch {
      return [];
    }
  };
  return {
    kind: "file",
    example: "examples/grammy-file-lock.ts",
    longPollTimeoutSeconds: 30,
    confirmsBeforeHandling: false,
    faultKinds: [],
    lockDir,
    env: () => ({ LOCK_DIR: lockDir }),
    injectFault: (kind) => Promise.reject(new Error(`the file store has no fault "${kind}"`)),
    async contents() {
      const found: string[] = [];
      for (const path of entries()) {
        try {
          found.push(statSync(path).isFile() ? `${path}\n${readFileSync(path, "utf8")}` : path);
        } catch {
          // Released between the listing and the read.
        }
      }
      return found;
    },
    permissionProblems() {
      const problems: string[] = [];
      for (const path of entries()) {
        try {
          const mode = statSync(path).mode & 0o777;
          if ((mode & 0o077) !== 0) problems.push(`${path} has mode 0o${mode.toString(8)}`);
        } catch {
          // Gone meanwhile.
        }
      }
      return problems;
    },
    async close() {
      rmSync(base, { recursive: true, force: true });
    },
  };
}
