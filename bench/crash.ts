/**
 * Takeover across real processes: the holder is a freshly started worker
 * that gets SIGKILL (a crash) or SIGTERM (a deploy, `handleSignals: true`);
 * the waiter is a long-lived worker in standby. The gap ends when the
 * waiter's first long poll reaches the emulator. Defaults everywhere
 * (ttlMs 10 s, the file lock's 1 s poll), as an application would run.
 */
import { Redis } from "ioredis";
import type { BotControl } from "../src/testing/index.js";
import { REDIS_URL, waitForNewPoller, type BenchContext } from "./context.js";
import type { LockSpec } from "./fixtures/locks.js";
import { now, sleep, Worker, type WorkerSpares } from "./workers.js";

export interface TakeoverSample {
  /** Signal sent (t0) to the waiter's first long poll at the emulator. */
  readonly gapMs: number;
  /** t0 to the waiter's first Bot API call (getWebhookInfo): detection and grant. */
  readonly waiterFirstCallMs: number | null;
  /** Redis only: what was left of the holder's key TTL at t0 (the part of the gap no waiter can skip). */
  readonly remainingTtlMs?: number;
}

let slotCounter = 0;
const nextSlot = (prefix: string) => `${prefix}-${++slotCounter}`;

async function readTakeover(control: BotControl, t0: number): Promise<Omit<TakeoverSample, "remainingTtlMs">> {
  const { poller } = await waitForNewPoller(control, t0);
  return { gapMs: poller.poll.start - t0, waiterFirstCallMs: poller.preflight ? poller.preflight.time - t0 : null };
}

/** One holder process per sample, killed with `signal`; the waiter lives in `waiter`. */
export async function takeoverSeries(
  ctx: BenchContext,
  options: {
    readonly label: string;
    readonly lock: LockSpec;
    readonly signal: "SIGKILL" | "SIGTERM";
    readonly count: number;
    readonly waiter: Worker;
    readonly spares: WorkerSpares;
  },
): Promise<TakeoverSample[]> {
  const { emulator } = ctx;
  const samples: TakeoverSample[] = [];
  for (let i = 0; i < options.count; i++) {
    const holder = await options.spares.take();
    try {
      const token = ctx.newToken();
      const holderSlot = nextSlot(`${options.label}-holder`);
      await holder.request({
        cmd: "supervise",
        slot: holderSlot,
        token,
        apiRoot: emulator.apiRoot,
        lock: options.lock,
        handleSignals: options.signal === "SIGTERM",
      });
      await holder.waitForEvent(holderSlot, "polling");
      const waiterSlot = nextSlot(`${options.label}-waiter`);
      await options.waiter.request({ cmd: "supervise", slot: waiterSlot, token, apiRoot: emulator.apiRoot, lock: options.lock });
      await options.waiter.waitForEvent(waiterSlot, "standby");
      // A random moment of the holder's renewal cycle and of the waiter's retry cycle.
      await sleep(100 + Math.random() * 700);
      const t0 = now();
      holder.child.kill(options.signal);
      await options.waiter.waitForEvent(waiterSlot, "polling", 30_000);
      samples.push(await readTakeover(emulator.bot(token), t0));
      await options.waiter.stop(waiterSlot);
      options.waiter.forgetSlot(waiterSlot);
      const exit = await holder.exited;
      if (options.signal === "SIGTERM" && exit.signal !== "SIGTERM") {
        ctx.log(`  ${options.label}: holder exited with ${exit.code ?? exit.signal} after SIGTERM (expected the signal)`);
      }
    } finally {
      if (holder.alive) holder.child.kill("SIGKILL");
      await holder.exited;
    }
  }
  return samples;
}

/**
 * Crash takeover for Redis, where each sample waits out most of a TTL:
 * `lanes` bots at once, one token (lock name) and one holder process each,
 * all killed together. Separate processes, because a process renews all its
 * leases on one beat: its keys would all have the same TTL left.
 */
export async function redisCrashLanes(
  ctx: BenchContext,
  options: {
    readonly lock: LockSpec & { readonly kind: "redis" };
    readonly lanes: number;
    readonly rounds: number;
    readonly renewIntervalMs: number;
    readonly waiter: Worker;
  },
): Promise<TakeoverSample[]> {
  const { emulator } = ctx;
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const samples: TakeoverSample[] = [];
  try {
    for (let round = 0; round < options.rounds; round++) {
      // Started at random moments: a process's renewal beat falls on multiples of the interval since its start.
      const holders = await Promise.all(
        Array.from({ length: options.lanes }, async (_, i) => {
          await sleep(Math.random() * options.renewIntervalMs);
          return Worker.start(`redis-holder-${round}-${i}`);
        }),
      );
      try {
        const lanes = await Promise.all(
          holders.map(async (holder) => {
            const token = ctx.newToken();
            const holderSlot = nextSlot("redis-crash-holder");
            await holder.request({ cmd: "supervise", slot: holderSlot, token, apiRoot: emulator.apiRoot, lock: options.lock });
            await holder.waitForEvent(holderSlot, "polling");
            const waiterSlot = nextSlot("redis-crash-waiter");
            await options.waiter.request({ cmd: "supervise", slot: waiterSlot, token, apiRoot: emulator.apiRoot, lock: options.lock });
            await options.waiter.waitForEvent(waiterSlot, "standby");
            const key = `${options.lock.keyPrefix}lock:bot-${token.slice(0, token.indexOf(":"))}`;
            return { token, waiterSlot, key };
          }),
        );
        // A random moment of every holder's renewal period.
        await sleep(Math.random() * options.renewIntervalMs);
        const pipeline = redis.pipeline();
        for (const lane of lanes) pipeline.pttl(lane.key);
        const ttls = ((await pipeline.exec()) ?? []).map(([, value]) => Number(value));
        const t0 = now();
        for (const holder of holders) holder.child.kill("SIGKILL");
        await Promise.all(
          lanes.map(async (lane, i) => {
            await options.waiter.waitForEvent(lane.waiterSlot, "polling", 30_000);
            const sample = await readTakeover(emulator.bot(lane.token), t0);
            const ttl = ttls[i];
            samples.push(ttl !== undefined && ttl >= 0 ? { ...sample, remainingTtlMs: ttl } : sample);
            await options.waiter.stop(lane.waiterSlot);
            options.waiter.forgetSlot(lane.waiterSlot);
          }),
        );
      } finally {
        for (const holder of holders) if (holder.alive) holder.child.kill("SIGKILL");
        await Promise.all(holders.map((holder) => holder.exited));
      }
  ctx.log(`  redis crash: round ${round + 1}/${options.rounds} (${samples.length} samples)`);
    }
  } finally {
    redis.disconnect();
  }
  return samples;
}
