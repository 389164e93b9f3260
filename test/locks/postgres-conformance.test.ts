import { postgresLock } from "../../src/locks/postgres.js";
import { describeLockBackend } from "./conformance.js";

const CONNECTION_STRING = "postgres://postgres@127.0.0.1:5432/test";

// A session advisory lock lives as long as its connection, not for a TTL.
describeLockBackend("postgres (connectionString)", () => postgresLock({ connectionString: CONNECTION_STRING }), { expires: false });
describeLockBackend(
  "postgres (pg config object)",
  () => postgresLock({ config: { host: "127.0.0.1", port: 5432, user: "postgres", database: "test" } }),
  { expires: false },
);
