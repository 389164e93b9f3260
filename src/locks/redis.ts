import { randomBytes } from "node:crypto";
import { BackendUnavailableError, InvalidOptionError, LockLostError } from "../errors.js";
import { abortable } from "./abortable.js";
import { assertAcquireRequest, assertOptionsObject, describeValue } from "./holder.js";
import type { RedisClientLike } from "./redis-connection.js";
import { assertRedisClient, describeClient, hostPortOf, RedisConnection } from "./redis-connection.js";
import { grantScript, releaseScript } from "./redis-scripts.js";
import type { AcquireRequest, HolderRecord, Lease, LockBackend } from "./types.js";

export type { IORedisClientLike, NodeRedisClientLike, RedisClientLike } from "./redis-connection.js";

/**
 * Options for {@link redisLock}. Pass exactly one of `url` and `client`.
 *
 * A Redis that lost its data grants nothing for one TTL: after a restart
 * without persistence (no AOF or RDB), FLUSHALL or FLUSHDB, a holder from
 * before may still be polling until its renew deadline, so the first grant
 * waits until one `ttlMs` (the TTL the grant is asked for) has passed since
 * the store came back. The same goes for the very first grant on a brand-new
 * Redis, or under a new `keyPrefix`: it waits one TTL once. A Redis that
 * persists its data keeps the marker and never waits again. The marker is
 * `<keyPrefix>epoch`, a key without expiry holding the Redis server time (ms)
 * when it was first written; delete it only to make the next grant wait.
 * The wait covers holders that used a TTL no longer than the waiter's: give
 * every instance of a bot the same `ttlMs`. `inspect()` (and the doctor)
 * still report the lock free meanwhile: nobody holds it.
 */
export interface RedisLockOptions {
  /**
   * A Redis URL, `redis://[user:password@]host:port[/db]` or `rediss://...`.
   * The backend then opens and owns its connections (with `ioredis`, or with
   * `redis` when ioredis is not installed), shared by every `redisLock` in the
   * process with the same URL. `undefined` is accepted so that
   * `{ url: process.env.REDIS_URL }` type-checks; it fails with a clear error.
   */
  readonly url?: string | undefined;
  /**
   * A client you created: ioredis (`new Redis(...)`) or node-redis v4/v5
   * (`createClient(...)`, already connected). The backend sends commands on it
   * and opens one `duplicate()` of it for pub/sub; it never closes `client`.
   */
  readonly client?: RedisClientLike | undefined;
  /**
   * Prefix of every key and channel. A lock named `n` lives at
   * `<prefix>lock:n`, its fencing counter at `<prefix>fencing:n`, and its
   * release channel is `<prefix>released:n`. `<prefix>epoch` marks since when
   * Redis has held this prefix's data (one for every lock under the prefix):
   * a prefix no instance has used yet waits one TTL before its first grant,
   * as a brand-new Redis does. Every instance of a bot must use the same prefix.
   * @default "polling-supervisor:"
   */
  readonly keyPrefix?: string;
  /**
   * How long a waiter sleeps before retrying when no release message arrives
   * (a missed publish, a crashed holder), jittered by ±25%. A waiter also
   * retries as soon as the holder's key expires.
   * @default Math.min(ttlMs, 1000)
   */
  readonly retryIntervalMs?: number;
  /**
   * How long any one command may go unanswered before the call rejects with
   * {@link BackendUnavailableError} (a paused or partitioned server never
   * answers; the supervisor must learn that before its lease runs out).
   * @default 2000
   */
  readonly commandTimeoutMs?: number;
}

const DEFAULT_KEY_PREFIX = "polling-supervisor:";
const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
const MAX_RETRY_INTERVAL_MS = 1000;

/**
 * A lock backend on Redis: `SET key value NX PX ttl` to grant (with an `INCR`
 * fencing token, atomically, in one Lua script), compare-and-pexpire to renew,
 * compare-and-delete to release, and a publish on release so waiters retry at
 * once. Renewals of many leases due in the same tick share one round trip.
 *
 * Works with a single Redis node (or a primary with replicas). The fencing
 * counter lives in Redis, so it only keeps growing across Redis restarts when
 * Redis persists its data. A Redis that lost its data (restart without
 * persistence, FLUSHALL) refuses grants for one TTL, so that a holder from
 * before the loss has given its lease up first; a brand-new Redis does too,
 * once (see {@link RedisLockOptions}).
 *
 * @example
 * ```ts
 * const lock = redisLock({ url: process.env.REDIS_URL });
 * ```
 */
