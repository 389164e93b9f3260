import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileLock } from "../../src/locks/file.js";
import { createHolderRecord } from "../../src/locks/holder.js";
import type { DoctorReport } from "../../src/doctor/report.js";
import { createBotApiEmulator, type BotApiEmulator } from "../../src/testing/index.js";
import { makeToken, secretOf } from "./harness.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

let emulator: BotApiEmulator;
let scratch: string;

beforeAll(async () => {
  emulator = await createBotApiEmulator();
  scratch = await mkdtemp(path.join(tmpdir(), "doctor-cli-"));
});

afterAll(async () => {
  await emulator.close();
  await rm(scratch, { recursive: true, force: true });
});

/** Runs the real bin (`node --import tsx src/cli/main.ts doctor ...`) with BOT_TOKEN in its environment. */
async function runBin(args: string[], token: string | undefined): Promise<{ code: number | null; output: string; stdout: string }> {
  const { BOT_TOKEN: _ignored, ...inherited } = process.env;
  const env = token === undefined ? inherited : { ...inherited, BOT_TOKEN: token };
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "doctor", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, output: stdout + stderr, stdout };
}

function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe("polling-supervisor doctor (the real bin)", () => {
  it("checks a deployment end to end without printing the token's secret anywhere", async () => {
    const token = makeToken();
    const botId = token.slice(0, token.indexOf(":"));
    const control = emulator.bot(token);
    // Every place the token could leak from: the webhook URL's path, Telegram's error message, the lock.
    await control.setWebhook({ url: `https://hooks.example.com/bot${token}/hook` });
    control.reportWebhookError(`Wrong response from the webhook: 404 Not Found for /bot${token}/hook`);
    control.pushMessage("waiting");
    const dir = path.join(scratch, "locks");
    const backend = fileLock({ dir });
    const lease = await backend.tryAcquire({ name: `bot-${botId}`, holder: createHolderRecord("parent"), ttlMs: 60_000 });
    try {
      const { code, output } = await runBin(["--api-root", emulator.apiRoot, "--lock-dir", dir, "--delete-webhook"], token);
      expect(occurrences(output, secretOf(token))).toBe(0);
      expect(code).toBe(0);
      expect(output).toContain(`the token belongs to @emulated_${botId}_bot`);
      expect(output).toContain("the webhook (host hooks.example.com) was deleted with drop_pending_updates=false: 1 pending update kept");
      expect(output).toContain(`lock "bot-${botId}"`);
      expect(output).toContain(`pid ${process.pid} is alive on this host`);
      expect(output).toContain(`${botId}:***`);
      expect(control.snapshot().getUpdates).toEqual([]);
    } finally {
      await lease?.release();
      await backend.close();
    }
  });

  it("--json with a revoked token and a PostgreSQL URL with a password: exit 1, valid JSON, no secret", async () => {
    const token = makeToken();
    emulator.bot(token);
    emulator.revokeToken(token);
    const password = "Sup3rSecretPgPassword";
    const { code, output, stdout } = await runBin(
      ["--api-root", emulator.apiRoot, "--postgres", `postgres://postgres:${password}@127.0.0.1:5432/test`, "--json"],
      token,
    );
    expect(occurrences(output, secretOf(token))).toBe(0);
    expect(occurrences(output, password)).toBe(0);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as DoctorReport;
    expect(report.findings.map((finding) => finding.code)).toEqual(["UNAUTHORIZED", "LOCK_FREE"]);
  });

  it("refuses --token with exit 2, explaining why, without echoing it", async () => {
    const token = makeToken();
    const { code, output } = await runBin(["--api-root", emulator.apiRoot, "--token", token], undefined);
    expect(code).toBe(2);
    expect(output).toContain("--token is refused");
    expect(occurrences(output, secretOf(token))).toBe(0);
  });

  it("is listed in the bin's usage", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    await once(child, "exit");
    expect(text).toMatch(/^\s+doctor \[options\]/m);
  });
});
