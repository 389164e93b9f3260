import { InvalidOptionError } from "../errors.js";
import type { UpdateStreamRecord, UpdateStreamSpec } from "./control-types.js";

interface RunningStream {
  readonly spec: UpdateStreamSpec;
  readonly startedAt: number;
  pushed: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Steady streams of updates: each pushes at `ratePerSecond`, catching up by
 * elapsed time so that rates above 1000/s work, until `count` or stopped.
 */
export class UpdateStreams {
  readonly #push: (spec: UpdateStreamSpec, n: number) => void;
  readonly #streams = new Map<number, RunningStream>();
  #lastId = 0;

  /** `push` pushes the `n`-th (1-based) update of a stream. */
  constructor(push: (spec: UpdateStreamSpec, n: number) => void) {
    this.#push = push;
  }

  /** Starts a stream and returns its id; validates the spec, which may come from HTTP. */
  start(spec: UpdateStreamSpec): number {
    checkStreamSpec(spec);
    const id = ++this.#lastId;
    const stream: RunningStream = { spec, startedAt: performance.now(), pushed: 0, timer: undefined };
    this.#streams.set(id, stream);
    const periodMs = Math.max(1, 1000 / spec.ratePerSecond);
    stream.timer = setInterval(() => this.#tick(stream), periodMs);
    return id;
  }

  /** Stops a stream; returns its final record. */
  stop(id: number): UpdateStreamRecord {
    const stream = this.#streams.get(id);
    if (!stream) throw new InvalidOptionError("id", `No update stream with id ${id}.`);
    this.#halt(stream);
    return streamRecord(id, stream);
  }

  /** Stops every stream. */
  stopAll(): void {
    for (const stream of this.#streams.values()) this.#halt(stream);
  }

  /** Every stream started, running or not. */
  list(): UpdateStreamRecord[] {
    return [...this.#streams].map(([id, stream]) => streamRecord(id, stream));
  }

  #tick(stream: RunningStream): void {
    const { ratePerSecond, count = Number.POSITIVE_INFINITY } = stream.spec;
    const due = Math.min(count, Math.floor(((performance.now() - stream.startedAt) * ratePerSecond) / 1000));
    while (stream.pushed < due) {
      stream.pushed++;
      this.#push(stream.spec, stream.pushed);
    }
    if (stream.pushed >= count) this.#halt(stream);
  }

  #halt(stream: RunningStream): void {
    clearInterval(stream.timer);
    stream.timer = undefined;
  }
}

function streamRecord(id: number, stream: RunningStream): UpdateStreamRecord {
  return {
    id,
    ratePerSecond: stream.spec.ratePerSecond,
    ...(stream.spec.count === undefined ? {} : { count: stream.spec.count }),
    pushed: stream.pushed,
    active: stream.timer !== undefined,
  };
}

function checkStreamSpec(spec: UpdateStreamSpec): void {
  if (typeof spec !== "object" || spec === null) {
    throw new InvalidOptionError("spec", `Expected an update stream spec object, got ${String(spec)}.`);
  }
  if (!(typeof spec.ratePerSecond === "number" && Number.isFinite(spec.ratePerSecond) && spec.ratePerSecond > 0)) {
    throw new InvalidOptionError(
      "ratePerSecond",
      `Expected \`ratePerSecond\` to be a positive number, got ${String(spec.ratePerSecond)}.`,
    );
  }
  if (spec.count !== undefined && !(Number.isInteger(spec.count) && spec.count > 0)) {
    throw new InvalidOptionError("count", `Expected \`count\` to be a positive integer, got ${String(spec.count)}.`);
  }
}
