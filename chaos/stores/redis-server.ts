import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

/**
 * A private `redis-server` that a chaos run may kill and restart (never the
 * shared one). With `persistent`, it writes an append-only file synced on
 * every write, as a production Redis that must keep its keys across restarts
 * does; without it, a restart starts empty.
 */
export class ChaosRedisServer {
  readonly port: number;
  readonly #dataDir: string;
  readonly #persistent: boolean;
  #process: ChildProcess | undefined;
  #admin: Redis | undefined;

  private constructor(port: number, persistent: boolean) {
    this.port = port;
    this.#persistent = persistent;
    this.#dataDir = mkdtempSync(join(tmpdir(), "ps-chaos-redis-"));
  }

  static async start(options: { readonly persistent: boolean }): Promise<ChaosRedisServer> {
    const server = new ChaosRedisServer(await freePort(), options.persistent);
    await server.#launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** A connection of the harness's own (reconnects after restarts; its errors are expected and ignored). */
  get admin(): Redis {
    if (!this.#admin) {
      this.#admin = new Redis(this.url, { maxRetriesPerRequest: 1, connectTimeout: 1000, retryStrategy: () => 100 });
      this.#admin.on("error", () => undefined);
    }
    return this.#admin;
  }

  /** SIGKILL (no shutdown save), stay down `downMs`, start again on the same port; `wipe` deletes the data first. */
  async crashAndRestart(downMs: number, wipe: boolean): Promise<void> {
    await this.#kill();
    if (wipe) rmSync(this.#dataDir, { recursive: true, force: true });
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.#launch();
  }

  async stop(): Promise<void> {
    this.#admin?.disconnect();
    await this.#kill();
    rmSync(this.#dataDir, { recursive: true, force: true });
  }

  async #launch(): Promise<void> {
    mkdirSync(this.#dataDir, { recursive: true });
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--protected-mode", "no", "--dir", this.#dataDir, "--save", ""];
    args.push(...(this.#persistent ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]));
    const child = spawn("redis-server", args, { stdio: "ignore" });
    this.#process = child;
    const failed = once(child, "exit").then(([code]) => {
      throw new Error(`redis-server on port ${this.port} exited with ${String(code)} while starting`);
    });
    failed.catch(() => undefined);
    await Promise.race([this.#waitForPing(), failed]);
  }

  async #kill(): Promise<void> {
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }

  async #waitForPing(): Promise<void> {
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined);
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          if (probe.status !== "ready") await probe.connect();
          if ((await probe.ping()) === "PONG") return;
        } catch (error) {
          if (attempt > 200) throw error;
          probe.disconnect();
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      probe.disconnect();
    }
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (typeof address !== "object" || address === null) throw new Error("no free port");
  return address.port;
}
