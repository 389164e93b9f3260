import { existsSync, mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import fc from "fast-check";
import { Bot } from "grammy";
import { Telegraf } from "telegraf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { genericAdapter } from "../../src/adapters/generic.js";
import { grammyAdapter } from "../../src/adapters/grammy.js";
import { nodeTelegramBotApiAdapter } from "../../src/adapters/node-telegram-bot-api.js";
import { telegrafAdapter } from "../../src/adapters/telegraf.js";
import { InvalidOptionError, PollingSupervisorError } from "../../src/errors.js";
import { fileLock } from "../../src/locks/file.js";
import { memoryLock } from "../../src/locks/memory.js";
import { postgresLock } from "../../src/locks/postgres.js";
import { redisLock } from "../../src/locks/redis.js";
import type { HolderRecord, LockBackend } from "../../src/locks/types.js";
import { PollingSupervisor } from "../../src/supervisor/polling-supervisor.js";
import { createBotApiEmulator, type BotApiEmulator } from "../../src/testing/index.js";
import { parseBotApiPath, parseJsonObject, readArguments, RequestBodyError } from "../../src/testing/request-parsing.js";
import { makeToken, secretOf } from "../helpers/tokens.js";

// Bad input that the other tests leave out (options.test.ts, token.test.ts,
// the lock tests and adapters/options.test.ts cover the rest): each is a typed
// error with a stable code, thrown before any lock is taken where that is
// possible, never an unhandled rejection, never with the token in its message.
// Then properties of the emulator's request parsing, with fast-check.

const VALID = makeToken();
const adapter = () => genericAdapter({ token: VALID, poll: async () => undefined });
const holder: HolderRecord = { instanceId: "x", hostname: "h", pid: 1, since: new Date(0).toISOString() };

/** A well-formed token, the kind of value someone may paste into the wrong place. */
const tokenArb = fc
  .tuple(fc.integer({ min: 1, max: 9_999_999_999 }), fc.stringMatching(/^[A-Za-z0-9_-]{30,46}$/))
  .map(([id, secret]) => `${id}:${secret}`);

function thrown(make: () => unknown): unknown {
  try {
    make();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

/** The error must not carry the secret, nor a recognisable piece of it. */
function expectNoSecret(error: unknown, token: string): void {
  const secret = secretOf(token);
  for (const text of [(error as Error).message, String((error as Error).stack)]) {
    for (let at = 0; at + 12 <= secret.length; at += 6) expect(text).not.toContain(secret.slice(at, at + 12));
  }
}

describe("a token pasted into the wrong option", () => {
  const slots: [option: string, make: (token: string) => unknown][] = [
    ["lockName", (t) => new PollingSupervisor({ adapter: adapter(), lockName: t })],
    ["instanceId", (t) => new PollingSupervisor({ adapter: adapter(), instanceId: t })],
    ["ttlMs", (t) => new PollingSupervisor({ adapter: adapter(), ttlMs: t as never })],
    ["renewDeadlineMs", (t) => new PollingSupervisor({ adapter: adapter(), renewDeadlineMs: t as never })],
    ["renewIntervalMs", (t) => new PollingSupervisor({ adapter: adapter(), renewIntervalMs: t as never })],
    ["standbyTimeoutMs", (t) => new PollingSupervisor({ adapter: adapter(), standbyTimeoutMs: t as never })],
    ["drainTimeoutMs", (t) => new PollingSupervisor({ adapter: adapter(), drainTimeoutMs: t as never })],
    ["preflightAttempts", (t) => new PollingSupervisor({ adapter: adapter(), preflightAttempts: t as never })],
    ["dropPendingUpdates", (t) => new PollingSupervisor({ adapter: adapter(), dropPendingUpdates: t as never })],
    ["onConflict", (t) => new PollingSupervisor({ adapter: adapter(), onConflict: t as never })],
    ["onConflict", (t) => new PollingSupervisor({ adapter: adapter(), onConflict: { retries: t, delayMs: 0 } as never })],
    ["handleSignals", (t) => new PollingSupervisor({ adapter: adapter(), handleSignals: [t] as never })],
    ["adapter", (t) => new PollingSupervisor({ adapter: t as never })],
    ["lock", (t) => new PollingSupervisor({ adapter: adapter(), lock: t as never })],
    ["staleMs", (t) => fileLock({ staleMs: t as never })],
    ["pollMs", (t) => fileLock({ pollMs: t as never })],
    ["url", (t) => redisLock({ url: t })],
    ["commandTimeoutMs", (t) => redisLock({ url: "redis://127.0.0.1:6379", commandTimeoutMs: t as never })],
    ["retryIntervalMs", (t) => redisLock({ url: "redis://127.0.0.1:6379", retryIntervalMs: t as never })],
    ["tableName", (t) => postgresLock({ connectionString: "postgres://127.0.0.1/test", tableName: t })],
    ["queryTimeoutMs", (t) => postgresLock({ connectionString: "postgres://127.0.0.1/test", queryTimeoutMs: t as never })],
    ["allowConnectionPooler", (t) => postgresLock({ connectionString: "postgres://127.0.0.1/test", allowConnectionPooler: t as never })],
    ["config", (t) => postgresLock({ config: t as never })],
  ];

  it("is refused as INVALID_OPTION naming that option, and the message shows at most the bot id", () => {
    fc.assert(
      fc.property(tokenArb, fc.constantFrom(...slots), (token, [option, make]) => {
        const error = thrown(() => make(token));
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error).toMatchObject({ code: "INVALID_OPTION", option });
        expectNoSecret(error, token);
      }),
      { numRuns: 300 },
    );
  });

  it("in a lock request (ttlMs, holder) is refused the same way by every backend", async () => {
    const backends: LockBackend[] = [memoryLock({ namespace: "bad-input" }), fileLock({ dir: mkdtempSync(join(tmpdir(), "ps-bad-")) })];
    await fc.assert(
      fc.asyncProperty(tokenArb, fc.constantFrom(...backends), fc.boolean(), async (token, backend, inTtl) => {
        const request = inTtl ? { name: "n", holder, ttlMs: token as never } : { name: "n", holder: token as never, ttlMs: 1_000 };
        const error = await backend.tryAcquire(request).then(() => undefined, (e: unknown) => e);
        expect(error).toMatchObject({ code: "INVALID_OPTION", option: inTtl ? "ttlMs" : "holder" });
        expectNoSecret(error, token);
      }),
      { numRuns: 60 },
    );
    await Promise.all(backends.map((b) => b.close()));
  });
});

describe("arguments of the wrong shape", () => {
  const redisUrlWithPassword = "redis://:hunter2-secret@127.0.0.1:6379";
  it.each<[string, string, () => unknown]>([
    ["grammyAdapter(undefined)", "bot", () => grammyAdapter(undefined as never)],
    ["grammyAdapter(bot.api), not the bot", "bot", () => grammyAdapter(new Bot(VALID).api as never)],
    ["telegrafAdapter(bot.telegram), not the bot", "bot", () => telegrafAdapter(new Telegraf(VALID).telegram as never)],
    ["telegrafAdapter(null)", "bot", () => telegrafAdapter(null as never)],
    ["nodeTelegramBotApiAdapter({})", "bot", () => nodeTelegramBotApiAdapter({} as never)],
    ["a Redis URL passed where the options go", "options", () => redisLock(redisUrlWithPassword as never)],
    ["a PostgreSQL URL passed where the options go", "options", () => postgresLock("postgres://u:hunter2-secret@127.0.0.1/test" as never)],
    ["fileLock(\"/var/lock/bot\") (would otherwise be ignored)", "options", () => fileLock("/var/lock/bot" as never)],
    ["memoryLock(null)", "options", () => memoryLock(null as never)],
  ])("%s: INVALID_OPTION naming %s, never echoing a secret", (_, option, make) => {
    const error = thrown(make);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: "INVALID_OPTION", option });
    expect((error as Error).message).not.toMatch(/hunter2|AAH|:[A-Za-z0-9_-]{20}/);
    expectNoSecret(error, VALID);
  });

  it("an invalid option is refused before the lock store is touched", () => {
    const base = mkdtempSync(join(tmpdir(), "ps-bad-untouched-"));
    const dir = join(base, "locks");
    try {
      expect(() => new PollingSupervisor({ adapter: adapter(), lock: fileLock({ dir }), ttlMs: -1 })).toThrow(InvalidOptionError);
      expect(existsSync(dir)).toBe(false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

describe("a lock store or Bot API that cannot be used", () => {
  let emulator: BotApiEmulator;
  beforeAll(async () => {
    emulator = await createBotApiEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });

  it("start() rejects with a typed error, finished settles, nothing is left unhandled, and no secret is in the error", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const token = makeToken();
      emulator.registerBot(token);
      const cases: [string, () => PollingSupervisor][] = [
        ["BACKEND_UNAVAILABLE", () => supervise(token, emulator.apiRoot, redisLock({ url: "redis://:hunter2-secret@127.0.0.1:1", commandTimeoutMs: 500 }))],
        ["BACKEND_UNAVAILABLE", () => supervise(token, emulator.apiRoot, postgresLock({ connectionString: "postgres://u:hunter2-secret@127.0.0.1:1/test", queryTimeoutMs: 500 }))],
        // Under /proc, Node's recursive mkdir never settles; fileLock must fail instead of hanging.
        ["BACKEND_UNAVAILABLE", () => supervise(token, emulator.apiRoot, fileLock({ dir: "/proc/polling-supervisor-cannot-be-here/locks" }))],
        ["PREFLIGHT_FAILED", () => supervise(token, "not a url at all", memoryLock({ namespace: `bad-root-${token}` }))],
      ];
      for (const [code, make] of cases) {
        const supervisor = make();
        const error = await supervisor.start().then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(PollingSupervisorError);
        expect(error).toMatchObject({ code });
        await expect(supervisor.finished).resolves.toMatchObject({ reason: "fatal" });
        expect(String((error as Error).message) + String((error as Error).cause)).not.toContain("hunter2");
        expectNoSecret(error, token);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  }, 30_000);

  function supervise(token: string, apiRoot: string, lock: LockBackend): PollingSupervisor {
    return new PollingSupervisor({ adapter: genericAdapter({ token, apiRoot, poll: async () => undefined }), lock, logger: false, preflightAttempts: 1 });
  }
});

describe("the emulator's request parsing (properties)", () => {
  const pathSegment = fc.string({ minLength: 0, maxLength: 30 });

  it("parseBotApiPath never throws, and reads back any token and method it is given, URL-encoded", () => {
    fc.assert(
      fc.property(fc.string(), (path) => {
        const target = parseBotApiPath(path);
        return target === undefined || (typeof target.token === "string" && typeof target.method === "string");
      }),
    );
    fc.assert(
      fc.property(pathSegment.filter((t) => !t.includes("/")), pathSegment, fc.boolean(), (token, method, testEnvironment) => {
        const path = `/bot${encodeURIComponent(token)}/${testEnvironment ? "test/" : ""}${encodeURIComponent(method)}`;
        expect(parseBotApiPath(path)).toEqual({ token, method });
      }),
    );
    fc.assert(fc.property(fc.string().filter((p) => !p.startsWith("/bot")), (path) => parseBotApiPath(path) === undefined));
  });

  it("parseJsonObject returns any JSON object as it was, and refuses everything else with RequestBodyError only", () => {
    const key = fc.string().filter((k) => k !== "__proto__");
    fc.assert(
      fc.property(fc.dictionary(key, fc.jsonValue()), (object) => {
        expect(parseJsonObject(Buffer.from(JSON.stringify(object)))).toEqual(JSON.parse(JSON.stringify(object)));
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.array(fc.jsonValue()), fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)), (value) => {
        expect(() => parseJsonObject(Buffer.from(JSON.stringify(value)))).toThrow(RequestBodyError);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          const parsed = parseJsonObject(Buffer.from(bytes));
          return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
        } catch (error) {
          return error instanceof RequestBodyError;
        }
      }),
    );
  });

  /** An IncomingMessage as readArguments sees it: headers and a body stream. */
  const request = (contentType: string | undefined, body: Buffer): IncomingMessage =>
    Object.assign(Readable.from(body.length === 0 ? [] : [body]), { headers: contentType === undefined ? {} : { "content-type": contentType } }) as never;
  const pairs = fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 20 })), { maxLength: 8 });
  const lastWins = (entries: readonly [string, string][]) => Object.fromEntries(entries);

  it("readArguments merges the query string and the body, the body winning, for JSON, urlencoded and multipart bodies", async () => {
    await fc.assert(
      fc.asyncProperty(pairs, pairs, fc.constantFrom("json", "urlencoded", "multipart"), async (query, body, encoding) => {
        const url = new URL(`http://emulator/bot1/getMe?${new URLSearchParams(query)}`);
        let contentType: string;
        let bytes: Buffer;
        if (encoding === "json") {
          contentType = "application/json; charset=utf-8";
          bytes = Buffer.from(JSON.stringify(lastWins(body)));
        } else if (encoding === "urlencoded") {
          contentType = "application/x-www-form-urlencoded";
          bytes = Buffer.from(new URLSearchParams(body).toString());
        } else {
          const form = new FormData();
          for (const [name, value] of body) form.append(name, value);
          const encoded = new Response(form);
          contentType = encoded.headers.get("content-type")!;
          bytes = Buffer.from(await encoded.arrayBuffer());
        }
        const args = await readArguments(request(contentType, bytes), url);
        expect(args).toEqual({ ...lastWins(query), ...lastWins(body) });
      }),
      { numRuns: 150 },
    );
  });

  it("readArguments ignores a body of any other type, and turns a malformed one into RequestBodyError, nothing else", async () => {
    await fc.assert(
      fc.asyncProperty(
        pairs,
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.constantFrom(undefined, "text/plain", "application/octet-stream", "application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "multipart/form-data"),
        async (query, bytes, contentType) => {
          const url = new URL(`http://emulator/bot1/getMe?${new URLSearchParams(query)}`);
          const outcome = await readArguments(request(contentType, Buffer.from(bytes)), url).then(
            (args) => ({ args }),
            (error: unknown) => ({ error }),
          );
          if ("error" in outcome) {
            expect(outcome.error).toBeInstanceOf(RequestBodyError);
          } else if (contentType === undefined || contentType === "text/plain" || contentType === "application/octet-stream") {
            expect(outcome.args).toEqual(lastWins(query));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("over HTTP, no body or content type makes the emulator fail (never a 500), and it keeps serving", async () => {
    const emulator = await createBotApiEmulator();
    const token = makeToken();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 300 }),
          fc.constantFrom("application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=zz", "text/plain", "x/y"),
          // Not getUpdates: repeated with one offset, the same-offset throttle makes each a 3 s long poll.
          fc.constantFrom("sendMessage", "setWebhook", "getMe", "deleteWebhook", "getWebhookInfo"),
          async (bytes, contentType, method) => {
            const response = await fetch(`${emulator.apiRoot}/bot${token}/${method}?timeout=0`, {
              method: "POST",
              headers: { "content-type": contentType },
              body: Buffer.from(bytes),
            });
            const text = await response.text();
            expect(response.status).not.toBe(500);
            expect(() => JSON.parse(text)).not.toThrow();
          },
        ),
        { numRuns: 80 },
      );
      const me = await fetch(`${emulator.apiRoot}/bot${token}/getMe`).then((r) => r.json());
      expect(me).toMatchObject({ ok: true });
    } finally {
      await emulator.close();
    }
  }, 30_000);
});
