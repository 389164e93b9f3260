import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fileLock } from "../../src/locks/file.js";
import { createHolderRecord } from "../../src/locks/holder.js";
import { postgresLock } from "../../src/locks/postgres.js";
import { redisLock } from "../../src/locks/redis.js";
import type { LockBackend } from "../../src/locks/types.js";
import { createBotApiEmulator, type BotApiEmulator } from "../../src/testing/index.js";
import { freePort } from "../helpers/redis-server.js";
import { doctorJson, finding, makeToken } from "./harness.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test";
const HOLD_LOCK = fileURLToPath(new URL("./fixtures/hold-lock.ts", import.meta.url));

let emulator: BotApiEmulator;
let scratch: string;
const backends: LockBackend[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  emulator = await createBotApiEmulator();
  scratch = await mkdtemp(path.join(tmpdir(), "doctor-locks-"));
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(backends.splice(0).map((backend) => backend.close()));
});

afterAll(async () => {
  await emulator.close();
  await rm(scratch, { recursive: true, force: true });
});

function freshBot() {
  const token = makeToken();
  const botId = token.slice(0, token.indexOf(":"));
  return { token, botId, lockName: `bot-${botId}`, args: ["--api-root", emulator.apiRoot], env: { BOT_TOKEN: token } };
}

function track<T extends LockBackend>(backend: T): T {
  backends.push(backend);
  return backend;
}

