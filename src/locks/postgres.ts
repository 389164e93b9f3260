import { BackendUnavailableError, InvalidOptionError, LockLostError } from "../errors.js";
import { abortable, sleep } from "./abortable.js";
import { advisoryKey } from "./advisory-key.js";
import { assertAcquireRequest, assertOptionsObject, describeValue } from "./holder.js";
import type { PgClientConfig, PgConnectSettings } from "./postgres-connection.js";
import { describePg, openPgConnection } from "./postgres-connection.js";
import { PgSession } from "./postgres-session.js";
import type { AcquireRequest, HolderRecord, Lease, LockBackend } from "./types.js";

export { advisoryKey } from "./advisory-key.js";
export { ConnectionPoolerError } from "./postgres-connection.js";
export type { PgClientConfig } from "./postgres-connection.js";

/** Options for {@link postgresLock}. Pass exactly one of `connectionString` and `config`. */
export interface PostgresLockOptions {
  /**
   * `postgres://user:password@host:5432/database`. `undefined` is accepted so
   * that `{ connectionString: process.env.DATABASE_URL }` type-checks; it
   * fails with a clear error.
   */
  readonly connectionString?: string | undefined;
  /** A `pg` client configuration (host, port, user, password, database, ssl, ...), instead of `connectionString`. */
  readonly config?: PgClientConfig | undefined;
  /**
   * The table that records who holds each lock (created if missing):
   * `name text primary key, holder jsonb, backend_pid integer, updated_at timestamptz`.
   * May be schema-qualified (`locks.holders`).
   * @default "polling_supervisor_holders"
   */
  readonly tableName?: string;
  /**
   * How long connecting, or any statement other than the wait for the lock
   * itself, may take before the call rejects with {@link BackendUnavailableError}.
   * @default 5000
   */
  readonly queryTimeoutMs?: number;
  /**
   * Accept a connection through a pooler that runs in session mode (each
   * client keeps one server connection for its whole life). A pooler in
   * transaction or statement mode is refused whatever this says, because a
   * session advisory lock would be taken on a server connection that other
   * clients then use.
   * @default false
   */
  readonly allowConnectionPooler?: boolean;
}

const DEFAULT_TABLE = "polling_supervisor_holders";
const DEFAULT_QUERY_TIMEOUT_MS = 5000;
/** How long a waiter whose own connection dropped waits before opening another. */
const WAITER_RECONNECT_DELAY_MS = 1000;

/**
 * A lock backend on PostgreSQL session advisory locks (`pg_advisory_lock` on
 * a 64-bit hash of the lock name, see {@link advisoryKey}). The backend holds
 * locks on one dedicated connection (never a pool); each waiting `acquire()`
 * blocks in `pg_advisory_lock` on a connection of its own, so a release, or a
 * crashed holder's dropped connection, grants it at once. A lease lasts as
 * long as the connection that holds it: `renew()` is a heartbeat that checks
 * `pg_locks`, and a connection error or end aborts `lost` at once.
 *
 * Connect directly to PostgreSQL: a pooler in transaction mode (PgBouncer,
 * Supavisor, pgcat) is detected and refused with {@link ConnectionPoolerError}.
 *
 * @example
 * ```ts
 * const lock = postgresLock({ connectionString: process.env.DATABASE_URL });
 * ```
 */
export function postgresLock(options: PostgresLockOptions = {}): LockBackend {
  assertOptionsObject(options, "postgresLock({ connectionString: process.env.DATABASE_URL })");
  const { connectionString, config } = options;
  if (connectionString !== undefined && config !== undefined) {
    throw new InvalidOptionError("connectionString", "Pass either `connectionString` or `config` to postgresLock, not both.");
  }
  if (connectionString === undefined && config === undefined) {
    throw new InvalidOptionError(
      "connectionString",
      "postgresLock needs `connectionString` (e.g. `postgresLock({ connectionString: process.env.DATABASE_URL })`) or `config`, got neither: is DATABASE_URL set?",
    );
  }
  if (connectionString !== undefined && (typeof connectionString !== "string" || connectionString.length === 0)) {
    // Never echo the value: it may carry a password.
    throw new InvalidOptionError("connectionString", "Expected `connectionString` to be a non-empty string like postgres://user:password@host:5432/database.");
  }
  if (config !== undefined && (typeof config !== "object" || config === null)) {
    throw new InvalidOptionError("config", `Expected \`config\` to be a pg client configuration object, got ${describeValue(config)}.`);
  }
  const tableName = options.tableName ?? DEFAULT_TABLE;
  if (typeof tableName !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(tableName)) {
    throw new InvalidOptionError(
      "tableName",
      `Expected \`tableName\` to be a table name like polling_supervisor_holders or schema.table (letters, digits, _), got ${describeValue(tableName)}.`,
    );
  }
  const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  if (typeof queryTimeoutMs !== "number" || !Number.isFinite(queryTimeoutMs) || queryTimeoutMs <= 0) {
    throw new InvalidOptionError("queryTimeoutMs", `Expected \`queryTimeoutMs\` to be a positive finite number, got ${describeValue(queryTimeoutMs)}.`);
  }
  const allowConnectionPooler = options.allowConnectionPooler ?? false;
  if (typeof allowConnectionPooler !== "boolean") {
    throw new InvalidOptionError("allowConnectionPooler", `Expected \`allowConnectionPooler\` to be a boolean, got ${describeValue(allowConnectionPooler)}.`);
  }
  const pgConfig: PgClientConfig = config ?? { connectionString };
  return new PostgresLockBackend({
    connect: { config: pgConfig, connectTimeoutMs: queryTimeoutMs, allowConnectionPooler },
    table: tableName
      .split(".")
      .map((part) => `"${part}"`)
      .join("."),
    queryTimeoutMs,
  });
}

