import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, it, vi } from "vitest";
import { runChaos } from "../../chaos/run-chaos.js";
import { runDemo } from "../../src/demo/run-demo.js";
import { createBotApiEmulator, type BotApiEmulator, type BotControl } from "../../src/testing/index.js";
import { startReplica, type Replica } from "../helpers/replica.js";
import { makeToken, secretOf } from "../helpers/tokens.js";

// Invariant 6 end to end: every example, the supervisor's event payloads and
// errors with the real framework adapters and every lock store, the demo,
// doctor and a chaos run, each with known tokens, through webhooks holding
// the token, conflicts, 401s, lost locks and unreachable servers. Every byte
// they print, and everything the lock stores hold while a lock is held, is
// scanned for the secret part of every token. Lock files and their directory
// must be readable by the owner only.

/** Tokens the emulators were given, from any code in this file (the demo makes its own). */
const emulatorTokens = vi.hoisted(() => new Set<string>());

vi.mock("../../src/testing/index.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../src/testing/index.js")>();
  const note = (profile: string | { token: string }) => emulatorTokens.add(typeof profile === "string" ? profile : profile.token);
  return {
    ...original,
    createBotApiEmulator: async (options?: Parameters<typeof original.createBotApiEmulator>[0]) => {
      const emulator = await original.createBotApiEmulator(options);
      for (const profile of options?.bots ?? []) note(profile);
      return {
        ...emulator,
        registerBot: (profile: Parameters<BotApiEmulator["registerBot"]>[0]) => {
          note(profile);
          return emulator.registerBot(profile);
        },
      };
    },
  };
});

const root = fileURLToPath(new URL("../..", import.meta.url));
const REDIS_URL = "redis://127.0.0.1:6379";
const DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

let emulator: BotApiEmulator;
let redis: Redis;
let db: pg.Client;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  emulator = await createBotApiEmulator({ timing: { longPollSecondMs: 100, conflictDelayMs: 100 } });
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  redis.disconnect();
  await db.end();
  await emulator.close();
});

/** Where a secret appears: the text around it, with the secret itself masked. */
function leaks(texts: Iterable<string>): string[] {
  const secrets = [...emulatorTokens].map(secretOf);
  const found: string[] = [];
  for (const text of texts) {
    for (const secret of secrets) {
      const at = text.indexOf(secret);
      if (at !== -1) found.push(text.slice(Math.max(0, at - 80), at + secret.length + 40).replaceAll(secret, "<SECRET>"));
    }
  }
  return found;
}

/** A registered bot with a fresh token. */
function newBot(): { token: string; bot: BotControl; botId: string } {
  const token = makeToken();
  return { token, bot: emulator.registerBot(token), botId: token.split(":")[0]! };
}

/** A process whose every byte of output is kept. */
function run(name: string, script: string, env: Record<string, string>, output: string[]): Replica {
  const replica = startReplica(name, script, env);
  replica.child.stdout!.on("data", (chunk: string) => output.push(chunk));
  replica.child.stderr!.on("data", (chunk: string) => output.push(chunk));
  cleanups.push(() => {
    if (replica.child.exitCode === null && replica.child.signalCode === null) replica.child.kill("SIGKILL");
    return replica.exited;
  });
  return replica;
}

