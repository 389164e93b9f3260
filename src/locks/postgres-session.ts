import type { Client, QueryResultRow } from "pg";
import { BackendUnavailableError } from "../errors.js";
import type { PgClientConfig, PgConnection } from "./postgres-connection.js";
import { unavailable } from "./postgres-connection.js";
import { TickBatcher } from "./tick-batcher.js";

/** Which advisory keys this session still holds, from pg_locks; one statement for any number of keys. */
const HELD_KEYS_SQL = `
select k::text as key
from unnest($1::bigint[]) as k
where exists (
  select 1 from pg_locks l
  where l.locktype = 'advisory' and l.granted and l.pid = pg_backend_pid() and l.objsubid = 1
    and l.classid = ((k >> 32) & 4294967295)::oid and l.objid = (k & 4294967295)::oid
)`;

/**
 * One PostgreSQL connection and the session advisory locks it holds. The
 * locks live exactly as long as the connection: when it errors or ends, every
 * lease on it is lost at once. Heartbeats of leases due in the same tick are
 * one statement.
 */
export class PgSession {
  readonly backendPid: number;
  readonly #client: Client;
  readonly #where: string;
  readonly #config: PgClientConfig;
  readonly #queryTimeoutMs: number;
  /** Keys held (with what to do when the session dies) or being requested on this session. */
  readonly #keys = new Map<string, ((reason: Error) => void) | "requested">();
  readonly #heartbeat = new TickBatcher<string, boolean>((keys) => this.#stillHeld(keys));
  #ended: Error | undefined;

  constructor(connection: PgConnection, where: string, config: PgClientConfig, queryTimeoutMs: number) {
    this.#client = connection.client;
    this.backendPid = connection.backendPid;
    this.#where = where;
    this.#config = config;
    this.#queryTimeoutMs = queryTimeoutMs;
    this.#client.on("error", (error: Error) => this.#die(error));
    this.#client.on("end", () => this.#die(new Error("the connection was closed")));
  }

  /** False once the connection errored or ended; its locks are gone with it. */
  get alive(): boolean {
    return this.#ended === undefined;
  }

  /**
   * Claims `key` for one lock request on this session. A session may take an
   * advisory lock it already holds (they stack), so two requests for one key
   * on one session must never both reach the server.
   */
  claim(key: string): boolean {
    if (this.#keys.has(key)) return false;
    this.#keys.set(key, "requested");
    return true;
  }

  /** Records that the session holds `key`; `onLost` runs if the connection dies while it does, or has died already. */
  hold(key: string, onLost: (reason: Error) => void): void {
    const ended = this.#ended;
    if (ended) {
      // The connection died after the grant's last statement answered (a FATAL in the same read as its
      // result), before this call: the lock went with it, and no later death will report it.
      this.#keys.delete(key);
      queueMicrotask(() => onLost(ended));
      return;
    }
    this.#keys.set(key, onLost);
  }

  /** Forgets `key` (released, or never granted). */
  forget(key: string): void {
    this.#keys.delete(key);
  }

  /** Whether the server still lists `key` as held by this session; coalesced with other heartbeats in the tick. */
  isHeld(key: string): Promise<boolean> {
    return this.#heartbeat.submit(key);
  }

  /**
   * Runs one statement. Rejects with {@link BackendUnavailableError} on any
   * error, or when no answer came within the query timeout (`timeoutMs: null`
   * waits as long as it takes, for `pg_advisory_lock`).
   */
  async query<Row extends QueryResultRow>(
    text: string,
    values: readonly unknown[] = [],
    timeoutMs: number | null = this.#queryTimeoutMs,
  ): Promise<Row[]> {
    if (this.#ended) throw this.#unavailable(this.#ended);
    const running = this.#client.query<Row>(text, [...values]);
    if (timeoutMs === null) {
      try {
        return (await running).rows;
      } catch (error) {
        throw this.#unavailable(error);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      const message = `PostgreSQL at ${this.#where} did not answer within ${timeoutMs} ms; check the server and the network.`;
      timer = setTimeout(() => reject(new BackendUnavailableError(message)), timeoutMs);
    });
    running.catch(() => undefined);
    try {
      return (await Promise.race([running, timedOut])).rows;
    } catch (error) {
      throw this.#unavailable(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection; the server drops every lock the session still holds. */
  async end(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const ended = this.#client.end().then(
      () => true,
      () => true,
    );
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.#queryTimeoutMs)));
    // A graceful end waits for a server that may be stuck; after the timeout, drop the socket.
    if (!(await Promise.race([ended, late]))) this.#client.connection.stream.destroy();
    clearTimeout(timer);
  }

  async #stillHeld(keys: readonly string[]): Promise<boolean[]> {
    const rows = await this.query<{ key: string }>(HELD_KEYS_SQL, [keys]);
    const held = new Set(rows.map((row) => row.key));
    return keys.map((key) => held.has(key));
  }

  #die(reason: Error): void {
    if (this.#ended) return;
    this.#ended = reason;
    const holders = [...this.#keys.values()];
    this.#keys.clear();
    for (const onLost of holders) if (onLost !== "requested") onLost(reason);
  }

  #unavailable(error: unknown): BackendUnavailableError {
    return unavailable(error, this.#where, this.#config);
  }
}
