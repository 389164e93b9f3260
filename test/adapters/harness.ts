import { run } from "@grammyjs/runner";
import { Bot as GrammyBot } from "grammy";
import { Bot as NtbaBot } from "node-telegram-bot-api";
import { Telegraf } from "telegraf";
import { afterEach } from "vitest";
import { grammyAdapter } from "../../src/adapters/grammy.js";
import { nodeTelegramBotApiAdapter } from "../../src/adapters/node-telegram-bot-api.js";
import { telegrafAdapter } from "../../src/adapters/telegraf.js";
import type { BotAdapter, GetUpdatesOutcome, GetUpdatesParams, PollingGate } from "../../src/adapters/types.js";
import { LeaseNotValidError } from "../../src/errors.js";
import { createBotApiEmulator, type BotApiEmulator, type BotControl, type GetUpdatesRecord } from "../../src/testing/index.js";

/** A well-formed token; never a real one. */
export const TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345";

/**
 * The real server's same-offset throttle and 409 rule, with one long-poll
 * second lasting 20 ms so that grammY's 30 s poll takes 600 ms and a throttled
 * confirmation (3 "seconds") shows in the records without costing 3 s.
 */
export async function startEmulator(): Promise<{ emulator: BotApiEmulator; control: BotControl }> {
  const emulator = await createBotApiEmulator({ timing: { longPollSecondMs: 20, conflictDelayMs: 0 } });
  closers.push(() => emulator.close());
  return { emulator, control: emulator.bot(TOKEN) };
}

const closers: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Runs `close` after the current test, before the emulator closes. */
export function onCleanup(close: () => Promise<unknown> | void): void {
  closers.push(close);
}

/**
 * A real {@link PollingGate} for adapter tests: counts what passes, can
 * refuse like a supervisor whose lease is gone, and can abort like one that
 * lost its lease mid-poll.
 */
export class TestGate implements PollingGate {
  readonly #controller = new AbortController();
  readonly entered: GetUpdatesParams[] = [];
  readonly refused: GetUpdatesParams[] = [];
  readonly outcomes: GetUpdatesOutcome[] = [];
  /** Every enter after this many is refused. */
  allow = Infinity;
  /** Called on each enter that passes, with its 1-based count, before the request is sent. */
  onEnter: ((count: number) => void) | undefined;

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  enter(params: GetUpdatesParams): AbortSignal {
    if (this.entered.length >= this.allow || this.signal.aborted) {
      this.refused.push(params);
      throw new LeaseNotValidError("the test gate refuses");
    }
    this.entered.push(params);
    this.onEnter?.(this.entered.length);
    return this.signal;
  }

  settled(outcome: GetUpdatesOutcome): void {
    this.outcomes.push(outcome);
  }

  abort(reason: Error): void {
    this.#controller.abort(reason);
  }
}

/** Handles one update; the harness records the ids in order. */
export type Handler = (updateId: number) => Promise<void> | void;

/** One framework, built on a real client pointed at the emulator. */
export interface FrameworkBot {
  readonly adapter: BotAdapter;
  /** update_ids in the order their handler finished. */
  readonly handled: number[];
  /** Starts polling the way the framework's docs say, bypassing the supervisor. */
  startDirectly(): Promise<unknown>;
  /** The same bot object, adapted a second time. */
  adaptAgain(): BotAdapter;
}

export type FrameworkName = "grammy" | "grammy-runner" | "telegraf" | "node-telegram-bot-api";

export interface Framework {
  readonly name: FrameworkName;
  /**
   * Whether a stop lets the loop finish the batch it received. node-telegram-bot-api's
   * loop stops between two updates of a batch; the rest stay on the Bot API.
   */
  readonly finishesBatchOnStop: boolean;
  create(apiRoot: string, handler?: Handler): FrameworkBot;
}

function recorder(handler: Handler | undefined) {
  const handled: number[] = [];
  const handle = async (updateId: number) => {
    await handler?.(updateId);
    handled.push(updateId);
  };
  return { handled, handle };
}

export const FRAMEWORKS: readonly Framework[] = [
  {
    name: "grammy",
    finishesBatchOnStop: true,
    create(apiRoot, handler) {
      const { handled, handle } = recorder(handler);
      const bot = new GrammyBot(TOKEN, { client: { apiRoot } });
      bot.use((ctx) => handle(ctx.update.update_id));
      bot.catch(() => {});
      return { adapter: grammyAdapter(bot), handled, startDirectly: () => bot.start(), adaptAgain: () => grammyAdapter(bot) };
    },
  },
  {
    name: "grammy-runner",
    finishesBatchOnStop: true,
    create(apiRoot, handler) {
      const { handled, handle } = recorder(handler);
      const bot = new GrammyBot(TOKEN, { client: { apiRoot } });
      bot.use((ctx) => handle(ctx.update.update_id));
      bot.catch(() => {});
      const options = { runner: { silent: true } };
      const runner = { run, options };
      return {
        adapter: grammyAdapter(bot, { runner }),
        handled,
        startDirectly: async () => {
          const handle = run(bot, options);
          onCleanup(() => handle.stop());
          return handle.task();
        },
        adaptAgain: () => grammyAdapter(bot, { runner }),
      };
    },
  },
  {
    name: "telegraf",
    finishesBatchOnStop: true,
    create(apiRoot, handler) {
      const { handled, handle } = recorder(handler);
      const bot = new Telegraf(TOKEN, { telegram: { apiRoot } });
      bot.use((ctx) => handle(ctx.update.update_id));
      bot.catch(() => {});
      return { adapter: telegrafAdapter(bot), handled, startDirectly: () => bot.launch(), adaptAgain: () => telegrafAdapter(bot) };
    },
  },
  {
    name: "node-telegram-bot-api",
    finishesBatchOnStop: false,
    create(apiRoot, handler) {
      const { handled, handle } = recorder(handler);
      const bot = new NtbaBot(TOKEN, { apiRoot });
      bot.use((ctx) => handle(ctx.update.update_id));
      return {
        adapter: nodeTelegramBotApiAdapter(bot),
        handled,
        startDirectly: () => bot.startPolling(),
        adaptAgain: () => nodeTelegramBotApiAdapter(bot),
      };
    },
  },
];

/**
 * The getUpdates the same-offset throttle turned into a long poll that waited:
 * what a graceful stop must never cause. (A throttled request that finds
 * updates waiting is answered at once and costs nothing.)
 */
export function pollsMadeToWait(getUpdates: readonly GetUpdatesRecord[]): GetUpdatesRecord[] {
  return getUpdates.filter((g) => g.throttled.timeout && g.longPoll);
}

/** A promise and its resolve function, to hold a handler until the test lets it go. */
export function latch(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { promise, release };
}

/** Resolves once `predicate` holds, checking after every turn of the event loop (guarded by a generous timeout). */
export async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** How a settled promise ended, without throwing. */
export async function outcomeOf(promise: Promise<unknown>): Promise<{ ok: true } | { ok: false; error: unknown }> {
  try {
    await promise;
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}