async function stop(replica: Replica): Promise<void> {
  if (replica.child.exitCode === null && replica.child.signalCode === null) replica.child.kill("SIGTERM");
  await replica.exited;
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Everything the lock stores hold now: files (path and content), Redis keys and values, the holders table. */
async function storeContents(lockDir?: string): Promise<string[]> {
  const found: string[] = [];
  if (lockDir) {
    for (const entry of readdirSync(lockDir, { recursive: true, encoding: "utf8" })) {
      const path = join(lockDir, entry);
      found.push(statSync(path).isFile() ? `${path}\n${readFileSync(path, "utf8")}` : path);
    }
  }
  for (const key of await redis.keys("polling-supervisor:*")) {
    const value = (await redis.type(key)) === "string" ? await redis.get(key) : `(${await redis.type(key)})`;
    found.push(`${key}\n${value ?? ""}`);
  }
  const table = await db.query<{ row: string }>(
    "select row_to_json(h)::text as row from polling_supervisor_holders h",
  ).catch(() => ({ rows: [] as { row: string }[] }));
  found.push(...table.rows.map((r) => r.row));
  return found;
}

/** Paths under `dir` (itself included) that anyone but the owner may read, write or enter. */
function notOwnerOnly(dir: string): string[] {
  return [dir, ...readdirSync(dir, { recursive: true, encoding: "utf8" }).map((e) => join(dir, e))]
    .map((path) => ({ path, mode: statSync(path).mode & 0o777 }))
    .filter(({ mode }) => (mode & 0o077) !== 0)
    .map(({ path, mode }) => `${path}: 0o${mode.toString(8)}`);
}

async function repliedTo(bot: BotControl, text: string): Promise<void> {
  const update = bot.pushMessage(text);
  const messageId = (update?.["message"] as { message_id: number }).message_id;
  await bot.waitFor((s) => s.replies.some((r) => r.replyToMessageId === messageId), { timeoutMs: 30_000 });
}

describe.concurrent("the token never leaks (invariant 6), end to end", () => {
  it("every example: output through a webhook, a message, conflicts, a 401, an unreachable Bot API and SIGTERM; stores; file modes", async ({ expect }) => {
    const output: string[] = [];
    const stored: string[] = [];
    const baseEnv = { REDIS_URL, DATABASE_URL };

    const fileExample = async () => {
      const { token, bot } = newBot();
      const lockDir = join(tempDir("ps-scan-file-"), "locks"); // created by the lock, with its own modes
      await bot.setWebhook({ url: `https://example.invalid/hook/${token}` });
      const replica = run("file", "examples/grammy-file-lock.ts", { ...baseEnv, BOT_TOKEN: token, BOT_API_ROOT: emulator.apiRoot, LOCK_DIR: lockDir }, output);
      await replica.waitForLine(/polling started/, 30_000);
      await repliedTo(bot, "hello");
      stored.push(...(await storeContents(lockDir)));
      expect(notOwnerOnly(lockDir)).toEqual([]);
      expect(readdirSync(lockDir, { recursive: true }).length).toBeGreaterThan(0);
      await bot.setWebhook({ url: `https://example.invalid/again/${token}` }); // an outsider: conflict (set-webhook)
      await replica.waitForLine(/stopped \(conflict\)/, 30_000);
      await stop(replica);
    };

    const redisExample = async () => {
      const { token, bot } = newBot();
      const replica = run("redis", "examples/grammy-runner-redis.ts", { ...baseEnv, BOT_TOKEN: token, BOT_API_ROOT: emulator.apiRoot }, output);
      await replica.waitForLine(/polling started/, 30_000);
      await repliedTo(bot, "hello");
      stored.push(...(await storeContents()));
      // An outsider's long poll: the runner logs the 409 with its request, the supervisor reports the conflict.
      void fetch(`${emulator.apiRoot}/bot${token}/getUpdates?timeout=3`).catch(() => undefined);
      await replica.waitForLine(/stopped \(conflict\)/, 30_000);
      await stop(replica);
    };

    const postgresExample = async () => {
      const { token, bot } = newBot();
      const replica = run("postgres", "examples/telegraf-postgres.ts", { ...baseEnv, BOT_TOKEN: token, BOT_API_ROOT: emulator.apiRoot }, output);
      await replica.waitForLine(/polling started/, 30_000);
      await repliedTo(bot, "hello");
      stored.push(...(await storeContents()));
      emulator.revokeToken(token); // 401 on the next getUpdates: fatal
      bot.pushMessage("after the revocation");
      await replica.waitForLine(/stopped \(fatal\)/, 30_000);
      await stop(replica);
    };

    const genericExample = async () => {
      const { token, bot } = newBot();
      const lockDir = tempDir("ps-scan-generic-");
      const ok = run("generic", "examples/generic-loop.ts", { BOT_TOKEN: token, BOT_API_ROOT: emulator.apiRoot, LOCK_DIR: lockDir }, output);
      await ok.waitForLine(/polling started/, 30_000);
      await repliedTo(bot, "hello");
      await stop(ok);
      // Nothing listens on the port of a closed emulator: preflight fails, with the request URL in the cause.
      const dead = await createBotApiEmulator();
      await dead.close();
      const failing = run("generic-dead", "examples/generic-loop.ts", { BOT_TOKEN: token, BOT_API_ROOT: dead.apiRoot, LOCK_DIR: lockDir }, output);
      await failing.waitForLine(/PREFLIGHT_FAILED/, 60_000);
      await stop(failing);
    };

    const unsupervisedExample = async () => {
      const { token } = newBot();
      const env = { BOT_TOKEN: token, BOT_API_ROOT: emulator.apiRoot };
      const first = run("plain-1", "examples/unsupervised-grammy.ts", env, output);
      await first.waitForLine(/polling started/, 30_000);
      const second = run("plain-2", "examples/unsupervised-grammy.ts", env, output);
      await first.waitForLine(/polling stopped/, 30_000);
      await Promise.all([stop(first), stop(second)]);
    };

    await Promise.all([fileExample(), redisExample(), postgresExample(), genericExample(), unsupervisedExample()]);
    expect(output.join("")).toMatch(/webhook cleared/);
    expect(output.join("")).toMatch(/CONFLICT|UNAUTHORIZED|PREFLIGHT_FAILED/);
    expect(stored.length).toBeGreaterThan(2);
    expect(leaks([...output, ...stored])).toEqual([]);
  }, 150_000);

  it("every event payload and error, with grammY, the runner and Telegraf on the file, Redis and PostgreSQL locks", async ({ expect }) => {
    const output: string[] = [];
    const stored: string[] = [];
    const scenario = async (framework: "grammy" | "runner" | "telegraf", lock: "file" | "redis" | "postgres") => {
      const { token, bot, botId } = newBot();
      const lockDir = join(tempDir("ps-scan-events-"), "locks");
      const applicationName = `ps-scan-${botId}`;
      const env = {
        BOT_TOKEN: token,
        BOT_API_ROOT: emulator.apiRoot,
        FRAMEWORK: framework,
        LOCK: lock,
        LOCK_DIR: lockDir,
        REDIS_URL,
        DATABASE_URL: `${DATABASE_URL}?application_name=${applicationName}`,
      };
      await bot.setWebhook({ url: `https://example.invalid/hook/${token}` });
      const a = run(`${framework}-A`, "test/fixtures/chaos-event-dump.ts", env, output);
      await a.waitForLine(/^event pollingStarted/, 30_000);
      const b = run(`${framework}-B`, "test/fixtures/chaos-event-dump.ts", env, output);
      await b.waitForLine(/^event standby/, 30_000);
      await repliedTo(bot, "hello");
      stored.push(...(await storeContents(lock === "file" ? lockDir : undefined)));
      if (lock === "file") expect(notOwnerOnly(lockDir)).toEqual([]);
      await bot.setWebhook({ url: `https://example.invalid/again/${token}` }); // A: conflict; B takes over and clears it
      await a.waitForLine(/^finished/, 30_000);
      await b.waitForLine(/^event pollingStarted/, 30_000);
      if (lock === "file") {
        emulator.revokeToken(token); // B: 401, fatal
        bot.pushMessage("after the revocation");
      } else if (lock === "redis") {
        await redis.del(`polling-supervisor:lock:bot-${botId}`); // B: the store gave the lock away (refused)
      } else {
        await db.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1", [applicationName]); // B: backend
      }
      await b.waitForLine(/^finished/, 30_000);
      await Promise.all([a.exited, b.exited]);
    };
    await Promise.all([scenario("grammy", "file"), scenario("runner", "redis"), scenario("telegraf", "postgres")]);
    const text = output.join("");
    for (const event of ["standby", "lockAcquired", "webhookCleared", "pollingStarted", "conflict", "lockLost", "lockReleased", "stopped", "error"]) {
      expect(text).toContain(`event ${event} `);
    }
    expect(text).toMatch(/UNAUTHORIZED/);
    expect(text).toMatch(/code: 'LOCK_LOST'/);
    expect(leaks([...output, ...stored])).toEqual([]);
  }, 150_000);

  it("the demo's output (it registers its own tokens with its emulator)", async ({ expect }) => {
    const lines: string[] = [];
    const before = new Set(emulatorTokens);
    const code = await runDemo({ root, write: (line) => lines.push(line) });
    expect(code, lines.join("\n")).toBe(0);
    expect([...emulatorTokens].filter((t) => !before.has(t)).length).toBeGreaterThanOrEqual(2);
    expect(leaks(lines)).toEqual([]);
  }, 150_000);

  it("doctor: healthy, with a webhook holding the token, with each lock store, 401, unreachable, and a token on the command line", async ({ expect }) => {
    const { token, bot } = newBot();
    await bot.setWebhook({ url: `https://example.invalid/hook/${token}` });
    const tokenFile = join(tempDir("ps-scan-doctor-"), "token");
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const lockDir = tempDir("ps-scan-doctor-locks-");
    const doctor = async (args: string[], env: Record<string, string> = { BOT_TOKEN: token }) => {
      const output: string[] = [];
      const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "doctor", ...args], {
        cwd: root,
        env: { ...process.env, BOT_TOKEN: "", ...env, FORCE_COLOR: "0" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
      child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      return { code, text: output.join("") };
    };
    const dead = await createBotApiEmulator();
    await dead.close();
    const api = ["--api-root", emulator.apiRoot];
    // One at a time: each is a tsx process, and the lock stores get 2 s per command. On a loaded
    // machine a store may still miss that; such a run is repeated once (the scan reads both).
    const runs: { code: number | null; text: string }[] = [];
    const retried: { code: number | null; text: string }[] = [];
    for (const args of [
      [...api, "--lock-dir", lockDir],
      [...api, "--lock-dir", lockDir, "--json"],
      [...api, "--redis", REDIS_URL],
      [...api, "--postgres", DATABASE_URL, "--json"],
    ]) {
      let result = await doctor(args);
      if (result.code === 2 && /could not reach (Redis|PostgreSQL)|did not answer/i.test(result.text)) {
        retried.push(result);
        result = await doctor(args);
      }
      runs.push(result);
    }
    runs.push(await doctor([...api, "--token-file", tokenFile, "--lock-dir", lockDir], {}));
    runs.push(await doctor(["--api-root", dead.apiRoot, "--lock-dir", lockDir, "--timeout-ms", "2000"]));
    runs.push(await doctor([...api, "--token", token], {}));
    runs.push(await doctor([...api, `--token=${token}`], {}));
    runs.push(await doctor([...api, token], {}));
    const deleted = await doctor([...api, "--lock-dir", lockDir, "--delete-webhook"]);
    emulator.revokeToken(token);
    const revoked = await doctor([...api, "--lock-dir", lockDir]);
    const all = [...runs, deleted, revoked];
    // A webhook is a problem (1); unreachable or a token in the arguments: could not check (2); deleted: healthy (0); revoked: 401 (1).
    expect(all.map((r) => r.code), all.map((r) => `${r.code}: ${r.text}`).join("\n---\n")).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 0, 1]);
    expect(all.every((r) => r.text.length > 0)).toBe(true);
    expect(revoked.text).toMatch(/401|[Uu]nauthorized/);
    expect(leaks([...all, ...retried].map((r) => r.text))).toEqual([]);
  }, 120_000);

  it("a chaos run with a known token: every replica's output, the report and the Redis keys while held", async ({ expect }) => {
    const token = makeToken();
    emulatorTokens.add(token);
    const stored: string[] = [];
    const { report, replicaOutput } = await runChaos({
      backend: "redis",
      root,
      token,
      durationMs: 6_000,
      intervalMs: [700, 1_500],
      onStoreSample: (contents) => stored.push(...contents),
    });
    expect(report.kills + report.gracefulStops + Object.keys(report.storeFaults).length).toBeGreaterThan(0);
    expect(stored.some((entry) => entry.includes(`lock:bot-${token.split(":")[0]}`))).toBe(true);
    expect(leaks([...replicaOutput, JSON.stringify(report), ...stored])).toEqual([]);
  }, 150_000);
});
