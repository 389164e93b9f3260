import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDoctor } from "../../src/doctor/run-doctor.js";
import { createBotApiEmulator, type BotApiEmulator } from "../../src/testing/index.js";
import { freePort } from "../helpers/redis-server.js";
import { codes, doctor, doctorJson, finding, makeToken, secretOf } from "./harness.js";

let emulator: BotApiEmulator;
let scratch: string;

beforeAll(async () => {
  emulator = await createBotApiEmulator();
  scratch = await mkdtemp(path.join(tmpdir(), "doctor-bot-"));
});

afterAll(async () => {
  await emulator.close();
  await rm(scratch, { recursive: true, force: true });
});

/** A fresh bot on the emulator, and the doctor's arguments and environment for it. */
function freshBot() {
  const token = makeToken();
  const control = emulator.bot(token);
  return { token, control, botId: token.slice(0, token.indexOf(":")), args: ["--api-root", emulator.apiRoot], env: { BOT_TOKEN: token } };
}

describe("doctor against the Bot API emulator", () => {
  it("reports a healthy bot: who it is, no webhook, nothing pending; exit 0; never sends getUpdates", async () => {
    const { control, botId, args, env } = freshBot();
    const { code, report } = await doctorJson(args, env);
    expect(code).toBe(0);
    expect(report.status).toBe("healthy");
    expect(report.bot).toEqual({ id: Number(botId), username: `emulated_${botId}_bot`, firstName: "Emulated Bot" });
    expect(report.webhook).toEqual({ set: false, host: null, deleted: false, lastErrorDate: null, lastErrorMessage: null });
    expect(report.pendingUpdateCount).toBe(0);
    expect(report.lock).toBeNull();
    expect(codes(report)).toEqual(["BOT_IDENTITY", "WEBHOOK_NONE", "PENDING_UPDATES"]);
    expect(report.findings.every((f) => f.level === "ok")).toBe(true);
    const snapshot = control.snapshot();
    expect(snapshot.getUpdates).toEqual([]);
    expect(snapshot.calls.map((call) => call.method)).toEqual(["getMe", "getWebhookInfo"]);
  });

  it("prints one line per finding in text mode, with the verdict", async () => {
    const { botId, args, env } = freshBot();
    const { code, stdout, stderr } = await doctor(args, env);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toContain(`ok       the token belongs to @emulated_${botId}_bot (id ${botId}, "Emulated Bot")  [BOT_IDENTITY]`);
    expect(stdout).toContain("healthy: exit 0");
    expect(stdout).toContain("doctor never sends getUpdates");
  });

  it("finds a webhook (host only, never the path) and exits 1 without touching it", async () => {
    const { token, control, args, env } = freshBot();
    await control.setWebhook({ url: `https://hooks.example.com:8443/bot${token}/secret-path?key=hush` });
    const { code, report, output } = await doctorJson(args, env);
    expect(code).toBe(1);
    expect(report.status).toBe("problems");
    expect(report.webhook).toMatchObject({ set: true, host: "hooks.example.com:8443", deleted: false });
    const webhook = finding(report, "WEBHOOK_SET");
    expect(webhook.level).toBe("problem");
    expect(webhook.message).toBe("a webhook is set (host hooks.example.com:8443): getUpdates will fail with 409 until it is deleted");
    expect(webhook.action).toContain("run with --delete-webhook");
    expect(output).not.toContain("secret-path");
    expect(output).not.toContain("hush");
    expect(output).not.toContain(secretOf(token));
    expect(control.snapshot().webhookUrl).not.toBe("");
    expect(control.snapshot().calls.filter((call) => call.source === "http").map((call) => call.method)).not.toContain("deleteWebhook");
  });

  it("--delete-webhook deletes it with drop_pending_updates false, keeps the pending updates, and exits 0", async () => {
    const { control, args, env } = freshBot();
    await control.setWebhook({ url: "https://hooks.example.com/path" });
    control.pushMessage("one");
    control.pushMessage("two");
    const { code, report } = await doctorJson([...args, "--delete-webhook"], env);
    expect(code).toBe(0);
    expect(report.webhook).toMatchObject({ set: false, host: "hooks.example.com", deleted: true });
    expect(finding(report, "WEBHOOK_DELETED").message).toContain("drop_pending_updates=false: 2 pending updates kept");
    expect(report.pendingUpdateCount).toBe(2);
    const snapshot = control.snapshot();
    expect(snapshot.webhookUrl).toBe("");
    expect(snapshot.pendingUpdateCount).toBe(2);
    const deletions = snapshot.calls.filter((call) => call.method === "deleteWebhook" && call.source === "http");
    expect(deletions).toHaveLength(1);
    expect(deletions[0]?.params).toEqual({ drop_pending_updates: false });
    expect(snapshot.getUpdates).toEqual([]);
  });

  it("--delete-webhook sends nothing when no webhook is set", async () => {
    const { control, args, env } = freshBot();
    const { code, report } = await doctorJson([...args, "--delete-webhook"], env);
    expect(code).toBe(0);
    expect(codes(report)).toContain("WEBHOOK_NONE");
    expect(control.snapshot().calls.map((call) => call.method)).not.toContain("deleteWebhook");
  });

  it("reports pending updates as a warning with what to do", async () => {
    const { control, args, env } = freshBot();
    for (const text of ["a", "b", "c"]) control.pushMessage(text);
    const { code, report } = await doctorJson(args, env);
    expect(code).toBe(0);
    expect(report.pendingUpdateCount).toBe(3);
    const pending = finding(report, "PENDING_UPDATES");
    expect(pending.level).toBe("warn");
    expect(pending.message).toBe("3 updates waiting on Telegram: nothing has fetched them yet");
    expect(pending.action).toContain("start one");
  });

  it("reports the last webhook error with its date and message, tokens redacted", async () => {
    const { token, control, args, env } = freshBot();
    await control.setWebhook({ url: "https://hooks.example.com/hook" });
    control.reportWebhookError(`Wrong response from the webhook: 502 Bad Gateway (called /bot${token}/hook)`);
    const before = Date.now();
    const { code, report, output } = await doctorJson(args, env);
    expect(code).toBe(1);
    expect(report.webhook?.lastErrorMessage).toContain("Wrong response from the webhook: 502 Bad Gateway");
    const date = Date.parse(report.webhook?.lastErrorDate ?? "");
    expect(Math.abs(date - before)).toBeLessThan(60_000);
    const lastError = finding(report, "WEBHOOK_LAST_ERROR");
    expect(lastError.level).toBe("warn");
    expect(lastError.message).toContain(`failed at ${report.webhook?.lastErrorDate}: Wrong response from the webhook: 502 Bad Gateway`);
    expect(output).not.toContain(secretOf(token));
  });

  it("builds a report free of the token before any output scrubbing", async () => {
    const { token, control } = freshBot();
    await control.setWebhook({ url: `https://hooks.example.com/bot${token}/hook` });
    control.reportWebhookError(`delivery to /bot${token}/hook failed`);
    const { report } = await runDoctor({
      envToken: token,
      tokenFile: undefined,
      apiRoot: emulator.apiRoot,
      lock: undefined,
      lockName: undefined,
      deleteWebhook: true,
      timeoutMs: 10_000,
    });
    expect(JSON.stringify(report)).not.toContain(secretOf(token));
    expect(report.webhook?.lastErrorMessage).toContain(`/bot${token.slice(0, token.indexOf(":"))}:***/hook`);
  });

  it("--timeout-ms bounds each Bot API call: a call that takes longer is API_UNREACHABLE (exit 2)", async () => {
    const { control, args, env } = freshBot();
    control.injectFault({ method: "getMe", fault: { kind: "latency", ms: 2000 } });
    const { code, report } = await doctorJson([...args, "--timeout-ms", "100"], env);
    expect(code).toBe(2);
    expect(finding(report, "API_UNREACHABLE").message).toContain("no answer within 100 ms");
  });

  it("a revoked token: 401 is a problem (exit 1) with what to do; the token is not printed", async () => {
    const { token, botId, args, env } = freshBot();
    emulator.revokeToken(token);
    const { code, report, output } = await doctorJson(args, env);
    expect(code).toBe(1);
    expect(report.bot).toBeNull();
    expect(codes(report)).toEqual(["UNAUTHORIZED"]);
    expect(finding(report, "UNAUTHORIZED").message).toContain(`401 Unauthorized for bot ${botId}`);
    expect(finding(report, "UNAUTHORIZED").action).toContain("@BotFather");
    expect(output).not.toContain(secretOf(token));
  });

  it("missing BOT_TOKEN: exit 2 with INVALID_TOKEN", async () => {
    const { code, report } = await doctorJson(["--api-root", emulator.apiRoot], {});
    expect(code).toBe(2);
    expect(report.status).toBe("could-not-check");
    expect(finding(report, "INVALID_TOKEN").message).toBe("no bot token: BOT_TOKEN is not set and no --token-file was given");
  });

  it.each([
    ["no colon", "123456-QWERTYsecretPART0123456789"],
    ["a trailing newline", "123456:QWERTYsecretPART0123456789\n"],
    ["a short secret", "123456:QWERTYsecretPART".slice(0, 14)],
  ])("a malformed token (%s): exit 2 with INVALID_TOKEN, never echoed, no request sent", async (_, token) => {
    const { code, report, output } = await doctorJson(["--api-root", emulator.apiRoot], { BOT_TOKEN: token });
    expect(code).toBe(2);
    expect(codes(report)).toEqual(["INVALID_TOKEN"]);
    expect(finding(report, "INVALID_TOKEN").message).toMatch(/^the token from BOT_TOKEN is not usable: /);
    expect(output).not.toContain("QWERTYsecret");
    expect(output).not.toContain(token.trim());
  });

  it.each([["--token", "TOKEN"], ["--token=TOKEN"], ["TOKEN"]])("refuses a token on the command line (%s) without echoing it", async (...form) => {
    const { token, control, args } = freshBot();
    const argv = form.map((part) => part.replace("TOKEN", token));
    const { code, stdout, stderr } = await doctor([...args, ...argv], {});
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/refus/);
    expect(stderr).toContain("BOT_TOKEN");
    expect(stderr).toContain("--token-file");
    expect(stderr).toContain("shell history");
    expect(stderr).not.toContain(secretOf(token));
    expect(control.snapshot().calls).toEqual([]);
  });

  it("reads --token-file (a trailing newline is fine) and warns when others can read it", async () => {
    const { token, args } = freshBot();
    const file = path.join(scratch, "token-600");
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    const privateRun = await doctorJson([...args, "--token-file", file], {});
    expect(privateRun.code).toBe(0);
    expect(codes(privateRun.report)).not.toContain("TOKEN_FILE_PERMISSIONS");
    expect(privateRun.output).not.toContain(secretOf(token));

    await chmod(file, 0o644);
    const shared = await doctorJson([...args, "--token-file", file], {});
    expect(shared.code).toBe(0);
    expect(finding(shared.report, "TOKEN_FILE_PERMISSIONS")).toMatchObject({ level: "warn", action: `restrict it to its owner: chmod 600 ${file}` });
  });

  it("--token-file wins over BOT_TOKEN; an unreadable one is exit 2", async () => {
    const { token, botId, args } = freshBot();
    const file = path.join(scratch, "token-wins");
    await writeFile(file, token, { mode: 0o600 });
    const { report } = await doctorJson([...args, "--token-file", file], { BOT_TOKEN: "garbage" });
    expect(report.bot?.id).toBe(Number(botId));

    const missing = await doctorJson([...args, "--token-file", path.join(scratch, "nope")], {});
    expect(missing.code).toBe(2);
    expect(finding(missing.report, "TOKEN_FILE_UNREADABLE").message).toContain("ENOENT");
  });

  it("an unreachable Bot API is exit 2 (API_UNREACHABLE), with no token in the error", async () => {
    const token = makeToken();
    const { code, report, output } = await doctorJson(["--api-root", `http://127.0.0.1:${await freePort()}`], { BOT_TOKEN: token });
    expect(code).toBe(2);
    expect(codes(report)).toEqual(["API_UNREACHABLE"]);
    expect(finding(report, "API_UNREACHABLE").message).toMatch(/could not reach the Bot API at http:\/\/127\.0\.0\.1:\d+: fetch failed \(ECONNREFUSED\)/);
    expect(output).not.toContain(secretOf(token));
  });

  it("a 5xx from the Bot API is exit 2 (API_ERROR)", async () => {
    const { control, args, env } = freshBot();
    control.injectFault({ method: "getWebhookInfo", fault: { kind: "server-error", status: 502, description: "Bad Gateway" } });
    const { code, report } = await doctorJson(args, env);
    expect(code).toBe(2);
    expect(report.bot).not.toBeNull();
    expect(finding(report, "API_ERROR").message).toBe("the Bot API answered getWebhookInfo with 502 Bad Gateway");
  });

  it("--json prints the documented shape", async () => {
    const { control, args, env } = freshBot();
    await control.setWebhook({ url: "https://hooks.example.com/x" });
    const { report } = await doctorJson(args, env);
    expect(Object.keys(report)).toEqual(["version", "status", "exitCode", "bot", "webhook", "pendingUpdateCount", "lock", "findings"]);
    expect(report.version).toBe(1);
    expect(report.exitCode).toBe(1);
    expect(Object.keys(report.bot ?? {})).toEqual(["id", "username", "firstName"]);
    expect(Object.keys(report.webhook ?? {})).toEqual(["set", "host", "deleted", "lastErrorDate", "lastErrorMessage"]);
    for (const f of report.findings) {
      expect(Object.keys(f)).toEqual(["level", "code", "message", "action"]);
      expect(["ok", "warn", "problem"]).toContain(f.level);
      expect(f.code).toMatch(/^[A-Z_]+$/);
      expect(typeof f.message).toBe("string");
      expect(f.action === null || typeof f.action === "string").toBe(true);
    }
  });

  it("refuses bad arguments on stderr with exit 2", async () => {
    const { args, env } = freshBot();
    expect((await doctor([...args, "--bogus"], env)).code).toBe(2);
    const twoLocks = await doctor([...args, "--lock-dir", scratch, "--redis", "redis://127.0.0.1:6379"], env);
    expect(twoLocks.code).toBe(2);
    expect(twoLocks.stderr).toContain("pass one lock store, not --lock-dir and --redis");
    const badUrl = await doctor([...args, "--redis", "http://user:hunter2pass@example.com"], env);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain("--redis must start with redis:// or rediss://");
    expect(badUrl.stderr).not.toContain("hunter2pass");
    const unsetVar = await doctor([...args, "--postgres", "DATABASE_URL"], env);
    expect(unsetVar.stderr).toContain("the environment variable DATABASE_URL is not set");
    expect((await doctor(["--help"], {})).stdout).toContain("usage: BOT_TOKEN=... polling-supervisor doctor");
  });
});
