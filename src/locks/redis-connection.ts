import { BackendUnavailableError, InvalidOptionError, MissingDependencyError } from "../errors.js";
import { describeValue } from "./holder.js";
import { importOptional, isModuleNotFound } from "./load-optional.js";
import type { RedisScript } from "./redis-scripts.js";
import { renewScript } from "./redis-scripts.js";
import { TickBatcher } from "./tick-batcher.js";

/** The part of an ioredis client (`new Redis(...)`) that `redisLock` uses. */
export interface IORedisClientLike {
  readonly status: string;
  readonly options: { readonly host?: string | undefined; readonly port?: number | undefined; readonly path?: string | undefined };
  call(command: string, ...args: string[]): Promise<unknown>;
  /** Used only while `status` is `"wait"` (a `lazyConnect` client that has not connected yet). */
  connect?(): Promise<unknown>;
  duplicate(): IORedisClientLike;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  on(event: string, listener: (...args: never[]) => void): unknown;
  disconnect(): void;
}

/** The part of a node-redis v4/v5 client (`createClient(...)`) that `redisLock` uses. */
export interface NodeRedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  readonly options?: { readonly url?: string | undefined; readonly socket?: object | undefined } | undefined;
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(): NodeRedisClientLike;
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  unsubscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  on(event: "error", listener: (error: Error) => void): unknown;
}

/** An ioredis or a node-redis (v4, v5) client; told apart by shape, never by `instanceof`. */
export type RedisClientLike = IORedisClientLike | NodeRedisClientLike;

/** One renewal in a batch: compare-and-pexpire `key` if it still holds `value`. */
interface RenewItem {
  readonly key: string;
  readonly value: string;
  readonly ttlMs: number;
}

/** The commands one Redis client library offers, reduced to what the lock needs. */
interface RedisDriver {
  command(args: readonly string[]): Promise<unknown>;
  subscribe(channel: string, onMessage: () => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /** The last connection error the driver saw on connections it owns; injected clients are not listened to. */
  readonly lastError: Error | undefined;
  close(): void;
}

function isIORedis(client: object): client is IORedisClientLike {
  const c = client as Partial<Record<string, unknown>>;
  return typeof c["call"] === "function" && typeof c["duplicate"] === "function" && typeof c["status"] === "string";
}

function isNodeRedis(client: object): client is NodeRedisClientLike {
  const c = client as Partial<Record<string, unknown>>;
  return typeof c["sendCommand"] === "function" && typeof c["duplicate"] === "function" && typeof c["isOpen"] === "boolean";
}

/** Throws {@link InvalidOptionError} unless `client` is an ioredis or node-redis client this backend can drive. */
export function assertRedisClient(client: unknown): asserts client is RedisClientLike {
  if (typeof client !== "object" || client === null) {
    throw new InvalidOptionError("client", `Expected \`client\` to be an ioredis or node-redis client, got ${describeValue(client)}.`);
  }
  // ioredis Cluster says isCluster; node-redis createCluster() has masters and slots.
  if ((client as { isCluster?: unknown }).isCluster === true || ("masters" in client && "slots" in client)) {
    throw new InvalidOptionError(
      "client",
      "Expected `client` to be a client for one Redis node, got a Redis Cluster client: the lock's Lua scripts " +
        "touch several keys, so pass a client for one node (or use `url`).",
    );
  }
  if (!isIORedis(client) && !isNodeRedis(client)) {
    throw new InvalidOptionError(
      "client",
      "Expected `client` to be an ioredis client (`new Redis(...)`) or a node-redis client (`createClient(...)`); " +
        "it has neither `call`/`status` nor `sendCommand`/`isOpen`.",
    );
  }
}

/**
 * Connects a `lazyConnect` client that has not connected yet, and resolves
 * once it is ready; `undefined` when there is nothing to wait for. A client
 * without an offline queue refuses every command until it is ready, so its
 * first command must wait here. Later, while it reconnects, commands fail at
 * once (ioredis reconnects on its own).
 */
function connectIfWaiting(client: IORedisClientLike, connecting: Map<IORedisClientLike, Promise<void>>): Promise<void> | undefined {
  if (client.status === "wait" && typeof client.connect === "function" && !connecting.has(client)) {
    const ready = client
      .connect()
      .then(() => undefined)
      .finally(() => connecting.delete(client));
    // Awaited by every command that waits for it; this only keeps a failure from counting as unhandled.
    ready.catch(() => undefined);
    connecting.set(client, ready);
  }
  return connecting.get(client);
}

class IORedisDriver implements RedisDriver {
  readonly #client: IORedisClientLike;
  readonly #ownsClient: boolean;
  readonly #onMessage = new Map<string, () => void>();
  /** First connections of lazyConnect clients (the owned command client, the subscriber) in progress. */
  readonly #connecting = new Map<IORedisClientLike, Promise<void>>();
  #subscriber: IORedisClientLike | undefined;
  #lastError: Error | undefined;