export function redisLock(options: RedisLockOptions = {}): LockBackend {
  assertOptionsObject(options, "redisLock({ url: process.env.REDIS_URL })");
  const { url, client } = options;
  let connect: () => RedisConnection;
  let where: string;
  if (client !== undefined) {
    if (url !== undefined) throw new InvalidOptionError("url", "Pass either `url` or `client` to redisLock, not both.");
    assertRedisClient(client);
    connect = () => RedisConnection.forClient(client);
    where = describeClient(client);
  } else if (url !== undefined) {
    assertRedisUrl(url);
    connect = () => RedisConnection.forUrl(url);
    where = hostPortOf(url);
  } else {
    throw new InvalidOptionError(
      "url",
      "redisLock needs `url` (e.g. `redisLock({ url: process.env.REDIS_URL })`) or a `client`, got neither: is REDIS_URL set?",
    );
  }
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (typeof keyPrefix !== "string") {
    throw new InvalidOptionError("keyPrefix", `Expected \`keyPrefix\` to be a string, got ${describeValue(keyPrefix)}.`);
  }
  const commandTimeoutMs = positive("commandTimeoutMs", options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
  const retryIntervalMs = options.retryIntervalMs === undefined ? undefined : positive("retryIntervalMs", options.retryIntervalMs);
  return new RedisLockBackend(connect, { where, keyPrefix, commandTimeoutMs, retryIntervalMs });
}

function assertRedisUrl(url: unknown): asserts url is string {
  // Never echo the URL: it may carry a password.
  if (typeof url !== "string") throw new InvalidOptionError("url", `Expected \`url\` to be a string, got ${describeValue(url)}.`);
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new InvalidOptionError("url", "`url` is not a valid URL: expected redis://[user:password@]host:port[/db] (check REDIS_URL).");
  }
  if (protocol !== "redis:" && protocol !== "rediss:") {
    throw new InvalidOptionError("url", `\`url\` must start with redis:// or rediss://, got ${protocol}// (check REDIS_URL).`);
  }
}

function positive(option: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(option, `Expected \`${option}\` to be a positive finite number, got ${describeValue(value)}.`);
  }
  return value;
}

interface BackendSettings {
  /** `host:port`, never credentials. */
  readonly where: string;
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  readonly retryIntervalMs: number | undefined;
}

/** What one grant attempt found: a lease, or how long the current holder's key (or the guard after a data loss) still lasts. */
type Attempt = { readonly lease: RedisLease } | { readonly lease: null; readonly pttlMs: number };

class RedisLockBackend implements LockBackend {
  readonly kind = "redis";
  readonly #open: () => RedisConnection;
  readonly #settings: BackendSettings;
  readonly #leases = new Set<RedisLease>();
  /** Pending acquire() calls, and the undoing of grants that arrived after their caller stopped waiting; close() waits for both. */
  readonly #pending = new Set<Promise<unknown>>();
  readonly #closing = new AbortController();
  #connection: RedisConnection | undefined;
  #closed: Promise<void> | undefined;

  constructor(open: () => RedisConnection, settings: BackendSettings) {
    this.#open = open;
    this.#settings = settings;
  }

  describe(name: string): string {
    return `redis ${this.#settings.where} ${this.#lockKey(name)}`;
  }

  async tryAcquire(request: AcquireRequest): Promise<Lease | null> {
    const attempt = await this.#attempt(request);
    return attempt.lease;
  }

  acquire(request: AcquireRequest, signal: AbortSignal): Promise<Lease> {
    const waiting = this.#acquire(request, signal);
    this.#inBackground(waiting);
    return waiting;
  }

