import type { PgClientConfig } from "../locks/postgres-connection.js";
import { lockFree, lockHeld, lockHolderDead } from "./findings.js";
import { checkHolderProcess } from "./holder-liveness.js";
import { freeLockReport, uncheckedLock, type LockInspection } from "./lock-report.js";
import type { PostgresSessionReport } from "./report.js";

const QUERY_TIMEOUT_MS = 5000;

/** Every session that holds or waits for the advisory lock with key $1 in this database. */
const SESSIONS_SQL = `select l.pid, l.granted, host(a.client_addr) as client_addr, a.application_name, a.backend_start, a.state
  from pg_locks l
  left join pg_stat_activity a on a.pid = l.pid
  where l.locktype = 'advisory' and l.objsubid = 1
    and l.classid = (($1::bigint >> 32) & 4294967295)::oid and l.objid = ($1::bigint & 4294967295)::oid
    and l.database = (select oid from pg_database where datname = current_database())
  order by l.granted desc, a.backend_start`;

interface SessionRow {
  readonly pid: number;
  readonly granted: boolean;
  readonly client_addr: string | null;
  readonly application_name: string | null;
  readonly backend_start: Date | null;
  readonly state: string | null;
}

/**
 * The holder of a `postgresLock({ connectionString })` lock, and the session
 * that holds the advisory lock: it lasts exactly as long as the holder's
 * connection, so an open session means the holder's connection is up. Also
 * counts the sessions waiting for it (instances in standby).
 */
export async function inspectPostgresLock(connectionString: string, name: string): Promise<LockInspection> {
  const [{ postgresLock, advisoryKey }, { describePg, openPgConnection, unavailable }] = await Promise.all([
    import("../locks/postgres.js"),
    import("../locks/postgres-connection.js"),
  ]);
  const backend = postgresLock({ connectionString, queryTimeoutMs: QUERY_TIMEOUT_MS });
  const base = freeLockReport("postgres", name, backend.describe(name));
  const config: PgClientConfig = { connectionString, application_name: "polling-supervisor doctor" };
  try {
    const holder = await backend.inspect(name);
    const connection = await openPgConnection({ config, connectTimeoutMs: QUERY_TIMEOUT_MS, allowConnectionPooler: false });
    let rows: SessionRow[];
    try {
      rows = await withTimeout(connection.client.query<SessionRow>(SESSIONS_SQL, [advisoryKey(name).toString()]), describePg(config)).then(
        (result) => result.rows,
      );
    } catch (error) {
      throw unavailable(error, describePg(config), config);
    } finally {
      await connection.client.end().catch(() => undefined);
    }
    const waiting = rows.filter((row) => !row.granted).length;
    const granted = rows.find((row) => row.granted);
    if (!holder || !granted) return { lock: { ...base, waiting }, findings: [lockFree(base)] };
    const session = sessionReport(granted);
    const { alive, evidence } = checkHolderProcess(holder);
    const lock = { ...base, state: "held" as const, holder, holderAlive: alive, session, waiting };
    const sessionEvidence = `its PostgreSQL session (${describeSession(session)}) is open, so its connection is up; ${waiting} waiting`;
    if (alive === false) {
      return {
        lock,
        findings: [lockHolderDead(lock, holder, `its session still holds the lock; if it does not end soon, end it: select pg_terminate_backend(${session.backendPid})`)],
      };
    }
    return { lock, findings: [lockHeld(lock, holder, `${evidence}; ${sessionEvidence}`)] };
  } catch (error) {
    return uncheckedLock(base, error);
  } finally {
    await backend.close();
  }
}

function sessionReport(row: SessionRow): PostgresSessionReport {
  return {
    backendPid: row.pid,
    clientAddress: row.client_addr,
    applicationName: row.application_name,
    connectedSince: row.backend_start ? new Date(row.backend_start).toISOString() : null,
    state: row.state,
  };
}

function describeSession(session: PostgresSessionReport): string {
  const parts = [`backend pid ${session.backendPid}`];
  parts.push(session.clientAddress === null ? "over a local socket or not visible to this user" : `from ${session.clientAddress}`);
  if (session.connectedSince !== null) parts.push(`connected since ${session.connectedSince}`);
  if (session.state !== null) parts.push(session.state);
  return parts.join(", ");
}

function withTimeout<T>(promise: Promise<T>, where: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`PostgreSQL at ${where} did not answer within ${QUERY_TIMEOUT_MS} ms`)), QUERY_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
