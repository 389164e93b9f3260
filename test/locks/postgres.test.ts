import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BackendUnavailableError, InvalidOptionError } from "../../src/errors.js";
import type { PostgresLockOptions } from "../../src/locks/postgres.js";
import { detectPooler } from "../../src/locks/postgres-connection.js";
import { advisoryKey, ConnectionPoolerError, postgresLock } from "../../src/locks/postgres.js";
import type { HolderRecord, Lease, LockBackend } from "../../src/locks/types.js";
import { freePort } from "../helpers/redis-server.js";
import type { ChunkTransform } from "../helpers/tcp-proxy.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

const CONNECTION_STRING = "postgres://postgres@127.0.0.1:5432/test";
const SINCE = new Date().toISOString();

function holder(instanceId: string): HolderRecord {
  return { instanceId, hostname: "test-host", pid: process.pid, since: SINCE };
}

function uniqueName(label: string): string {
  return `${label}-${randomUUID()}`;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Splits one direction of a PostgreSQL protocol stream into messages and
 * passes each to `onMessage`, which returns the bytes to forward. The client's
 * first message (startup) has no type byte.
 */
function pgMessages(startsWithStartup: boolean, onMessage: (type: string, message: Buffer) => Buffer): ChunkTransform {
  let pending = Buffer.alloc(0);
  let awaitingStartup = startsWithStartup;
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      if (awaitingStartup) {
        if (pending.length < 4 || pending.length < pending.readInt32BE(0)) break;
        const length = pending.readInt32BE(0);
        out.push(pending.subarray(0, length));
        pending = pending.subarray(length);
        awaitingStartup = false;
        continue;
      }
      if (pending.length < 5 || pending.length < pending.readInt32BE(1) + 1) break;
      const length = pending.readInt32BE(1) + 1;
      const message = pending.subarray(0, length);
      out.push(onMessage(String.fromCharCode(message[0]!), message));
      pending = pending.subarray(length);
    }
    return Buffer.concat(out);
  };
}

/**
 * Calls renew() from one timer per lease, all due at the same moment, as when
 * several supervisors' renew timers fire together. The busy wait makes sure
 * every timer is due before the timers phase runs (creating them may cross a
 * millisecond boundary).
 */
function renewFromTimersDueTogether(leases: readonly Lease[]): Promise<boolean[]> {
  const renewed = Promise.all(leases.map((lease) => new Promise<boolean>((resolve, reject) => setTimeout(() => lease.renew().then(resolve, reject), 5))));
  const until = performance.now() + 20;
  while (performance.now() < until);
  return renewed;
}

let admin: pg.Client;
const backends: LockBackend[] = [];
const proxies: TcpProxy[] = [];

function backend(options: PostgresLockOptions = { connectionString: CONNECTION_STRING }): LockBackend {
  const created = postgresLock(options);
  backends.push(created);
  return created;
}

async function sessionsNamed(applicationName: string): Promise<number> {
  const { rows } = await admin.query<{ count: string }>("select count(*) from pg_stat_activity where application_name = $1", [applicationName]);
  return Number(rows[0]!.count);
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: CONNECTION_STRING });
  await admin.connect();
});