  async #acquire(request: AcquireRequest, signal: AbortSignal): Promise<Lease> {
    assertAcquireRequest(request);
    signal.throwIfAborted();
    const connection = this.#use();
    const combined = AbortSignal.any([signal, this.#closing.signal]);
    const wakeup = new Wakeup();
    // Subscribe before the first attempt, so a release between the attempt and the wait is not missed.
    const listening = connection.listen(this.#channel(request.name), () => wakeup.fire(), this.#settings.commandTimeoutMs);
    let stopListening: () => void;
    try {
      stopListening = await abortable(listening, combined);
    } catch (error) {
      void listening.then((stop) => stop(), () => undefined);
      throw error;
    }
    try {
      let reachedRedis = false;
      for (;;) {
        const pending = this.#attempt(request);
        let delayMs: number;
        try {
          const attempt = await abortable(pending, combined);
          if (attempt.lease) return attempt.lease;
          reachedRedis = true;
          // Retry when the holder's key expires (or the guard after a data loss ends), or at the jittered interval if a release message goes missing.
          const retryMs = this.#retryDelay(request.ttlMs);
          delayMs = attempt.pttlMs >= 0 ? Math.min(attempt.pttlMs + 1, retryMs) : retryMs;
        } catch (error) {
          if (combined.aborted) {
            this.#inBackground(pending.then((attempt) => attempt.lease?.release()));
            throw combined.reason;
          }
          // An unreachable Redis on the first attempt is a configuration problem; later, a blip to wait out.
          if (!reachedRedis) throw error;
          delayMs = this.#retryDelay(request.ttlMs);
        }
        await wakeup.sleep(delayMs, combined);
      }
    } finally {
      stopListening();
    }
  }

  async inspect(name: string): Promise<HolderRecord | null> {
    const value = await this.#use().command(["GET", this.#lockKey(name)], this.#settings.commandTimeoutMs);
    return typeof value === "string" ? parseStoredValue(value).holder : null;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort(new BackendUnavailableError("redisLock was closed while this acquire() was waiting."));
      while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
      await Promise.allSettled([...this.#leases].map((lease) => lease.release()));
      this.#connection?.unref();
    })();
    return this.#closed;
  }

  #use(): RedisConnection {
    if (this.#closed) throw new BackendUnavailableError("This redisLock was closed: create a new one with redisLock().");
    this.#connection ??= this.#open();
    return this.#connection;
  }

  async #attempt(request: AcquireRequest): Promise<Attempt> {
    assertAcquireRequest(request);
    const connection = this.#use();
    const holder = pickHolder(request.holder);
    const ttlMs = Math.ceil(request.ttlMs);
    const grantedAt = performance.now();
    const granting = connection.evalScript(
      grantScript,
      [this.#lockKey(request.name), this.#fencingKey(request.name), this.#epochKey()],
      [JSON.stringify(holder), String(ttlMs), randomBytes(8).toString("hex")],
    );
    let reply: unknown;
    try {
      reply = await connection.withinTimeout(granting, "the grant script", this.#settings.commandTimeoutMs);
    } catch (error) {
      // A grant that lands after we stopped waiting would block every waiter for the whole TTL: undo it.
      this.#inBackground(granting.then((late) => (isGrant(late) ? this.#deleteIfHeld(request.name, String(late[2])) : undefined)));
      throw error;
    }
    if (!isGrant(reply) && !isRefusal(reply)) {
      throw new BackendUnavailableError(`Redis at ${connection.where} answered the grant script with an unexpected reply; is it a Redis-compatible server with Lua scripting?`);
    }
    if (isRefusal(reply)) return { lease: null, pttlMs: Number(reply[1]) };
    const lease = new RedisLease({
      name: request.name,
      holder,
      ttlMs,
      grantedAt,
      fencingToken: Number(reply[1]),
      value: String(reply[2]),
      backend: this,
    });
    this.#leases.add(lease);
    return { lease };
  }

  /** Compare-and-pexpire through the connection's batching renewer. */
  renewLease(lease: RedisLease, value: string): Promise<boolean> {
    return this.#use().renew(this.#lockKey(lease.name), value, lease.ttlMs, this.#settings.commandTimeoutMs);
  }

  /** Compare-and-delete and publish; forgets the lease once Redis answered. */
  async releaseLease(lease: RedisLease, value: string): Promise<void> {
    await this.#deleteIfHeld(lease.name, value);
    this.#leases.delete(lease);
  }

  async #deleteIfHeld(name: string, value: string): Promise<void> {
    const connection = this.#connection;
    if (!connection) return;
    await connection.withinTimeout(
      connection.evalScript(releaseScript, [this.#lockKey(name)], [value, this.#channel(name)]),
      "the release script",
      this.#settings.commandTimeoutMs,
    );
  }

  /** Forgets a lease that is no longer ours, so close() does not try to release it. */
  forget(lease: RedisLease): void {
    this.#leases.delete(lease);
  }

  #inBackground(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined).finally(() => this.#pending.delete(settled));
    this.#pending.add(settled);
  }

  #retryDelay(ttlMs: number): number {
    const base = this.#settings.retryIntervalMs ?? Math.min(ttlMs, MAX_RETRY_INTERVAL_MS);
    return base * (0.75 + Math.random() * 0.5);
  }

  #lockKey(name: string): string {
    return `${this.#settings.keyPrefix}lock:${name}`;
  }

  #fencingKey(name: string): string {
    return `${this.#settings.keyPrefix}fencing:${name}`;
  }

