import { startReplica, type Replica } from "../src/demo/replica-process.js";
import { ApiProxy } from "./api-proxy.js";
import type { Random } from "./random.js";

const now = (): number => performance.timeOrigin + performance.now();

/** Where a replica process is, as far as its log lines tell. */
export type ReplicaPhase = "starting" | "standby" | "holding" | "polling" | "ending" | "exited";

/** One process run in a slot; a restart is a new incarnation. */
export interface Incarnation {
  /** `R2.3`: slot 2, third process in it. */
  readonly id: string;
  readonly slot: number;
  readonly startedAt: number;
  readonly replica: Replica;
  /** Every line with the time the harness read it (epoch ms, monotonic). */
  readonly lines: { readonly at: number; readonly text: string }[];
  /** Everything the process wrote, stdout and stderr, as read (for the token scan). */
  readonly output: string[];
  /** What it wrote to stderr. */
  readonly stderr: string[];
  /** Arrival times of its getUpdates requests at the emulator's door. */
  readonly getUpdatesAt: number[];
  /** Every Bot API method it called, in order (names only). */
  readonly methods: string[];
  readonly signals: { readonly signal: NodeJS.Signals; readonly at: number; readonly reason: "chaos" | "final" | "health" | "hung" }[];
  phase: ReplicaPhase;
  /** When its log said `polling started`, while it still polls by its own account. */
  pollingSince: number | undefined;
  /** Log-derived end of its run: `lock-lost`, `conflict`, `stopped`, `fatal`. */
  stopReason: string | undefined;
  exit: { readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly at: number } | undefined;
}

/** Options of {@link ReplicaFleet}. */
export interface FleetOptions {
  /** Repository root, where the example lives. */
  readonly root: string;
  readonly script: string;
  readonly size: number;
  /** Environment of every replica, without BOT_API_ROOT (each gets its own proxy). */
  readonly env: Record<string, string>;
  /** The emulator's port; each replica reaches it through its own proxy. */
  readonly emulatorPort: number;
  readonly random: Random;
  /** How long a process whose run ended may linger before the health check replaces it, ms. */
  readonly healthCheckMs: number;
  /** Restart delay after an exit, ms: [min, max]. */
  readonly restartDelayMs: readonly [number, number];
  /** Called for every line and lifecycle event, for the progress log. */
  readonly onEvent?: (incarnation: Incarnation, text: string) => void;
}

/**
 * The "platform": a fixed number of slots, each running one replica process
 * of the example. When a process exits (a signal, or its run ended and it
 * quit), the slot starts a new one after a short random delay, as a
 * container platform or process manager would, until {@link stopAll}.
 */
export class ReplicaFleet {
  readonly incarnations: Incarnation[] = [];
  readonly #options: FleetOptions;
  readonly #proxies: ApiProxy[] = [];
  readonly #counts = new Map<number, number>();
  readonly #pendingRestarts = new Set<Promise<void>>();
  #restarting = true;
  /** Processes started again after they exited. */
  restarts = 0;
  /** Processes whose run had ended but that did not exit, replaced by the health check. */
  healthReplacements = 0;

  constructor(options: FleetOptions) {
    this.#options = options;
  }

