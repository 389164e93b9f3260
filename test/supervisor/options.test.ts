import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../src/errors.js";
import { resolveOptions, type SupervisorOptions } from "../../src/supervisor/options.js";
import type { BotAdapter } from "../../src/adapters/types.js";

const adapter = { name: "test", botId: "42" } as BotAdapter;
const resolve = (extra: Partial<SupervisorOptions>) => resolveOptions({ adapter, ...extra }, "42", () => "abcd1234");

function invalid(extra: Record<string, unknown>): InvalidOptionError {
  try {
    resolve(extra as Partial<SupervisorOptions>);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error("expected InvalidOptionError");
}

describe("resolveOptions", () => {
  it("applies the documented defaults", () => {
    expect(resolve({})).toEqual({
      lockName: "bot-42",
      ttlMs: 10_000,
      renewDeadlineMs: 8_000,
      renewIntervalMs: 2_000,
      standbyTimeoutMs: Infinity,
      dropPendingUpdates: false,
      preflightAttempts: 3,
      drainTimeoutMs: 30_000,
      onConflict: "stop",
      instanceId: "abcd1234",
      signals: [],
    });
  });

  it("derives renew timing from ttlMs", () => {
    expect(resolve({ ttlMs: 1_000 })).toMatchObject({ renewDeadlineMs: 800, renewIntervalMs: 200 });
  });

  it.each([
    [{ ttlMs: 0 }, "ttlMs", /positive finite number.*got 0/],
    [{ ttlMs: Number.NaN }, "ttlMs", /got NaN/],
    [{ ttlMs: "10s" }, "ttlMs", /got "10s"/],
    [{ ttlMs: 1_000, renewDeadlineMs: 1_000 }, "renewDeadlineMs", /below `ttlMs`/],
    [{ ttlMs: 1_000, renewDeadlineMs: 500, renewIntervalMs: 600 }, "renewIntervalMs", /below `renewDeadlineMs`/],
    [{ standbyTimeoutMs: -1 }, "standbyTimeoutMs", /got -1/],
    [{ drainTimeoutMs: Infinity }, "drainTimeoutMs", /finite/],
    [{ preflightAttempts: 0 }, "preflightAttempts", /1 to 100/],
    [{ lockName: "a/b" }, "lockName", /letters, digits/],
    [{ lockName: "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" }, "lockName", /letters, digits/],
    [{ instanceId: "" }, "instanceId", /got ""/],
    [{ dropPendingUpdates: "yes" }, "dropPendingUpdates", /true or false/],
    [{ onConflict: "retry" }, "onConflict", /"stop" or \{ retries/],
    [{ onConflict: { retries: 0, delayMs: 10 } }, "onConflict", /retries: 1\.\.100/],
    [{ handleSignals: ["TERM"] }, "handleSignals", /signal names/],
  ])("rejects %j naming %s", (extra, option, message) => {
    const error = invalid(extra);
    expect(error.code).toBe("INVALID_OPTION");
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });

  it("accepts an explicit retry policy and signal list", () => {
    expect(resolve({ onConflict: { retries: 2, delayMs: 0 }, handleSignals: true })).toMatchObject({
      onConflict: { retries: 2, delayMs: 0 },
      signals: ["SIGTERM", "SIGINT"],
    });
  });
});