interface BackendSettings {
  readonly connect: PgConnectSettings;
  /** The holders table, quoted for SQL. */
  readonly table: string;
  readonly queryTimeoutMs: number;
}

class PostgresLockBackend implements LockBackend {
  readonly kind = "postgres";
  readonly #settings: BackendSettings;
  readonly #where: string;
  readonly #sql: ReturnType<typeof statements>;
  readonly #leases = new Set<PostgresLease>();
  /** Pending acquire() calls, and the undoing of grants that arrived after their caller stopped waiting; close() waits for both. */
  readonly #pending = new Set<Promise<unknown>>();
  readonly #closing = new AbortController();
  #holderSession: Promise<PgSession> | undefined;
  #tableReady = false;
  #closed: Promise<void> | undefined;

  constructor(settings: BackendSettings) {
    this.#settings = settings;
    this.#where = describePg(settings.connect.config);
    this.#sql = statements(settings.table);
  }

  describe(name: string): string {
    return `postgres ${this.#where} advisory lock ${advisoryKey(name)} ("${name}")`;
  }

  async tryAcquire(request: AcquireRequest): Promise<Lease | null> {
    assertAcquireRequest(request);
    return this.#tryOn(await this.#holder(), request);
  }

  acquire(request: AcquireRequest, signal: AbortSignal): Promise<Lease> {
    const waiting = this.#acquire(request, signal);
    this.#inBackground(waiting);
    return waiting;
  }

  async inspect(name: string): Promise<HolderRecord | null> {
    const session = await this.#holder();
    const rows = await session.query<InspectRow>(this.#sql.inspect, [advisoryKey(name).toString(), name]);
    const row = rows[0];
    if (!row) return null;
    if (row.holder) return pickHolder(row.holder);
    // Held by a session that left no record: another program on the same key, or a grant a moment old.
    return {
      instanceId: `unknown (PostgreSQL backend ${row.pid})`,
      hostname: row.client_addr ?? "unknown",
      pid: 0,
      since: row.backend_start ? new Date(row.backend_start).toISOString() : new Date(0).toISOString(),
    };
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort(new BackendUnavailableError("postgresLock was closed while this acquire() was waiting."));
      while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
      await Promise.allSettled([...this.#leases].map((lease) => lease.release()));
      const holder = await this.#holderSession?.catch(() => undefined);
      await holder?.end();
    })();
    return this.#closed;
  }

  #inBackground(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined).finally(() => this.#pending.delete(settled));
    this.#pending.add(settled);
  }

  /** Forgets a released or lost lease. */
  forget(lease: PostgresLease): void {
    this.#leases.delete(lease);
  }