  /** Starts one process in every slot. */
  async startAll(): Promise<void> {
    for (let slot = 1; slot <= this.#options.size; slot++) await this.start(slot);
  }

  /** Processes that are running and not being stopped by a signal. */
  running(): Incarnation[] {
    return this.incarnations.filter((i) => i.exit === undefined && i.signals.length === 0);
  }

  /** The process that says it polls (the most recent one, should there be two). */
  poller(): Incarnation | undefined {
    return this.running()
      .filter((i) => i.phase === "polling")
      .sort((a, b) => (b.pollingSince ?? 0) - (a.pollingSince ?? 0))[0];
  }

  async start(slot: number): Promise<Incarnation> {
    const count = (this.#counts.get(slot) ?? 0) + 1;
    this.#counts.set(slot, count);
    const id = `R${slot}.${count}`;
    let self: Incarnation | undefined;
    const early: { method: string; at: number }[] = [];
    const proxy = await ApiProxy.start(this.#options.emulatorPort, (method, at) => {
      if (self) noteRequest(self, method, at);
      else early.push({ method, at });
    });
    this.#proxies.push(proxy);
    const replica = startReplica(
      id,
      this.#options.script,
      { ...this.#options.env, BOT_API_ROOT: `http://127.0.0.1:${proxy.port}` },
      this.#options.root,
      (text) => this.#onLine(self!, text),
    );
    const incarnation: Incarnation = {
      id,
      slot,
      startedAt: now(),
      replica,
      lines: [],
      output: [],
      stderr: [],
      getUpdatesAt: [],
      methods: [],
      signals: [],
      phase: "starting",
      pollingSince: undefined,
      stopReason: undefined,
      exit: undefined,
    };
    self = incarnation;
    for (const request of early) noteRequest(incarnation, request.method, request.at);
    replica.child.stdout?.on("data", (chunk: string) => incarnation.output.push(chunk));
    replica.child.stderr?.on("data", (chunk: string) => {
      incarnation.output.push(chunk);
      incarnation.stderr.push(chunk);
    });
    this.incarnations.push(incarnation);
    this.#options.onEvent?.(incarnation, "started");
    void replica.exited.then(({ code, signal }) => this.#onExit(incarnation, code, signal, proxy));
    return incarnation;
  }

  /** Sends a signal to a running process. */
  signal(incarnation: Incarnation, signal: NodeJS.Signals, reason: Incarnation["signals"][number]["reason"]): void {
    if (incarnation.exit) return;
    incarnation.signals.push({ signal, at: now(), reason });
    this.#options.onEvent?.(incarnation, `${signal} (${reason})`);
    incarnation.replica.child.kill(signal);
  }

  /** Stops restarting, SIGTERMs every process and waits for them; SIGKILLs one that does not exit within `graceMs`. Returns those. */
  async stopAll(graceMs: number): Promise<Incarnation[]> {
    this.#restarting = false;
    while (this.#pendingRestarts.size > 0) await Promise.all([...this.#pendingRestarts]);
    const hung: Incarnation[] = [];
    const live = this.incarnations.filter((i) => i.exit === undefined);
    for (const incarnation of live) {
      if (!incarnation.signals.some((s) => s.signal === "SIGTERM")) this.signal(incarnation, "SIGTERM", "final");
    }
    await Promise.all(
      live.map(async (incarnation) => {
        let timer: NodeJS.Timeout | undefined;
        const exited = await Promise.race([
          incarnation.replica.exited.then(() => true),
          new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
        ]);
        clearTimeout(timer);
        if (!exited) {
          hung.push(incarnation);
          this.signal(incarnation, "SIGKILL", "hung");
          await incarnation.replica.exited;
        }
      }),
    );
    return hung;
  }

  /** Waits for every slot's restart that is under way. */
  async settled(): Promise<void> {
    while (this.#pendingRestarts.size > 0) await Promise.all([...this.#pendingRestarts]);
  }

  async close(): Promise<void> {
    this.#restarting = false;
    for (const incarnation of this.incarnations) {
      if (incarnation.exit === undefined) incarnation.replica.child.kill("SIGKILL");
    }
    await Promise.all(this.incarnations.map((i) => i.replica.exited));
    await Promise.all(this.#proxies.splice(0).map((p) => p.close()));
  }

  #onLine(incarnation: Incarnation, text: string): void {
    const at = now();
    incarnation.lines.push({ at, text });
    const phase = phaseAfter(text);
    if (phase !== undefined && incarnation.phase !== "exited") {
      if (phase === "polling") incarnation.pollingSince = at;
      else if (incarnation.phase === "polling") incarnation.pollingSince = undefined;
      incarnation.phase = phase;
    }
    const stopped = /stopped \(([a-z-]+)\)/.exec(text);
    if (stopped) {
      incarnation.stopReason = stopped[1];
      this.#replaceIfLingering(incarnation);
    }
    this.#options.onEvent?.(incarnation, text);
  }

  /**
   * The README's health check: an instance whose run ended is unhealthy. The
   * examples do not exit when their run ends with lock-lost or conflict, so the
   * platform replaces such a process (SIGTERM, then the usual restart).
   */
  #replaceIfLingering(incarnation: Incarnation): void {
    if (incarnation.signals.length > 0) return;
    const timer = setTimeout(() => {
      if (incarnation.exit === undefined && incarnation.signals.length === 0 && this.#restarting) {
        this.healthReplacements += 1;
        this.signal(incarnation, "SIGTERM", "health");
      }
    }, this.#options.healthCheckMs);
    void incarnation.replica.exited.then(() => clearTimeout(timer));
  }

  #onExit(incarnation: Incarnation, code: number | null, signal: NodeJS.Signals | null, proxy: ApiProxy): void {
    incarnation.exit = { code, signal, at: now() };
    incarnation.phase = "exited";
    incarnation.pollingSince = undefined;
    this.#options.onEvent?.(incarnation, `exited (${signal ?? `code ${String(code)}`})`);
    void proxy.close();
    if (!this.#restarting) return;
    const [min, max] = this.#options.restartDelayMs;
    const delay = this.#options.random.int(min, max);
    const restart = new Promise<void>((resolve) => setTimeout(resolve, delay))
      .then(async () => {
        if (!this.#restarting) return;
        this.restarts += 1;
        await this.start(incarnation.slot);
      })
      .finally(() => this.#pendingRestarts.delete(restart));
    this.#pendingRestarts.add(restart);
  }
}

function noteRequest(incarnation: Incarnation, method: string, at: number): void {
  incarnation.methods.push(method);
  if (method.toLowerCase() === "getupdates") incarnation.getUpdatesAt.push(at);
}

/** The phase a supervisor log line moves a replica to; undefined for lines that change nothing. */
function phaseAfter(line: string): ReplicaPhase | undefined {
  if (/\bstandby: /.test(line)) return "standby";
  if (/\block acquired\b/.test(line)) return "holding";
  if (/\bpolling started\b/.test(line)) return "polling";
  if (/\bconflict \(|\block lost\b|received: stopping|\block released\b|\bstopped \(/.test(line)) return "ending";
  return undefined;
}
