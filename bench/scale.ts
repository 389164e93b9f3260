/** Scale: 1,000 and 10,000 supervisors in one process, each run in a fresh child (bench/fixtures/scale-worker.ts). */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { REDIS_URL, type BenchContext } from "./context.js";
import type { ScaleConfig, ScaleResult } from "./fixtures/scale-worker.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The library's default renewal period: ttlMs (10 s) / 5. */
export const DEFAULT_RENEW_INTERVAL_MS = 2000;

export async function runScale(ctx: BenchContext, config: Omit<ScaleConfig, "redisUrl" | "keyPrefix" | "renewIntervalMs">): Promise<ScaleResult> {
  const full: ScaleConfig = {
    ...config,
    redisUrl: REDIS_URL,
    keyPrefix: ctx.redisKeyPrefix,
    renewIntervalMs: DEFAULT_RENEW_INTERVAL_MS,
  };
  const child = fork("bench/fixtures/scale-worker.ts", [], {
    cwd: ROOT,
    execArgv: ["--import", "tsx", "--expose-gc"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const answer = new Promise<ScaleResult>((resolve, reject) => {
    child.once("message", (message: { ok: true; result: ScaleResult } | { ok: false; error: string }) => {
      if (message.ok) resolve(message.result);
      else reject(new Error(`scale worker failed: ${message.error}`));
    });
    void exited.then((code) => reject(new Error(`scale worker exited (${code}) without an answer`)));
  });
  child.send(full);
  const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
  try {
    return await answer;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill("SIGKILL");
    await exited;
  }
}
