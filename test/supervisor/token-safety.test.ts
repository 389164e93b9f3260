import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { genericAdapter } from "../../src/adapters/generic.js";
import { fileLock } from "../../src/locks/file.js";
import { PollingSupervisor } from "../../src/supervisor/polling-supervisor.js";
import { SUPERVISOR_EVENTS } from "../../src/supervisor/events.js";
import { createBotApiEmulator, type BotApiEmulator, type BotControl } from "../../src/testing/index.js";
import { loopBot } from "../helpers/loop-bot.js";
import { makeToken, secretOf } from "../helpers/tokens.js";

let emulator: BotApiEmulator;
let token: string;
let bot: BotControl;
let lockDir: string;

beforeEach(async () => {
  emulator = await createBotApiEmulator({ timing: { longPollSecondMs: 20, conflictDelayMs: 10 } });
  token = makeToken();
  bot = emulator.registerBot(token);
  lockDir = mkdtempSync(join(tmpdir(), "ps-token-"));
});

afterEach(async () => {
  await emulator.close();
  rmSync(lockDir, { recursive: true, force: true });
});

const EVENTS = SUPERVISOR_EVENTS;

/** Collects every event payload, deeply inspected (causes and hidden fields included). */
function captureEvents(supervisor: PollingSupervisor, sink: string[]): void {
  for (const name of EVENTS) supervisor.on(name, (payload: unknown) => sink.push(inspect(payload, { depth: 10, showHidden: true })));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

describe("the token never leaks (invariant 6)", () => {
  it("through a run with a webhook, a conflict and the lock files", async () => {
    await bot.setWebhook({ url: `https://example.invalid/hook/${token}` });
    const lines: string[] = [];
    const logger = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
    const { adapter } = loopBot({ token, apiRoot: emulator.apiRoot });
    const supervisor = new PollingSupervisor({ adapter, lock: fileLock({ dir: lockDir }), logger });
    const seen: string[] = [];
    captureEvents(supervisor, seen);
    await supervisor.start();
    const lockFiles = filesUnder(lockDir).map((f) => readFileSync(f, "utf8") + f);
    expect(lockFiles.length).toBeGreaterThan(0);
    await bot.waitFor((s) => s.longPollPending);
    void fetch(`${emulator.apiRoot}/bot${token}/getUpdates?timeout=1`).catch(() => undefined);
    const finished = await supervisor.finished;
    expect(finished.reason).toBe("conflict");

    const everything = [...seen, ...lines, ...lockFiles, inspect(finished, { depth: 10, showHidden: true })];
    expect(lines.some((l) => l.includes("webhook cleared"))).toBe(true);
    expect(everything.filter((text) => text.includes(secretOf(token)))).toEqual([]);
    expect(lines.join("\n")).toContain(`${token.split(":")[0]}:***`);
  });

  it("through failures: 401, an unreachable Bot API, and a failing framework error that embeds the URL", async () => {
    const outputs: string[] = [];
    const logger = { info: (m: string) => outputs.push(m), warn: (m: string) => outputs.push(m), error: (m: string) => outputs.push(m) };
    const run = async (adapter: ReturnType<typeof genericAdapter>) => {
      const supervisor = new PollingSupervisor({ adapter, lock: fileLock({ dir: lockDir }), logger, preflightAttempts: 1 });
      captureEvents(supervisor, outputs);
      const error = await supervisor.start().catch((e: unknown) => e);
      outputs.push(inspect(error, { depth: 10, showHidden: true }), String(error));
      return error;
    };

    emulator.revokeToken(token);
    expect(await run(loopBot({ token, apiRoot: emulator.apiRoot }).adapter)).toMatchObject({ code: "UNAUTHORIZED" });

    const closed = await createBotApiEmulator();
    const deadRoot = closed.apiRoot;
    await closed.close();
    expect(await run(loopBot({ token, apiRoot: deadRoot }).adapter)).toMatchObject({ code: "PREFLIGHT_FAILED" });

    const fresh = makeToken();
    emulator.registerBot(fresh);
    const leaky = genericAdapter({
      token: fresh,
      apiRoot: emulator.apiRoot,
      poll: async () => {
        throw new Error(`request to ${emulator.apiRoot}/bot${fresh}/getUpdates failed, reason: socket hang up`);
      },
    });
    expect(await run(leaky)).toMatchObject({ code: "POLLING_FAILED" });

    expect(outputs.length).toBeGreaterThan(10);
    for (const secret of [secretOf(token), secretOf(fresh)]) {
      expect(outputs.filter((text) => text.includes(secret))).toEqual([]);
    }
  });
});