  async #acquire(request: AcquireRequest, signal: AbortSignal): Promise<Lease> {
    assertAcquireRequest(request);
    signal.throwIfAborted();
    const combined = AbortSignal.any([signal, this.#closing.signal]);
    const first = this.tryAcquire(request);
    const lease = await abortable(first, combined).catch((error: unknown) => {
      if (combined.aborted) this.#inBackground(first.then((late) => late?.release()));
      throw error;
    });
    if (lease) return lease;
    for (;;) {
      try {
        return await this.#waitOnOwnConnection(request, combined);
      } catch (error) {
        if (combined.aborted) throw combined.reason;
        if (!(error instanceof WaiterConnectionLost)) throw error;
        await sleep(WAITER_RECONNECT_DELAY_MS, combined);
      }
    }
  }

  /** Blocks in pg_advisory_lock on a new connection until granted, or cancels the wait when `signal` aborts. */
  async #waitOnOwnConnection(request: AcquireRequest, signal: AbortSignal): Promise<Lease> {
    const opening = this.#open();
    const session = await abortable(opening, signal).catch((error: unknown) => {
      if (signal.aborted) this.#inBackground(opening.then((late) => late.end()));
      throw error;
    });
    const key = advisoryKey(request.name).toString();
    session.claim(key);
    try {
      // The wait must not be cut short by a server-side statement or lock timeout.
      await session.query(this.#sql.noTimeouts);
      const locking = session.query(this.#sql.lock, [key], null);
      locking.catch(() => undefined);
      try {
        await abortable(locking, signal);
      } catch (error) {
        if (!signal.aborted) throw new WaiterConnectionLost("the waiting connection failed", { cause: error });
        await this.#cancelWait(session, locking);
        throw error;
      }
      // A session lock does not expire, so the lease is valid from the moment we learn of the grant.
      return await this.#granted(session, request, performance.now(), true);
    } catch (error) {
      await session.end();
      throw error;
    }
  }

  /**
   * Ends a blocked pg_advisory_lock: cancels it from the holder connection (or
   * a short-lived one when that is gone, as during close), then lets the
   * caller close the waiter's connection. A server blocked in a lock wait does
   * not read its socket, so closing the connection alone would not end the wait.
   */
  async #cancelWait(session: PgSession, locking: Promise<unknown>): Promise<void> {
    try {
      const holder = await this.#holderSession?.catch(() => undefined);
      const canceller = holder?.alive ? holder : await this.#open();
      try {
        await canceller.query(this.#sql.cancel, [session.backendPid]);
      } finally {
        if (canceller !== holder) await canceller.end();
      }
      await Promise.race([locking.catch(() => undefined), sleep(this.#settings.queryTimeoutMs)]);
    } catch {
      // The waiter's connection is closed next regardless; a lock granted to it is dropped with it.
    }
  }

  async #tryOn(session: PgSession, request: AcquireRequest): Promise<Lease | null> {
    const key = advisoryKey(request.name).toString();
    if (!session.claim(key)) return null;
    try {
      const grantedAt = performance.now();
      const [row] = await session.query<{ granted: boolean }>(this.#sql.tryLock, [key]);
      if (!row?.granted) {
        session.forget(key);
        return null;
      }
      return await this.#granted(session, request, grantedAt, false);
    } catch (error) {
      session.forget(key);
      throw error;
    }
  }

  /** Records the holder and makes the lease; unlocks again if the record cannot be written. */
  async #granted(session: PgSession, request: AcquireRequest, grantedAt: number, ownsSession: boolean): Promise<PostgresLease> {
    const key = advisoryKey(request.name).toString();
    const holder = pickHolder(request.holder);
    try {
      await session.query(this.#sql.record, [request.name, JSON.stringify(holder)]);
    } catch (error) {
      await session.query(this.#sql.unlock, [key]).catch(() => undefined);
      throw error;
    }
    const lease = new PostgresLease({
      request,
      holder,
      grantedAt,
      key,
      session,
      ownsSession,
      backend: this,
      releaseSql: this.#sql.release,
    });
    this.#leases.add(lease);
    return lease;
  }

  /** The holder connection, opened on first use and again after it was lost. */
  async #holder(): Promise<PgSession> {
    if (this.#closed) throw new BackendUnavailableError("This postgresLock was closed: create a new one with postgresLock().");
    const pending = this.#holderSession;
    if (pending) {
      const current = await pending.catch(() => undefined);
      if (current?.alive) return current;
      // Another call already replaced the dead connection while we looked at it.
      if (this.#holderSession !== pending) return this.#holder();
    }
    const opening = (async () => {
      const session = await this.#open();
      if (!this.#tableReady) {
        await createTable(session, this.#sql.createTable).catch(async (error: unknown) => {
          await session.end();
          throw error;
        });
        this.#tableReady = true;
      }
      return session;
    })();
    this.#holderSession = opening;
    return opening;
  }

  async #open(): Promise<PgSession> {
    const connection = await openPgConnection(this.#settings.connect);
    return new PgSession(connection, this.#where, this.#settings.connect.config, this.#settings.queryTimeoutMs);
  }
}

/** The wait on the waiter's own connection failed (terminated, server restart): open another and wait again. */
class WaiterConnectionLost extends Error {}

interface PostgresLeaseInit {
  readonly request: AcquireRequest;
  readonly holder: HolderRecord;
  readonly grantedAt: number;
  readonly key: string;
  readonly session: PgSession;
  /** A waiter's connection, closed on release; the backend's holder connection stays open. */
  readonly ownsSession: boolean;
  readonly backend: PostgresLockBackend;
  readonly releaseSql: string;
}

class PostgresLease implements Lease {
  readonly name: string;
  readonly holder: HolderRecord;
  readonly ttlMs: number;
  readonly grantedAt: number;
  readonly #key: string;
  readonly #session: PgSession;
  readonly #ownsSession: boolean;
  readonly #backend: PostgresLockBackend;
  readonly #releaseSql: string;
  readonly #lost = new AbortController();
  #released: Promise<void> | undefined;

  constructor(init: PostgresLeaseInit) {
    this.name = init.request.name;
    this.holder = init.holder;
    this.ttlMs = init.request.ttlMs;
    this.grantedAt = init.grantedAt;
    this.#key = init.key;
    this.#session = init.session;
    this.#ownsSession = init.ownsSession;
    this.#backend = init.backend;
    this.#releaseSql = init.releaseSql;
    this.#session.hold(this.#key, (reason) =>
      this.#lose(`the PostgreSQL connection holding it ended (${reason.message}), and its session advisory lock with it`),
    );
  }

  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  async renew(): Promise<boolean> {
    if (this.#released || this.#lost.signal.aborted) return false;
    let held: boolean;
    try {
      held = await this.#session.isHeld(this.#key);
    } catch (error) {
      if (!this.#session.alive || this.#lost.signal.aborted) return false;
      throw error;
    }
    if (!held) this.#lose("PostgreSQL no longer lists its advisory lock as held by this connection");
    return held && !this.#released;
  }

  release(): Promise<void> {
    this.#released ??= this.#release();
    return this.#released;
  }

  async #release(): Promise<void> {
    try {
      if (this.#session.alive && !this.#lost.signal.aborted) {
        await this.#session.query(this.#releaseSql, [this.name, this.#key]);
      }
    } catch (error) {
      if (this.#session.alive) {
        // Let a later call try again.
        this.#released = undefined;
        throw error;
      }
    }
    this.#session.forget(this.#key);
    this.#backend.forget(this);
    if (this.#ownsSession) await this.#session.end();
  }

  #lose(why: string): void {
    this.#session.forget(this.#key);
    this.#backend.forget(this);
    if (!this.#released) this.#lost.abort(new LockLostError(`The lease on "${this.name}" is gone: ${why}.`));
    if (this.#ownsSession) void this.#session.end();
  }
}

interface InspectRow {
  readonly holder: HolderRecord | null;
  readonly pid: number;
  readonly client_addr: string | null;
  readonly backend_start: Date | null;
}

/** Every statement the backend runs, with the holders table filled in. */
function statements(table: string) {
  return {
    createTable: `create table if not exists ${table} (
      name text primary key, holder jsonb not null, backend_pid integer not null, updated_at timestamptz not null default now())`,
    tryLock: "select pg_try_advisory_lock($1::bigint) as granted",
    lock: "select pg_advisory_lock($1::bigint)",
    unlock: "select pg_advisory_unlock($1::bigint)",
    noTimeouts: "select set_config('statement_timeout', '0', false), set_config('lock_timeout', '0', false)",
    cancel: "select pg_cancel_backend($1::integer)",
    record: `insert into ${table} (name, holder, backend_pid, updated_at) values ($1, $2::jsonb, pg_backend_pid(), now())
      on conflict (name) do update set holder = excluded.holder, backend_pid = excluded.backend_pid, updated_at = excluded.updated_at`,
    // The row goes with the lock; a waiter granted the moment we unlock waits for this statement's commit before writing its own.
    release: `with forgotten as (delete from ${table} where name = $1 and backend_pid = pg_backend_pid())
      select pg_advisory_unlock($2::bigint) as unlocked`,
    // The holder row counts only when it belongs to the session that holds the lock now; a stale row is ignored.
    inspect: `select l.pid, h.holder, host(a.client_addr) as client_addr, a.backend_start
      from pg_locks l
      left join ${table} h on h.name = $2 and h.backend_pid = l.pid
      left join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.objsubid = 1
        and l.classid = (($1::bigint >> 32) & 4294967295)::oid and l.objid = ($1::bigint & 4294967295)::oid
        and l.database = (select oid from pg_database where datname = current_database())
      limit 1`,
  };
}

async function createTable(session: PgSession, sql: string): Promise<void> {
  try {
    await session.query(sql);
  } catch (error) {
    // Two processes creating the table at once: one wins, the other sees a duplicate (23505 on pg_type, or 42P07).
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    if (code !== "23505" && code !== "42P07") throw error;
  }
}

function pickHolder(holder: HolderRecord): HolderRecord {
  return { instanceId: holder.instanceId, hostname: holder.hostname, pid: holder.pid, since: holder.since };
}
