import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LockLostError } from "../../src/errors.js";
import { advisoryKey, postgresLock } from "../../src/locks/postgres.js";
import type { HolderRecord, LockBackend } from "../../src/locks/types.js";

// Real faults: pg_terminate_backend from a separate connection, and SIGKILL of a child process that holds the lock.

const CONNECTION_STRING = "postgres://postgres@127.0.0.1:5432/test";
const SINCE = new Date().toISOString();

function holder(instanceId: string): HolderRecord {
  return { instanceId, hostname: "test-host", pid: process.pid, since: SINCE };
}

let admin: pg.Client;
const backends: LockBackend[] = [];

function backend(): LockBackend {
  const created = postgresLock({ connectionString: CONNECTION_STRING });
  backends.push(created);
  return created;
}

/** The server pids holding (granted) or waiting for the advisory lock of `name`. */
async function lockSessions(name: string): Promise<{ readonly pid: number; readonly granted: boolean }[]> {
  const { rows } = await admin.query<{ pid: number; granted: boolean }>(
    `select pid, granted from pg_locks where locktype = 'advisory' and objsubid = 1
       and classid = (($1::bigint >> 32) & 4294967295)::oid and objid = ($1::bigint & 4294967295)::oid`,
    [advisoryKey(name).toString()],
  );
  return rows;
}

async function waitUntilWaiting(name: string): Promise<void> {
  for (let i = 0; i < 200 && !(await lockSessions(name)).some((s) => !s.granted); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: CONNECTION_STRING });
  await admin.connect();
});

afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
});

afterAll(async () => {
  await admin.end();
});

describe("postgresLock under PostgreSQL faults", () => {
  it("pg_terminate_backend on the holder's connection: lost aborts, renew is false, and the waiter is granted", async () => {
    const name = `terminate-${randomUUID()}`;
    const a = backend();
    const b = backend();
    const lease = (await a.tryAcquire({ name, holder: holder("a"), ttlMs: 60_000 }))!;
    const events: string[] = [];
    const lost = once(lease.lost, "abort").then(() => events.push("lost"));
    const waiting = b.acquire({ name, holder: holder("b"), ttlMs: 60_000 }, new AbortController().signal).then((granted) => {
      events.push("granted");
      return granted;
    });
    await waitUntilWaiting(name);
    expect(events).toEqual([]);

    const [held] = (await lockSessions(name)).filter((s) => s.granted);
    await admin.query("select pg_terminate_backend($1)", [held!.pid]);

    await lost;
    expect(lease.lost.reason).toBeInstanceOf(LockLostError);
    const granted = await waiting;
    expect(events.sort()).toEqual(["granted", "lost"]);
    expect(await lease.renew()).toBe(false);
    expect(await a.inspect(name)).toEqual(holder("b"));
    // The backend opens a new holder connection for what comes next.
    await granted.release();
    const again = await a.tryAcquire({ name, holder: holder("a2"), ttlMs: 60_000 });
    expect(again).not.toBeNull();
  });

  it("pg_terminate_backend on a waiter's connection: it opens another connection and keeps waiting", async () => {
    const name = `terminate-waiter-${randomUUID()}`;
    const a = backend();
    const b = backend();
    const lease = (await a.tryAcquire({ name, holder: holder("a"), ttlMs: 60_000 }))!;
    const waiting = b.acquire({ name, holder: holder("b"), ttlMs: 60_000 }, new AbortController().signal);
    await waitUntilWaiting(name);
    const [waiter] = (await lockSessions(name)).filter((s) => !s.granted);
    await admin.query("select pg_terminate_backend($1)", [waiter!.pid]);
    let waitingAgain = false;
    for (let i = 0; i < 300 && !waitingAgain; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      waitingAgain = (await lockSessions(name)).some((s) => !s.granted && s.pid !== waiter!.pid);
    }
    expect(waitingAgain).toBe(true);
    await lease.release();
    const granted = await waiting;
    expect(await a.inspect(name)).toEqual(holder("b"));
    await granted.release();
  });

  it("SIGKILL of a child process holding the lock: a waiter in this process is granted", async () => {
    const name = `sigkill-${randomUUID()}`;
    const fixture = fileURLToPath(new URL("./fixtures/postgres-holder.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", fixture], {
      env: { ...process.env, DATABASE_URL: CONNECTION_STRING, LOCK_NAME: name },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
      expect(JSON.parse(line)).toEqual({ held: true, pid: child.pid });
      const b = backend();
      expect((await b.inspect(name))?.pid).toBe(child.pid);

      const events: string[] = [];
      const waiting = b.acquire({ name, holder: holder("b"), ttlMs: 60_000 }, new AbortController().signal).then((granted) => {
        events.push("granted");
        return granted;
      });
      await waitUntilWaiting(name);
      expect(events).toEqual([]);

      events.push("SIGKILL");
      child.kill("SIGKILL");
      const granted = await waiting;
      expect(events).toEqual(["SIGKILL", "granted"]);
      // The child's holder row is still there, but inspect reports the session that holds the lock now.
      expect(await b.inspect(name)).toEqual(holder("b"));
      expect(await granted.renew()).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