  /** Since when (Redis server time) this prefix's data has been in Redis; the grant script keeps it. */
  #epochKey(): string {
    return `${this.#settings.keyPrefix}epoch`;
  }

  #channel(name: string): string {
    return `${this.#settings.keyPrefix}released:${name}`;
  }
}

interface RedisLeaseInit {
  readonly name: string;
  readonly holder: HolderRecord;
  readonly ttlMs: number;
  readonly grantedAt: number;
  readonly fencingToken: number;
  /** The exact value stored at the key; renew and release compare against it. */
  readonly value: string;
  readonly backend: RedisLockBackend;
}

class RedisLease implements Lease {
  readonly name: string;
  readonly holder: HolderRecord;
  readonly ttlMs: number;
  readonly grantedAt: number;
  readonly fencingToken: number;
  readonly #value: string;
  readonly #backend: RedisLockBackend;
  readonly #lost = new AbortController();
  #released: Promise<void> | undefined;

  constructor(init: RedisLeaseInit) {
    this.name = init.name;
    this.holder = init.holder;
    this.ttlMs = init.ttlMs;
    this.grantedAt = init.grantedAt;
    this.fencingToken = init.fencingToken;
    this.#value = init.value;
    this.#backend = init.backend;
  }

  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  async renew(): Promise<boolean> {
    if (this.#released || this.#lost.signal.aborted) return false;
    const renewed = await this.#backend.renewLease(this, this.#value);
    if (!renewed && !this.#released) {
      this.#backend.forget(this);
      this.#lost.abort(
        new LockLostError(`The Redis key of lock "${this.name}" no longer holds this lease (it expired or another holder took it).`),
      );
    }
    return renewed && !this.#released;
  }

  release(): Promise<void> {
    if (this.#lost.signal.aborted) return Promise.resolve();
    this.#released ??= this.#backend.releaseLease(this, this.#value).catch((error: unknown) => {
      // Let a later call try again; the key expires on its own meanwhile.
      this.#released = undefined;
      throw error;
    });
    return this.#released;
  }
}

/** A sleep that a release message cuts short; a message that arrives while awake makes the next sleep return at once. */
class Wakeup {
  #pending = false;
  #wake: (() => void) | undefined;

  fire(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.#wake = undefined;
        settle();
      };
      const onAbort = (): void => finish(() => reject(signal.reason));
      const timer = setTimeout(() => finish(resolve), ms);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#wake = () => finish(resolve);
    });
  }
}

/** The grant script's answer when it granted: `[1, token, value]`. */
function isGrant(reply: unknown): reply is [1, number, string] {
  return Array.isArray(reply) && reply[0] === 1 && reply.length === 3;
}

/** The grant script's answer when the lock is held, or while it refuses grants after a data loss: `[0, pttl]`. */
function isRefusal(reply: unknown): reply is [0, number] {
  return Array.isArray(reply) && reply[0] === 0 && reply.length === 2;
}

/** Only the four documented fields go to Redis, whatever else the caller's object carries. */
function pickHolder(holder: HolderRecord): HolderRecord {
  return { instanceId: holder.instanceId, hostname: holder.hostname, pid: holder.pid, since: holder.since };
}

function parseStoredValue(value: string): { readonly holder: HolderRecord } {
  let parsed: { holder?: HolderRecord } | null;
  try {
    parsed = JSON.parse(value) as { holder?: HolderRecord } | null;
  } catch {
    parsed = null;
  }
  if (typeof parsed?.holder !== "object" || parsed.holder === null) {
    throw new BackendUnavailableError("A lock key holds a value this version of polling-supervisor does not understand; was it written by something else?");
  }
  return { holder: pickHolder(parsed.holder) };
}
