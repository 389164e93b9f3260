/**
 * Baseline: "file lock, exit when another instance runs" through two kinds
 * of deploy. Overlapping (the default of Render, Railway, Heroku preboot,
 * Kubernetes rolling updates: start the new instance, then stop the old):
 * the new one exits at once. Stop first (`pm2 restart`, systemd, Kubernetes
 * `Recreate`): SIGTERM the old one, start the new one when it has exited; the
 * gap then holds a process start. Real processes, the same 200 updates/s.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { STREAM_RATE, waitForNewPoller, type BenchContext } from "../context.js";
import { now } from "../workers.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface ExitIfLockedSample {
  /** Overlapping deploy: the new instance's exit code, and how long after its start it exited. */
  readonly overlapExitCode: number | null;
  readonly overlapExitMs: number;
  /** Stop-first deploy: SIGTERM to the old instance, to the new instance's first long poll at the emulator. */
  readonly stopFirstGapMs: number;
  /** Of that gap: until the old process had exited, and from the new process's start to its first Bot API call. */
  readonly oldExitMs: number;
  readonly bootMs: number;
}

interface Instance {
  readonly child: ChildProcess;
  readonly startedAt: number;
  readonly exited: Promise<{ code: number | null; at: number }>;
}

function startInstance(token: string, apiRoot: string, lockDir: string): Instance {
  const startedAt = now();
  const child = spawn(process.execPath, ["--import", "tsx", "bench/fixtures/exit-if-locked-bot.ts"], {
    cwd: ROOT,
    env: { ...process.env, BOT_TOKEN: token, BOT_API_ROOT: apiRoot, LOCK_DIR: lockDir, FORCE_COLOR: "0" },
    stdio: ["ignore", "ignore", "ignore"],
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once("exit", (code) => resolve({ code, at: now() })));
  return { child, startedAt, exited };
}

export async function exitIfLockedSeries(ctx: BenchContext, reps: number): Promise<ExitIfLockedSample[]> {
  const { emulator } = ctx;
  const token = ctx.newToken();
  const control = emulator.bot(token);
  const samples: ExitIfLockedSample[] = [];
  let old = startInstance(token, emulator.apiRoot, ctx.lockDir);
  const running: Instance[] = [old];
  try {
    await control.waitFor((s) => s.longPollPending, { timeoutMs: 20_000 });
    const stream = control.startUpdateStream({ ratePerSecond: STREAM_RATE });
    for (let i = 0; i < reps; i++) {
      const overlapping = startInstance(token, emulator.apiRoot, ctx.lockDir);
      running.push(overlapping);
      const overlapExit = await overlapping.exited;

      control.clearRecords();
      const t0 = now();
      old.child.kill("SIGTERM");
      const oldExit = await old.exited;
      const next = startInstance(token, emulator.apiRoot, ctx.lockDir);
      running.push(next);
      const { poller, snapshot } = await waitForNewPoller(control, t0);
      const firstCall = Math.min(...snapshot.calls.filter((c) => c.time > oldExit.at).map((c) => c.time));
      samples.push({
        overlapExitCode: overlapExit.code,
        overlapExitMs: overlapExit.at - overlapping.startedAt,
        stopFirstGapMs: poller.poll.start - t0,
        oldExitMs: oldExit.at - t0,
        bootMs: firstCall - next.startedAt,
      });
      old = next;
    }
    control.stopUpdateStream(stream);
  } finally {
    for (const instance of running) if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill("SIGKILL");
    await Promise.all(running.map((instance) => instance.exited));
  }
  return samples;
}
