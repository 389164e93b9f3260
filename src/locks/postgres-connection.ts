import type { Client, ClientConfig } from "pg";
import { BackendUnavailableError } from "../errors.js";
import { importOptional } from "./load-optional.js";

/**
 * Connection settings for PostgreSQL, as `pg.Client` takes them (a subset of
 * pg's `ClientConfig`, declared here so that using this library does not
 * require `@types/pg`).
 */
export interface PgClientConfig {
  readonly connectionString?: string | undefined;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly user?: string | undefined;
  readonly password?: string | (() => string | Promise<string>) | undefined;
  readonly database?: string | undefined;
  readonly ssl?: boolean | object | undefined;
  readonly application_name?: string | undefined;
  readonly connectionTimeoutMillis?: number | undefined;
  readonly keepAlive?: boolean | undefined;
  readonly keepAliveInitialDelayMillis?: number | undefined;
  readonly options?: string | undefined;
  readonly client_encoding?: string | undefined;
}

/** Thrown when the connection goes through a pooler that does not give this backend one server session. */
export class ConnectionPoolerError extends BackendUnavailableError {
  constructor(
    /** What gave the pooler away. */
    readonly evidence: string,
    message: string,
  ) {
    super(message);
  }
}

/** How a connection is opened; shared by the holder connection and every waiter's connection. */
export interface PgConnectSettings {
  readonly config: PgClientConfig;
  readonly connectTimeoutMs: number;
  readonly allowConnectionPooler: boolean;
}

/** An open connection and the pid of the server backend that runs its statements. */
export interface PgConnection {
  readonly client: Client;
  readonly backendPid: number;
}

/** `host:port/database` of a configuration, for messages; never the user's password. */
export function describePg(config: PgClientConfig): string {
  let host = config.host;
  let port = config.port === undefined ? undefined : String(config.port);
  let database = config.database;
  if (config.connectionString !== undefined) {
    try {
      const url = new URL(config.connectionString);
      host ??= url.hostname || url.searchParams.get("host") || undefined;
      port ??= url.port || undefined;
      database ??= decodeURIComponent(url.pathname.slice(1)) || undefined;
    } catch {
      // Not URL-shaped (a key=value string); pg reports what is wrong with it when connecting.
    }
  }
  return `${host ?? "localhost"}:${port ?? "5432"}/${database ?? "(default database)"}`;
}

/**
 * What shows that a pooler sits between us and PostgreSQL, or `undefined`.
 * `announcedPid` is the process id from the startup handshake (BackendKeyData);
 * `statementPids` are `pg_backend_pid()` from consecutive statements.
 * `transactionMode` says whether the evidence proves statements can land on
 * different server sessions (always refused) rather than only that a pooler
 * is there (refused unless the caller says it runs in session mode).
 */
export function detectPooler(
  announcedPid: number | null | undefined,
  statementPids: readonly number[],
): { readonly evidence: string; readonly transactionMode: boolean } | undefined {
  const distinct = [...new Set(statementPids)];
  if (distinct.length > 1) {
    return {
      evidence: `consecutive statements ran in different server sessions (backend pids ${distinct.join(", ")})`,
      transactionMode: true,
    };
  }
  const [pid] = distinct;
  if (typeof announcedPid === "number" && pid !== undefined && announcedPid !== pid) {
    return {
      evidence: `the server announced process id ${announcedPid} at connect, but statements run in backend pid ${pid}`,
      transactionMode: false,
    };
  }
  return undefined;
}

/** Opens one dedicated connection (never a pool) and checks that it is a real server session. */
export async function openPgConnection(settings: PgConnectSettings): Promise<PgConnection> {
  const { Client: PgClient } = await importOptional("pg", "postgresLock", () => import("pg"));
  const where = describePg(settings.config);
  const client = new PgClient({
    application_name: "polling-supervisor",
    keepAlive: true,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    ...(settings.config as ClientConfig),
  });
  // A connection error after connect() is reported through the session's end; this keeps it from crashing the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw unavailable(error, where, settings.config);
  }
  try {
    const first = await client.query<{ pid: number }>("select pg_backend_pid() as pid");
    const second = await client.query<{ pid: number }>("select pg_backend_pid() as pid");
    const pids = [first.rows[0]?.pid, second.rows[0]?.pid].filter((pid): pid is number => typeof pid === "number");
    const pooler = detectPooler((client as unknown as { processID?: number | null }).processID, pids);
    if (pooler && (pooler.transactionMode || !settings.allowConnectionPooler)) {
      throw new ConnectionPoolerError(
        pooler.evidence,
        `postgresLock cannot hold a lock through the connection pooler in front of PostgreSQL at ${where} (${pooler.evidence}). ` +
          "Session advisory locks need one server session for the life of the lock: connect directly to PostgreSQL " +
          "(the direct/non-pooled URL, usually port 5432)" +
          (pooler.transactionMode
            ? ", not through a pooler in transaction or statement mode."
            : ", or if the pooler runs in session mode, pass `allowConnectionPooler: true`."),
      );
    }
    return { client, backendPid: pids[0]! };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw unavailable(error, where, settings.config);
  }
}

/** A {@link BackendUnavailableError} saying what went wrong with PostgreSQL and what to check; never the password. */
export function unavailable(error: unknown, where: string, config: PgClientConfig): BackendUnavailableError {
  if (error instanceof BackendUnavailableError) return error;
  const { code, message } = error as { code?: unknown; message?: unknown };
  const detail = redact(typeof message === "string" ? message : String(error), config);
  let text: string;
  switch (code) {
    case "3D000":
      text = `PostgreSQL at ${where} has no such database (${detail}): create it (createdb) or fix the database name in the connection string.`;
      break;
    case "28P01":
    case "28000":
      text = `PostgreSQL at ${where} refused the login (${detail}): check the user and password in the connection string.`;
      break;
    case "42501":
      text = `PostgreSQL at ${where} denied a statement the lock needs (${detail}): the user must be able to create and write the holders table.`;
      break;
    default:
      text = `could not reach PostgreSQL at ${where}: ${detail}; check the connection string (DATABASE_URL).`;
  }
  return new BackendUnavailableError(text, { cause: error });
}

function redact(text: string, config: PgClientConfig): string {
  const secrets: string[] = [];
  if (typeof config.password === "string" && config.password !== "") secrets.push(config.password);
  if (config.connectionString !== undefined) {
    try {
      const password = new URL(config.connectionString).password;
      if (password !== "") secrets.push(password, decodeURIComponent(password));
    } catch {
      // Not URL-shaped: no password to find in it.
    }
  }
  return secrets.reduce((redacted, secret) => redacted.replaceAll(secret, "***"), text);
}