afterEach(async () => {
  await Promise.all(backends.splice(0).map((b) => b.close()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await admin.end();
});

describe("advisoryKey", () => {
  it("is the first 8 bytes of SHA-256 of the name as a signed bigint, the same as PostgreSQL computes it", async () => {
    for (const name of ["bot:123456", "ünïcödé", uniqueName("key")]) {
      const { rows } = await admin.query<{ key: string }>(
        "select ('x' || substr(encode(sha256(convert_to($1, 'UTF8')), 'hex'), 1, 16))::bit(64)::bigint::text as key",
        [name],
      );
      expect(advisoryKey(name).toString()).toBe(rows[0]!.key);
    }
    expect(advisoryKey("a")).toBe(advisoryKey("a"));
    expect(advisoryKey("a")).not.toBe(advisoryKey("b"));
  });
});

describe("postgresLock", () => {
  it("records the holder in the holders table and deletes the row on release", async () => {
    const name = uniqueName("row");
    const lease = (await backend().tryAcquire({ name, holder: holder("a"), ttlMs: 10_000 }))!;
    const { rows } = await admin.query<{ holder: HolderRecord; backend_pid: number }>(
      "select holder, backend_pid from polling_supervisor_holders where name = $1",
      [name],
    );
    expect(rows[0]!.holder).toEqual(holder("a"));
    const { rows: locks } = await admin.query<{ pid: number }>(
      "select pid from pg_locks where locktype = 'advisory' and granted and objid = ($1::bigint & 4294967295)::oid",
      [advisoryKey(name).toString()],
    );
    expect(locks.map((l) => l.pid)).toEqual([rows[0]!.backend_pid]);
    await lease.release();
    const { rowCount } = await admin.query("select 1 from polling_supervisor_holders where name = $1", [name]);
    expect(rowCount).toBe(0);
  });

  it("inspect() says null when nobody holds the advisory lock, even with a stale holder row", async () => {
    const name = uniqueName("stale");
    const lock = backend();
    await admin.query("insert into polling_supervisor_holders (name, holder, backend_pid) values ($1, $2, 1)", [name, JSON.stringify(holder("ghost"))]);
    expect(await lock.inspect(name)).toBeNull();
    const lease = (await lock.tryAcquire({ name, holder: holder("a"), ttlMs: 10_000 }))!;
    expect(await lock.inspect(name)).toEqual(holder("a"));
    await lease.release();
  });

  it("inspect() reports a session that holds the key without a holder row as an unknown holder", async () => {
    const name = uniqueName("foreign");
    const other = new pg.Client({ connectionString: CONNECTION_STRING });
    await other.connect();
    try {
      await other.query("select pg_advisory_lock($1::bigint)", [advisoryKey(name).toString()]);
      const seen = await backend().inspect(name);
      expect(seen?.instanceId).toMatch(/^unknown \(PostgreSQL backend \d+\)$/);
      expect(await backend().tryAcquire({ name, holder: holder("a"), ttlMs: 10_000 })).toBeNull();
    } finally {
      await other.end();
    }
  });

  it("heartbeats of many leases due in the same tick are one statement on the holder connection", async () => {
    let statements = 0;
    const proxy = await TcpProxy.start(5432, () => ({
      toServer: pgMessages(true, (type, message) => {
        // One parameterised query ends with Sync; a simple query is one Query message.
        if (type === "S" || type === "Q") statements++;
        return message;
      }),
    }));
    proxies.push(proxy);
    const lock = backend({ connectionString: `postgres://postgres@127.0.0.1:${proxy.port}/test` });
    const leases = await Promise.all(Array.from({ length: 12 }, (_, i) => lock.tryAcquire({ name: uniqueName(`batch-${i}`), holder: holder(`h${i}`), ttlMs: 60_000 })));
    expect(leases.every((lease) => lease !== null)).toBe(true);

    statements = 0;
    expect(await Promise.all(leases.map((lease) => lease!.renew()))).toEqual(Array(12).fill(true));
    expect(statements).toBe(1);

    statements = 0;
    const renewed = renewFromTimersDueTogether(leases.map((lease) => lease!));
    expect(await renewed).toEqual(Array(12).fill(true));
    expect(statements).toBe(1);
  });

  it("an aborted waiter leaves no waiting session behind, and close() ends every connection it opened", async () => {
    const name = uniqueName("abort");
    const applicationName = `ps-test-${randomUUID().slice(0, 8)}`;
    const config = { host: "127.0.0.1", port: 5432, user: "postgres", database: "test", application_name: applicationName };
    const holderLock = backend();
    const lease = (await holderLock.tryAcquire({ name, holder: holder("a"), ttlMs: 10_000 }))!;
    const waiterLock = postgresLock({ config });
    const controllers = [new AbortController(), new AbortController()];
    const waiting = controllers.map((c, i) => waiterLock.acquire({ name, holder: holder(`w${i}`), ttlMs: 10_000 }, c.signal));
    await delay(200);
    // The holder connection (from the first tryAcquire) and one connection per waiter.
    expect(await sessionsNamed(applicationName)).toBe(3);
    const waitingLocks = async () =>
      Number(
        (
          await admin.query<{ count: string }>(
            "select count(*) from pg_locks where locktype = 'advisory' and not granted and objid = ($1::bigint & 4294967295)::oid",
            [advisoryKey(name).toString()],
          )
        ).rows[0]!.count,
      );
    expect(await waitingLocks()).toBe(2);

    controllers[0]!.abort(new Error("gave up"));
    await expect(waiting[0]).rejects.toThrow("gave up");
    expect(await waitingLocks()).toBe(1);
    expect(await sessionsNamed(applicationName)).toBe(2);

    await waiterLock.close();
    await expect(waiting[1]).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(await waitingLocks()).toBe(0);
    expect(await sessionsNamed(applicationName)).toBe(0);
    expect(await holderLock.inspect(name)).toEqual(holder("a"));
    await lease.release();
  });
});

describe("postgresLock options and errors", () => {
  it("refuses bad options, naming the option", () => {
    const cases: [() => unknown, string][] = [
      [() => postgresLock(), "connectionString"],
      [() => postgresLock({ connectionString: undefined }), "connectionString"],
      [() => postgresLock({ connectionString: CONNECTION_STRING, config: {} }), "connectionString"],
      [() => postgresLock({ connectionString: "" }), "connectionString"],
      [() => postgresLock({ connectionString: CONNECTION_STRING, tableName: "x; drop table y" }), "tableName"],
      [() => postgresLock({ connectionString: CONNECTION_STRING, queryTimeoutMs: -1 }), "queryTimeoutMs"],
    ];
    for (const [make, option] of cases) {
      expect(make).toThrow(InvalidOptionError);
      try {
        make();
      } catch (error) {
        expect((error as InvalidOptionError).option).toBe(option);
      }
    }
  });

  it("uses the table named by tableName, creating it if missing", async () => {
    const table = `ps_test_${randomUUID().replaceAll("-", "")}`;
    try {
      const lease = await backend({ connectionString: CONNECTION_STRING, tableName: `public.${table}` }).tryAcquire({
        name: uniqueName("table"),
        holder: holder("a"),
        ttlMs: 1000,
      });
      const { rowCount } = await admin.query(`select 1 from public.${table}`);
      expect(rowCount).toBe(1);
      await lease!.release();
    } finally {
      await backends.pop()!.close();
      await admin.query(`drop table if exists public.${table}`);
    }
  });

  it("an unreachable server is BackendUnavailableError naming host:port, never the password", async () => {
    const port = await freePort();
    const lock = backend({ connectionString: `postgres://postgres:s3cret-pw@127.0.0.1:${port}/test` });
    const error = (await lock.tryAcquire({ name: "x", holder: holder("a"), ttlMs: 1000 }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toContain(`could not reach PostgreSQL at 127.0.0.1:${port}/test`);
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.message).not.toContain("s3cret");
    await expect(lock.acquire({ name: "x", holder: holder("a"), ttlMs: 1000 }, new AbortController().signal)).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
  });

  it("a missing database is BackendUnavailableError that says so", async () => {
    const lock = backend({ config: { host: "127.0.0.1", port: 5432, user: "postgres", password: "s3cret-pw", database: "no_such_db_ps" } });
    const error = (await lock.inspect("x").catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toContain("127.0.0.1:5432/no_such_db_ps has no such database");
    expect(error.message).not.toContain("s3cret");
  });
});

describe("postgresLock behind a connection pooler", () => {
  it("detectPooler: different backend pids across statements is transaction pooling; a changed startup pid is a pooler", () => {
    expect(detectPooler(100, [100, 100])).toBeUndefined();
    expect(detectPooler(null, [100, 100])).toBeUndefined();
    expect(detectPooler(100, [100, 200])).toMatchObject({ transactionMode: true });
    expect(detectPooler(null, [100, 200])).toMatchObject({ transactionMode: true });
    expect(detectPooler(7, [100, 100])).toMatchObject({ transactionMode: false });
  });

  // No PgBouncer here: a proxy that rewrites the BackendKeyData process id does what PgBouncer,
  // Supavisor and pgcat do at connect (they hand the client a key of their own).
  async function fakePooler(): Promise<TcpProxy> {
    const proxy = await TcpProxy.start(5432, () => ({
      toClient: pgMessages(false, (type, message) => {
        if (type !== "K") return message;
        const rewritten = Buffer.from(message);
        rewritten.writeInt32BE(message.readInt32BE(5) ^ 0x5a5a5a, 5);
        return rewritten;
      }),
    }));
    proxies.push(proxy);
    return proxy;
  }

  it("refuses with ConnectionPoolerError that says to connect directly", async () => {
    const proxy = await fakePooler();
    const lock = backend({ connectionString: `postgres://postgres@127.0.0.1:${proxy.port}/test` });
    const error = (await lock.tryAcquire({ name: uniqueName("pooler"), holder: holder("a"), ttlMs: 1000 }).catch((e: unknown) => e)) as ConnectionPoolerError;
    expect(error).toBeInstanceOf(ConnectionPoolerError);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.code).toBe("BACKEND_UNAVAILABLE");
    expect(error.message).toMatch(/connect directly to PostgreSQL/);
    expect(error.message).toMatch(/allowConnectionPooler: true/);
  });

  it("accepts a session-mode pooler when allowConnectionPooler is true", async () => {
    const proxy = await fakePooler();
    const lock = backend({ connectionString: `postgres://postgres@127.0.0.1:${proxy.port}/test`, allowConnectionPooler: true });
    const lease = await lock.tryAcquire({ name: uniqueName("session-pooler"), holder: holder("a"), ttlMs: 1000 });
    expect(lease).not.toBeNull();
    expect(await lease!.renew()).toBe(true);
    await lease!.release();
  });
});

describe("postgresLock without pg installed", () => {
  it("rejects with MissingDependencyError naming pg", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/postgres-missing-client.ts", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", fixture], {
      env: { ...process.env, DATABASE_URL: CONNECTION_STRING },
    });
    expect(JSON.parse(stdout.trim())).toMatchObject({ name: "MissingDependencyError", code: "MISSING_DEPENDENCY", packageName: "pg" });
  });
});
