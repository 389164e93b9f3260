import { spawn, type ChildProcess } from "node:child_process";

/** A bot process started from a script, with its output kept line by line. */
export interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  /** Every line written to stdout and stderr so far. */
  readonly lines: string[];
  /** Resolves with the first line (already written or to come) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process has exited, with its code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a TypeScript file (relative to `cwd`) with tsx, as `npx tsx file` would. */
export function startReplica(
  name: string,
  script: string,
  env: Record<string, string>,
  cwd: string,
  onLine?: (line: string) => void,
): Replica {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd,
    env: { ...process.env, ...env, FORCE_COLOR: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffer = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      lines.push(...parts);
      if (onLine) parts.forEach(onLine);
      for (const listener of listeners) listener();
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    name,
    child,
    lines,
    exited,
    waitForLine(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = lines.find((l) => pattern.test(l));
          if (line === undefined) return;
          cleanup();
          resolve(line);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${name}: no line matching ${pattern} within ${timeoutMs} ms; output:\n${lines.join("\n")}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** SIGKILLs whatever is still running; for afterEach. */
export function killAll(replicas: Replica[]): Promise<unknown> {
  return Promise.all(
    replicas.splice(0).map((r) => {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL");
      return r.exited;
    }),
  );
}
