import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A free TCP port on 127.0.0.1 (the OS picks it; nothing listens on it when this resolves). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

/**
 * The key where redisLock keeps the Redis server time (ms) since which the data
 * under `keyPrefix` has been there: a grant waits until one TTL has passed since
 * then, so a Redis that lost its data (or a brand-new one) grants nothing for one
 * TTL (see `RedisLockOptions` in src/locks/redis.ts).
 */
export function epochKey(keyPrefix = "polling-supervisor:"): string {
  return `${keyPrefix}epoch`;
}

/** The marker's value for data that has been there for ever: a Redis that has been up a while, not a brand-new one. */
export const DATA_SINCE_EVER = "0";

/**
 * A private `redis-server` for fault tests (kill, pause, restart) that must
 * never touch the shared Redis. By default without persistence (a restart
 * starts empty); `{ persistent: true }` keeps its data across a SIGKILL (AOF,
 * fsync on every write), like a production Redis with persistence.
 */
export class PrivateRedisServer {
  readonly port: number;
  /** The AOF directory of a persistent server. */
  readonly #dir: string | undefined;
  #process: ChildProcess | undefined;

  private constructor(port: number, dir: string | undefined) {
    this.port = port;
    this.#dir = dir;
  }

  /** Starts a server on a free port and resolves once it answers PING. */
  static async start(options: { persistent?: boolean } = {}): Promise<PrivateRedisServer> {
    const dir = options.persistent ? mkdtempSync(join(tmpdir(), "ps-redis-aof-")) : undefined;
    const server = new PrivateRedisServer(await freePort(), dir);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    const pid = this.#process?.pid;
    if (pid === undefined) throw new Error("redis-server is not running");
    return pid;
  }

  /** Starts the server again on the same port (after kill); its data is gone unless it is persistent. */
  async restart(): Promise<void> {
    const persistence =
      this.#dir === undefined
        ? ["--appendonly", "no"]
        : ["--dir", this.#dir, "--appendonly", "yes", "--appendfsync", "always"];
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--protected-mode", "no", ...persistence],
      { stdio: "ignore" },
    );
    this.#process = child;
    const exited = once(child, "exit").then(([code]) => {
      throw new Error(`redis-server on port ${this.port} exited with ${String(code)} while starting`);
    });
    exited.catch(() => undefined);
    await Promise.race([this.#waitForPing(), exited]);
  }

  /** SIGKILL, and waits until the process is gone. */
  async kill(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }

  /** SIGSTOP: the server keeps its sockets open but answers nothing. */
  pause(): void {
    process.kill(this.pid, "SIGSTOP");
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    process.kill(this.pid, "SIGCONT");
  }

  /**
   * Sends one command over a fresh connection and resolves with the reply:
   * a string for simple and bulk strings, a number for integers, null for nil.
   */
  async command(...args: string[]): Promise<string | number | null> {
    const socket = new Socket();
    try {
      socket.connect(this.port, "127.0.0.1");
      await once(socket, "connect");
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`);
      let buffered = Buffer.alloc(0);
      for (;;) {
        const [chunk] = (await once(socket, "data")) as [Buffer];
        buffered = Buffer.concat([buffered, chunk]);
        const reply = parseReply(buffered);
        if (reply !== undefined) return reply;
      }
    } finally {
      socket.destroy();
    }
  }

  /**
   * Marks the data under `keyPrefix` as old, so grants are not held back for one
   * TTL as on a brand-new Redis: the server stands for one that has been up a
   * while. Lost with the data on the next restart, as a real marker would be.
   */
  async markDataOld(keyPrefix?: string): Promise<void> {
    await this.command("SET", epochKey(keyPrefix), DATA_SINCE_EVER);
  }

  /** Kills the server for good (end of the test file) and removes its data. */
  async stop(): Promise<void> {
    await this.kill();
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
  }

  async #waitForPing(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        // A persistent server answers "-LOADING" while it reads its AOF back: not ready yet.
        if ((await this.command("PING")) === "PONG") return;
      } catch (error) {
        if (attempt > 200) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** One complete RESP2 reply (no arrays), or undefined while more bytes are needed. */
function parseReply(data: Buffer): string | number | null | undefined {
  const lineEnd = data.indexOf("\r\n");
  if (lineEnd === -1) return undefined;
  const line = data.subarray(1, lineEnd).toString("utf8");
  switch (String.fromCharCode(data[0]!)) {
    case "+":
      return line;
    case ":":
      return Number(line);
    case "-":
      throw new Error(line);
    case "$": {
      const length = Number(line);
      if (length === -1) return null;
      const start = lineEnd + 2;
      if (data.length < start + length + 2) return undefined;
      return data.subarray(start, start + length).toString("utf8");
    }
    default:
      throw new Error(`unexpected RESP reply: ${data.toString("utf8", 0, 40)}`);
  }
}
