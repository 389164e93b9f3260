import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Random } from "../random.js";
import type { ChaosStore, StoreFaultRecord } from "./types.js";

/** The shared test database; the chaos run never restarts it, it only ends its own replicas' sessions. */
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

/**
 * The PostgreSQL lock store on the shared server. Every replica connects
 * with this run's `application_name` (a parameter of DATABASE_URL, which pg
 * lets win over the backend's own "polling-supervisor"), so faults hit only this run's
 * sessions: `pg_terminate_backend` of the session holding the advisory lock,
 * of the sessions waiting for it, or of every session of the run (what a
 * server restart does to them, without restarting a server others use).
 */
export async function createPostgresStore(databaseUrl = DEFAULT_DATABASE_URL): Promise<ChaosStore> {
  const applicationName = `ps-chaos-${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: databaseUrl, application_name: `${applicationName}-admin` });
  admin.on("error", () => undefined);
  await admin.connect();

  const terminate = async (kind: string, where: string): Promise<StoreFaultRecord> => {
    const { rows } = await admin.query<{ pid: number; holder: boolean }>(
      `select a.pid, exists (
           select 1 from pg_locks l where l.pid = a.pid and l.locktype = 'advisory' and l.granted
         ) as holder
         from pg_stat_activity a
        where a.application_name = $1 and ${where}`,
      [applicationName],
    );
    for (const row of rows) await admin.query("select pg_terminate_backend($1)", [row.pid]);
    const holders = rows.filter((r) => r.holder).length;
    return {
      kind,
      detail: `pg_terminate_backend on ${rows.length} session(s), ${holders} holding the lock`,
      mayLoseLease: holders > 0,
    };
  };

  return {
    kind: "postgres",
    example: "examples/telegraf-postgres.ts",
    longPollTimeoutSeconds: 50,
    confirmsBeforeHandling: false,
    faultKinds: ["pg-terminate-holder", "pg-terminate-waiters", "pg-terminate-all"],
    env: () => ({ DATABASE_URL: withApplicationName(databaseUrl, applicationName) }),
    async injectFault(kind: string, _random: Random): Promise<StoreFaultRecord> {
      const advisory = (granted: boolean) =>
        `exists (select 1 from pg_locks l where l.pid = a.pid and l.locktype = 'advisory' and l.granted = ${granted})`;
      switch (kind) {
        case "pg-terminate-holder":
          return terminate(kind, advisory(true));
        case "pg-terminate-waiters":
          return terminate(kind, advisory(false));
        case "pg-terminate-all":
          return terminate(kind, "true");
        default:
          throw new Error(`the postgres store has no fault "${kind}"`);
      }
    },
    async contents() {
      const exists = await admin.query<{ found: boolean }>("select to_regclass('polling_supervisor_holders') is not null as found");
      if (!exists.rows[0]?.found) return [];
      const { rows } = await admin.query<{ row: string }>("select row_to_json(h)::text as row from polling_supervisor_holders h");
      return rows.map((r) => r.row);
    },
    close: () => admin.end(),
  };
}

function withApplicationName(databaseUrl: string, applicationName: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set("application_name", applicationName);
  return url.toString();
}
