import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { crashTakeover, gracefulHandover, useHandover } from "../helpers/cross-process-handover.js";

// Real processes sharing a lock directory, real signals, the emulator over HTTP.
let lockDir: string;
const ctx = useHandover({ LOCK_BACKEND: "file" });

beforeEach(() => {
  lockDir = mkdtempSync(join(tmpdir(), "ps-cross-"));
});

afterEach(() => {
  rmSync(lockDir, { recursive: true, force: true });
});

describe("fileLock across processes", () => {
  it("SIGTERM hands over gracefully: every message answered exactly once, and no lock file left behind", async () => {
    const { b } = await gracefulHandover(ctx, { LOCK_DIR: lockDir, HANDLE_MS: "10" });
    b.child.kill("SIGTERM");
    await expect(b.exited).resolves.toEqual({ code: null, signal: "SIGTERM" });
    expect(readdirSync(lockDir)).toEqual([]);
  });

  it("SIGKILL of the holder: the waiter takes over without waiting out the 60 s lease; no update lost", async () => {
    const { b } = await crashTakeover(ctx, { LOCK_DIR: lockDir, TTL_MS: "60000", HANDLE_MS: "5" });
    expect(b.lines.join("\n")).toMatch(/lock acquired \(file /);
  });
});
