import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Command, SlotEvent, SlotEventName, StopResult, WorkerMessage } from "./fixtures/protocol.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WORKER = "bench/fixtures/worker.ts";

/** The bench's clock, the emulator's clock: records' times are on it. */
export const now = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A child process running bench/fixtures/worker.ts, driven over IPC. Events
 * are kept, so a wait for one that already happened returns at once.
 */
export class Worker {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Worker clock minus bench clock, estimated from the ping with the shortest round trip. */
  clockOffsetMs = 0;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly #events: SlotEvent[] = [];
  readonly #listeners = new Set<() => void>();
  readonly #output: string[] = [];
  #nextId = 1;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        this.#output.push(chunk);
        if (this.#output.length > 200) this.#output.shift();
      });
    }
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    void this.exited.then(({ code, signal }) => {
      for (const { reject } of this.#pending.values()) reject(new Error(`${name} exited (${code ?? signal}) with a request pending`));
      this.#pending.clear();
      for (const listener of this.#listeners) listener();
    });
    child.on("message", (message: WorkerMessage) => this.#onMessage(message));
  }

  /** Forks a worker and waits until it is ready. */
  static async start(name: string, execArgv: readonly string[] = []): Promise<Worker> {
    const child = fork(WORKER, [], {
      cwd: ROOT,
      execArgv: ["--import", "tsx", ...execArgv],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: { ...process.env, FORCE_COLOR: "0" },
    });
    const worker = new Worker(name, child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 20 s:\n${worker.output()}`)), 20_000);
      child.once("message", () => {
        clearTimeout(timer);
        resolve();
      });
      void worker.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${name} exited before it was ready:\n${worker.output()}`));
      });
    });
    return worker;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.#output.join("");
  }

  request<T = unknown>(command: Command, timeoutMs = 30_000): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: ${command.cmd} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send({ ...command, id });
    });
  }

  stop(slot: string, timeoutMs = 60_000): Promise<StopResult> {
    return this.request<StopResult>({ cmd: "stop", slot }, timeoutMs);
  }

  /** The first `event` of `slot` (already seen or to come), with its time converted to the bench clock. */
  waitForEvent(slot: string, event: SlotEventName, timeoutMs = 30_000): Promise<SlotEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.#events.find((e) => e.slot === slot && e.event === event);
        if (found) {
          done();
          resolve({ ...found, at: found.at - this.clockOffsetMs });
        } else if (!this.alive) {
          done();
          reject(new Error(`${this.name} exited while waiting for ${slot} ${event}:\n${this.output()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${event} from ${slot} within ${timeoutMs} ms:\n${this.output().slice(-2000)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Every event of `slot` so far, on the bench clock. */
  eventsOf(slot: string): SlotEvent[] {
    return this.#events.filter((e) => e.slot === slot).map((e) => ({ ...e, at: e.at - this.clockOffsetMs }));
  }

  /** Forgets the events of slots that are done, so the list stays short over hundreds of samples. */
  forgetSlot(slot: string): void {
    for (let i = this.#events.length - 1; i >= 0; i--) if (this.#events[i]!.slot === slot) this.#events.splice(i, 1);
  }

  /**
   * Pings `count` times; returns the round trips and sets {@link clockOffsetMs}
   * from the fastest one (the worker's stamp against the midpoint).
   */
  async calibrate(count = 20): Promise<number[]> {
    const rtts: number[] = [];
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < count; i++) {
      const sent = now();
      const { at } = await this.request<{ at: number }>({ cmd: "ping" });
      const received = now();
      rtts.push(received - sent);
      if (received - sent < best) {
        best = received - sent;
        this.clockOffsetMs = at - (sent + received) / 2;
      }
    }
    return rtts;
  }

  /** Ends the worker: disconnect (it exits), then SIGKILL if it lingers. */
  async close(): Promise<void> {
    if (!this.alive) return;
    try {
      this.child.disconnect();
    } catch {
      // Already disconnected.
    }
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  #onMessage(message: WorkerMessage): void {
    if ("ready" in message) return;
    if ("event" in message) {
      this.#events.push(message);
      for (const listener of [...this.#listeners]) listener();
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(new Error(`${this.name}: ${message.error}`));
  }
}

/** Keeps one freshly started worker ready, so a sample that kills one does not wait for the next to boot. */
export class WorkerSpares {
  readonly #prefix: string;
  #next: Promise<Worker> | undefined;
  #count = 0;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  async take(): Promise<Worker> {
    const worker = await (this.#next ?? this.#spawn());
    this.#next = this.#spawn();
    this.#next.catch(() => undefined);
    return worker;
  }

  async close(): Promise<void> {
    const spare = await this.#next?.catch(() => undefined);
    this.#next = undefined;
    await spare?.close();
  }

  async #spawn(): Promise<Worker> {
    const worker = await Worker.start(`${this.#prefix}${++this.#count}`);
    await worker.calibrate(5);
    return worker;
  }
}
