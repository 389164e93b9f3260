import { describe, expect, it } from "vitest";
import { crashTakeover, gracefulHandover, useHandover } from "../helpers/cross-process-handover.js";

// Two real processes under postgresLock on the shared PostgreSQL (a fresh bot id per test is
// a fresh advisory key), the emulator in this process, real signals.

const ctx = useHandover({ LOCK_BACKEND: "postgres", DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test" });

describe("postgresLock across processes", () => {
  it("SIGTERM: the waiter blocked in pg_advisory_lock takes over; no update lost or repeated", async () => {
    const { b } = await gracefulHandover(ctx, { TTL_MS: "10000" });
    expect(b.lines.join("\n")).toMatch(/lock acquired \(postgres /);
  });

  it("SIGKILL: the dropped connection frees the lock and the waiter takes over without waiting out a 60 s ttlMs", async () => {
    // With ttlMs 60 s, a takeover inside the test's timeout cannot have waited for any lease to run out.
    const { b } = await crashTakeover(ctx, { TTL_MS: "60000", HANDLE_MS: "5" });
    expect(b.lines.join("\n")).toMatch(/lock acquired \(postgres /);
  });
});