/** Starts hold-lock.ts, waits until it holds the lock, then SIGKILLs it: a holder that never released. */
async function holdThenKill(kind: "file" | "redis", target: string, name: string): Promise<number> {
  const child = spawn(process.execPath, ["--import", "tsx", HOLD_LOCK, kind, target, name], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
  const { held, pid } = JSON.parse(line) as { held: boolean; pid: number };
  expect(held).toBe(true);
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
  return pid;
}

describe("doctor --lock-dir (file lock)", () => {
  it("names the holder of a lock held in this process and finds it alive", async () => {
    const { lockName, args, env } = freshBot();
    const dir = path.join(scratch, "held");
    const lease = await track(fileLock({ dir })).tryAcquire({ name: lockName, holder: createHolderRecord("alive-one"), ttlMs: 60_000 });
    expect(lease).not.toBeNull();
    const { code, report } = await doctorJson([...args, "--lock-dir", dir], env);
    expect(code).toBe(0);
    expect(report.lock).toEqual({
      backend: "file",
      name: lockName,
      location: `file ${path.join(dir, `${lockName}.lock`)}`,
      state: "held",
      holder: lease!.holder,
      holderAlive: true,
      pttlMs: null,
      session: null,
      waiting: null,
    });
    const held = finding(report, "LOCK_HELD");
    expect(held.level).toBe("ok");
    expect(held.message).toContain(`is held by ${hostname()} pid ${process.pid} since ${lease!.holder.since} (instance alive-one)`);
    expect(held.message).toContain(`pid ${process.pid} is alive on this host`);
  });

  it("reports a SIGKILLed holder as dead (stale), and says the next instance takes over", async () => {
    const { lockName, args, env } = freshBot();
    const dir = path.join(scratch, "killed");
    const pid = await holdThenKill("file", dir, lockName);
    const { code, report } = await doctorJson([...args, "--lock-dir", dir], env);
    expect(code).toBe(0);
    expect(report.lock).toMatchObject({ state: "stale", holderAlive: false, holder: { pid, hostname: hostname(), instanceId: "doomed-child" } });
    const dead = finding(report, "LOCK_HOLDER_DEAD");
    expect(dead.level).toBe("warn");
    expect(dead.message).toContain(`pid ${pid}`);
    expect(dead.message).toContain("that process is gone");
    expect(dead.action).toContain("takes the lock over at once");
    // The doctor only looked: the dead owner's directory is still there for the next instance to replace.
    expect(existsSync(path.join(dir, `${lockName}.lock`))).toBe(true);
  });

  it("reports a free lock, a missing directory (without creating it), and honours --lock-name", async () => {
    const { lockName, args, env } = freshBot();
    const dir = path.join(scratch, "free");
    const free = await doctorJson([...args, "--lock-dir", scratch], env);
    expect(free.report.lock?.state).toBe("free");
    expect(finding(free.report, "LOCK_FREE").message).toContain(`lock "${lockName}"`);

    const missing = await doctorJson([...args, "--lock-dir", dir], env);
    expect(missing.code).toBe(0);
    expect(finding(missing.report, "LOCK_DIR_MISSING").level).toBe("warn");
    expect(existsSync(dir)).toBe(false);

    const custom = path.join(scratch, "custom");
    await track(fileLock({ dir: custom })).tryAcquire({ name: "my-bot.prod", holder: createHolderRecord("custom"), ttlMs: 60_000 });
    const named = await doctorJson([...args, "--lock-dir", custom, "--lock-name", "my-bot.prod"], env);
    expect(named.report.lock).toMatchObject({ name: "my-bot.prod", state: "held", holder: { instanceId: "custom" } });
  });

  it("still inspects the lock when the token is missing but --lock-name is given (exit 2 for the token)", async () => {
    const dir = path.join(scratch, "no-token");
    await track(fileLock({ dir })).tryAcquire({ name: "named", holder: createHolderRecord("tokenless"), ttlMs: 60_000 });
    const { code, report } = await doctorJson(["--lock-dir", dir, "--lock-name", "named"], {});
    expect(code).toBe(2);
    expect(report.lock?.state).toBe("held");
  });
});

describe("doctor --redis", () => {
  it("names the holder of a held redisLock lease, with the key's PTTL", async () => {
    const { lockName, args, env } = freshBot();
    const lease = await track(redisLock({ url: REDIS_URL })).tryAcquire({ name: lockName, holder: createHolderRecord("redis-holder"), ttlMs: 60_000 });
    expect(lease).not.toBeNull();
    const { code, report } = await doctorJson([...args, "--redis", REDIS_URL], env);
    expect(code).toBe(0);
    expect(report.lock).toMatchObject({
      backend: "redis",
      name: lockName,
      location: `redis 127.0.0.1:6379 polling-supervisor:lock:${lockName}`,
      state: "held",
      holder: lease!.holder,
      holderAlive: true,
      session: null,
    });
    expect(report.lock?.pttlMs).toBeGreaterThan(0);
    expect(report.lock?.pttlMs).toBeLessThanOrEqual(60_000);
    expect(finding(report, "LOCK_HELD").message).toMatch(/the key lives \d+ ms more unless renewed/);
    await lease!.release();
    const after = await doctorJson([...args, "--redis", REDIS_URL], env);
    expect(after.report.lock?.state).toBe("free");
  });

  it("reads the URL from the environment variable named, and reports a SIGKILLed holder as dead until the key expires", async () => {
    const { lockName, args, env } = freshBot();
    const pid = await holdThenKill("redis", REDIS_URL, lockName);
    const { report } = await doctorJson([...args, "--redis", "DOCTOR_REDIS_URL"], { ...env, DOCTOR_REDIS_URL: REDIS_URL });
    expect(report.lock).toMatchObject({ state: "held", holderAlive: false, holder: { pid } });
    const dead = finding(report, "LOCK_HOLDER_DEAD");
    expect(dead.action).toMatch(/the key expires in \d+ ms without renewals/);
  });

  it("an unreachable Redis is exit 2 (LOCK_BACKEND_UNAVAILABLE); its password is never printed", async () => {
    const { args, env } = freshBot();
    const url = `redis://doctor:Sup3rSecretRedisPw@127.0.0.1:${await freePort()}`;
    const { code, report, output } = await doctorJson([...args, "--redis", url], env);
    expect(code).toBe(2);
    expect(report.lock?.state).toBe("unchecked");
    expect(finding(report, "LOCK_BACKEND_UNAVAILABLE").message).toContain("could not reach Redis at 127.0.0.1:");
    expect(output).not.toContain("Sup3rSecretRedisPw");
  });
});

describe("doctor --postgres", () => {
  it("names the holder of a held postgresLock lease and the session that holds the advisory lock", async () => {
    const { lockName, args, env } = freshBot();
    const lease = await track(postgresLock({ connectionString: POSTGRES_URL })).tryAcquire({
      name: lockName,
      holder: createHolderRecord("pg-holder"),
      ttlMs: 60_000,
    });
    expect(lease).not.toBeNull();
    // A password the server (trust auth) does not need: it must never be printed.
    const url = "postgres://postgres:Sup3rSecretPgPw@127.0.0.1:5432/test";
    const { code, report, output } = await doctorJson([...args, "--postgres", url], env);
    expect(code).toBe(0);
    expect(report.lock).toMatchObject({ backend: "postgres", name: lockName, state: "held", holder: lease!.holder, holderAlive: true, pttlMs: null, waiting: 0 });
    expect(report.lock?.location).toContain("postgres 127.0.0.1:5432/test advisory lock");
    const session = report.lock?.session;
    expect(session?.applicationName).toBe("polling-supervisor");
    expect(session?.clientAddress).toBe("127.0.0.1");
    expect(Date.parse(session?.connectedSince ?? "")).not.toBeNaN();
    // The session is the holder's connection: the server says so too.
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ application_name: string }>("select application_name from pg_stat_activity where pid = $1", [session?.backendPid]);
      expect(rows[0]?.application_name).toBe("polling-supervisor");
    } finally {
      await client.end();
    }
    expect(finding(report, "LOCK_HELD").message).toContain(`PostgreSQL session (backend pid ${session?.backendPid}`);
    expect(output).not.toContain("Sup3rSecretPgPw");
  });

  it("counts the sessions waiting in standby, and reports a free lock", async () => {
    const { lockName, args, env } = freshBot();
    const holder = track(postgresLock({ connectionString: POSTGRES_URL }));
    const lease = await holder.tryAcquire({ name: lockName, holder: createHolderRecord("first"), ttlMs: 60_000 });
    const waiterBackend = track(postgresLock({ connectionString: POSTGRES_URL }));
    const abort = new AbortController();
    const waiting = waiterBackend.acquire({ name: lockName, holder: createHolderRecord("second"), ttlMs: 60_000 }, abort.signal);
    waiting.catch(() => undefined);
    let report = (await doctorJson([...args, "--postgres", POSTGRES_URL], env)).report;
    for (let i = 0; i < 100 && report.lock?.waiting === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      report = (await doctorJson([...args, "--postgres", POSTGRES_URL], env)).report;
    }
    expect(report.lock).toMatchObject({ state: "held", holder: { instanceId: "first" }, waiting: 1 });
    abort.abort();
    await waiting.catch(() => undefined);
    await lease!.release();
    const free = await doctorJson([...args, "--postgres", POSTGRES_URL], env);
    expect(free.report.lock).toMatchObject({ state: "free", holder: null, session: null });
  });
});