  constructor(client: IORedisClientLike, ownsClient: boolean) {
    this.#client = client;
    this.#ownsClient = ownsClient;
    if (ownsClient) client.on("error", (error: Error) => (this.#lastError = error));
  }

  get lastError(): Error | undefined {
    return this.#lastError;
  }

  async command(args: readonly string[]): Promise<unknown> {
    // An injected client is the caller's to connect; its own offline queue (if any) holds commands meanwhile.
    if (this.#ownsClient) await connectIfWaiting(this.#client, this.#connecting);
    const [name, ...rest] = args;
    return this.#client.call(name!, ...rest);
  }

  async subscribe(channel: string, onMessage: () => void): Promise<void> {
    this.#onMessage.set(channel, onMessage);
    const subscriber = this.#subscriberClient();
    await connectIfWaiting(subscriber, this.#connecting);
    await subscriber.subscribe(channel);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.#onMessage.delete(channel);
    await this.#subscriber?.unsubscribe(channel);
  }

  #subscriberClient(): IORedisClientLike {
    if (!this.#subscriber) {
      const subscriber = this.#client.duplicate();
      subscriber.on("error", (error: Error) => (this.#lastError = error));
      subscriber.on("message", (channel: string) => this.#onMessage.get(channel)?.());
      this.#subscriber = subscriber;
    }
    return this.#subscriber;
  }

  close(): void {
    this.#subscriber?.disconnect();
    if (this.#ownsClient) this.#client.disconnect();
  }
}

class NodeRedisDriver implements RedisDriver {
  readonly #client: NodeRedisClientLike;
  readonly #ownsClient: boolean;
  readonly #listeners = new Map<string, (message: string, channel: string) => void>();
  #connecting: Promise<unknown> | undefined;
  #subscriber: Promise<NodeRedisClientLike> | undefined;
  #lastError: Error | undefined;

  constructor(client: NodeRedisClientLike, ownsClient: boolean) {
    this.#client = client;
    this.#ownsClient = ownsClient;
    if (ownsClient) client.on("error", (error) => (this.#lastError = error));
  }

  get lastError(): Error | undefined {
    return this.#lastError;
  }

  async command(args: readonly string[]): Promise<unknown> {
    if (!this.#ownsClient && !this.#client.isOpen) {
      throw new Error("the node-redis client passed as `client` is not connected: call `await client.connect()` before redisLock uses it");
    }
    if (this.#ownsClient && !this.#client.isOpen) this.#connecting ??= this.#client.connect();
    if (this.#connecting) await this.#connecting;
    return this.#client.sendCommand([...args]);
  }

  async subscribe(channel: string, onMessage: () => void): Promise<void> {
    const listener = (): void => onMessage();
    this.#listeners.set(channel, listener);
    await (await this.#subscriberClient()).subscribe(channel, listener);
  }

  async unsubscribe(channel: string): Promise<void> {
    const listener = this.#listeners.get(channel);
    this.#listeners.delete(channel);
    if (listener && this.#subscriber) await (await this.#subscriber).unsubscribe(channel, listener);
  }

  #subscriberClient(): Promise<NodeRedisClientLike> {
    this.#subscriber ??= (async () => {
      const subscriber = this.#client.duplicate();
      subscriber.on("error", (error) => (this.#lastError = error));
      try {
        await subscriber.connect();
      } catch (error) {
        this.#subscriber = undefined;
        destroyNodeRedis(subscriber);
        throw error;
      }
      return subscriber;
    })();
    return this.#subscriber;
  }

  close(): void {
    void this.#subscriber?.then(destroyNodeRedis, () => undefined);
    if (this.#ownsClient) destroyNodeRedis(this.#client);
  }
}

function destroyNodeRedis(client: NodeRedisClientLike): void {
  // v5 calls it destroy(), v4 disconnect(); both drop the socket without waiting for replies.
  const c = client as unknown as { destroy?: () => void; disconnect?: () => Promise<void> };
  if (typeof c.destroy === "function") c.destroy();
  else void c.disconnect?.().catch(() => undefined);
}

/** `host:port` of an injected client, for messages; never its credentials. */
export function describeClient(client: RedisClientLike): string {
  if ("call" in client) {
    const { host, port, path } = client.options;
    return path ?? `${host ?? "localhost"}:${port ?? 6379}`;
  }
  const url = client.options?.url;
  if (url !== undefined) return hostPortOf(url);
  const socket = client.options?.socket as { host?: string; port?: number; path?: string } | undefined;
  return socket?.path ?? `${socket?.host ?? "localhost"}:${socket?.port ?? 6379}`;
}

/** `host:port` of a Redis URL; never its user name or password. */
export function hostPortOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || "localhost"}:${parsed.port || "6379"}`;
  } catch {
    return "the configured Redis";
  }
}

async function openUrl(url: string): Promise<RedisDriver> {
  const feature = "redisLock({ url })";
  try {
    const { Redis } = await importOptional("ioredis", feature, () => import("ioredis"));
    const client = new Redis(url, {
      // Connected by the first command (IORedisDriver waits for it to be ready).
      lazyConnect: true,
      // Fail commands at once while disconnected: a renewal queued across an outage is of no use, renew()
      // must reject so the supervisor retries until its deadline. No offline queue: a command sent while
      // the socket is down is refused there and then; maxRetriesPerRequest 0: a command in flight when the
      // socket drops is rejected when it closes, not resent after a reconnect.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    });
    return new IORedisDriver(client as unknown as IORedisClientLike, true);
  } catch (error) {
    if (!(error instanceof MissingDependencyError)) throw error;
    let createClient: (options: object) => unknown;
    try {
      ({ createClient } = await import("redis"));
    } catch (redisError) {
      // Name ioredis, the package we recommend, when neither client is installed.
      if (isModuleNotFound(redisError, "redis")) throw error;
      throw redisError;
    }
    const client = createClient({
      url,
      // As with ioredis above: commands fail at once while the socket is down, never queued for later.
      disableOfflineQueue: true,
      socket: { reconnectStrategy: (attempt: number) => Math.min(attempt * 100, 1000) },
    });
    return new NodeRedisDriver(client as NodeRedisClientLike, true);
  }
}

/**
 * One command connection and one subscriber connection, shared by every
 * `redisLock` in the process that names the same `url` or `client`. Renewals
 * submitted in the same tick go out as one script call.
 */
export class RedisConnection {
  /** `host:port`, for messages and `describe()`. */
  readonly where: string;
  readonly #driver: Promise<RedisDriver>;
  readonly #hint: string;
  readonly #secret: string | undefined;
  readonly #channels = new Map<string, { readonly listeners: Set<() => void>; readonly subscribed: Promise<void> }>();
  readonly #renewer = new TickBatcher<RenewItem, boolean>((items) => this.#renewMany(items));
  readonly #onIdle: () => void;
  #resolvedDriver: RedisDriver | undefined;
  #refs = 0;

  private constructor(where: string, driver: Promise<RedisDriver>, hint: string, secret: string | undefined, onIdle: () => void) {
    this.where = where;
    this.#driver = driver;
    this.#hint = hint;
    this.#secret = secret;
    this.#onIdle = onIdle;
    driver.then(
      (resolved) => (this.#resolvedDriver = resolved),
      // Every command awaits the driver and reports the failure; this only keeps it from counting as unhandled.
      () => undefined,
    );
  }

  /** The shared connection for `url`, opened on first use; call {@link unref} when done. */
  static forUrl(url: string): RedisConnection {
    let connection = byUrl.get(url);
    if (!connection) {
      const parsed = new URL(url);
      const secret = parsed.password === "" ? undefined : decodeURIComponent(parsed.password);
      connection = new RedisConnection(hostPortOf(url), openUrl(url), "check REDIS_URL", secret, () => byUrl.delete(url));
      byUrl.set(url, connection);
    }
    connection.#refs++;
    return connection;
  }

  /** The shared connection wrapping `client` (its subscriber is a `duplicate()` this module owns). */
  static forClient(client: RedisClientLike): RedisConnection {
    let connection = byClient.get(client);
    if (!connection) {
      const driver = isIORedis(client) ? new IORedisDriver(client, false) : new NodeRedisDriver(client, false);
      connection = new RedisConnection(
        describeClient(client),
        Promise.resolve(driver),
        "check the connection options of the client passed as `client`",
        undefined,
        () => byClient.delete(client),
      );
      byClient.set(client, connection);
    }
    connection.#refs++;
    return connection;
  }

  /** Drops one reference; the last one closes the connections this module opened. */
  unref(): void {
    if (--this.#refs > 0) return;
    this.#onIdle();
    this.#driver.then((driver) => driver.close(), () => undefined);
  }

  /** Sends one command; failures and a reply later than `timeoutMs` become {@link BackendUnavailableError}. */
  command(args: readonly string[], timeoutMs: number): Promise<unknown> {
    const sending = (async () => {
      const driver = await this.#driver;
      try {
        return await driver.command(args);
      } catch (error) {
        throw this.#unavailable(error);
      }
    })();
    return this.withinTimeout(sending, args[0] ?? "the command", timeoutMs);
  }

  /** EVALSHA, falling back to EVAL once when the server does not have the script cached. */
  async evalScript(script: RedisScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    const driver = await this.#driver;
    try {
      return await driver.command(["EVALSHA", script.sha1, ...tail]);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw this.#unavailable(error);
    }
    try {
      return await driver.command(["EVAL", script.source, ...tail]);
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  /** Compare-and-pexpire, coalesced with every other renewal submitted in the same tick. */
  renew(key: string, value: string, ttlMs: number, timeoutMs: number): Promise<boolean> {
    return this.withinTimeout(this.#renewer.submit({ key, value, ttlMs }), "the renew script", timeoutMs);
  }

  async #renewMany(items: readonly RenewItem[]): Promise<boolean[]> {
    const reply = await this.evalScript(
      renewScript,
      items.map((item) => item.key),
      items.flatMap((item) => [item.value, String(item.ttlMs)]),
    );
    if (!Array.isArray(reply) || reply.length !== items.length) {
      throw new BackendUnavailableError(`Redis at ${this.where} answered the renew script with an unexpected reply; is it a Redis-compatible server with Lua scripting?`);
    }
    return reply.map((renewed) => Number(renewed) === 1);
  }

  /**
   * Calls `listener` on every message on `channel` until the returned function
   * is called. Resolves once the subscription is confirmed, so a publish made
   * after that is never missed while the connection stays up.
   */
  listen(channel: string, listener: () => void, timeoutMs: number): Promise<() => void> {
    const listening = this.#listen(channel, listener);
    return this.withinTimeout(listening, "SUBSCRIBE", timeoutMs).catch((error: unknown) => {
      // Subscribed after all, too late: stop listening right away.
      void listening.then((stop) => stop(), () => undefined);
      throw error;
    });
  }

  async #listen(channel: string, listener: () => void): Promise<() => void> {
    let entry = this.#channels.get(channel);
    if (!entry) {
      const listeners = new Set<() => void>();
      const subscribed = this.#driver.then(async (driver) => {
        try {
          await driver.subscribe(channel, () => {
            for (const l of listeners) l();
          });
        } catch (error) {
          throw this.#unavailable(error);
        }
      });
      entry = { listeners, subscribed };
      this.#channels.set(channel, entry);
    }
    const current = entry;
    current.listeners.add(listener);
    const stop = (): void => {
      current.listeners.delete(listener);
      if (current.listeners.size > 0 || this.#channels.get(channel) !== current) return;
      this.#channels.delete(channel);
      void this.#driver.then((driver) => driver.unsubscribe(channel)).catch(() => undefined);
    };
    try {
      await current.subscribed;
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  /** A {@link BackendUnavailableError} for `error`, naming host:port and never the password. */
  #unavailable(error: unknown): BackendUnavailableError {
    if (error instanceof BackendUnavailableError) return error;
    const lastError = this.#resolvedDriver?.lastError;
    const message = error instanceof Error ? error.message : String(error);
    const replyError = error instanceof Error && /^(ReplyError|ErrorReply|SimpleError)$/.test(error.constructor.name);
    // "Reached the max retries" (ioredis) and "The client is offline" (node-redis) only say the socket is down; the connection error says why.
    // ioredis without an offline queue says this of every command sent while its socket is down.
    const notWritable = message === "Stream isn't writeable and enableOfflineQueue options is false";
    const offline =
      error instanceof Error &&
      (/^(MaxRetriesPerRequestError|ClientOfflineError)$/.test(error.constructor.name) ||
        notWritable ||
        // A first connection that closed before it was ready.
        message === "Connection is closed.");
    const detail = !lastError || replyError || lastError.message === message
      ? notWritable
        ? "not connected (reconnecting)"
        : message
      : offline
        ? lastError.message
        : `${message} (last connection error: ${lastError.message})`;
    const text = replyError
      ? `Redis at ${this.where} refused the command: ${detail}; ${this.#hint}.`
      : `could not reach Redis at ${this.where}: ${detail}; ${this.#hint}.`;
    return new BackendUnavailableError(this.#redact(text), { cause: error });
  }

  /**
   * Settles like `promise`, or rejects with {@link BackendUnavailableError}
   * when it has not settled after `timeoutMs`: a paused or partitioned server
   * never answers, and the caller must learn that before its lease runs out.
   * The command itself may still run on the server later.
   */
  withinTimeout<T>(promise: Promise<T>, what: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(this.#unavailable(new Error(`${what} got no reply within ${timeoutMs} ms`))), timeoutMs);
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  #redact(text: string): string {
    return this.#secret === undefined ? text : text.replaceAll(this.#secret, "***");
  }
}

const byUrl = new Map<string, RedisConnection>();
const byClient = new WeakMap<object, RedisConnection>();
