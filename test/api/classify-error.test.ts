import fc from "fast-check";
import { GrammyError, HttpError } from "grammy";
import { TelegramError } from "telegraf";
import { describe, expect, it } from "vitest";
import { classifyApiError } from "../../src/api/classify-error.js";
import { BotApiError } from "../../src/errors.js";

const POLLER = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
const WEBHOOK = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const SET_WEBHOOK = "Conflict: terminated by setWebhook request";

// The frameworks' own error classes, built as they build them.
const grammy = (code: number, description: string, parameters = {}) =>
  new GrammyError(`Call to 'getUpdates' failed!`, { ok: false, error_code: code, description, parameters }, "getUpdates", {});
const telegraf = (code: number, description: string, parameters = {}) =>
  new TelegramError({ error_code: code, description, parameters });

describe("classifyApiError", () => {
  it.each([
    ["grammY", grammy],
    ["Telegraf", telegraf],
    ["BotApiError", (code: number, d: string, p = {}) => new BotApiError("getUpdates", code, d, p)],
  ])("classifies %s errors", (_, make) => {
    expect(classifyApiError(make(409, POLLER))).toMatchObject({ kind: "conflict", conflict: "poller" });
    expect(classifyApiError(make(409, WEBHOOK))).toMatchObject({ kind: "conflict", conflict: "webhook" });
    expect(classifyApiError(make(409, SET_WEBHOOK))).toMatchObject({ kind: "conflict", conflict: "set-webhook" });
    expect(classifyApiError(make(401, "Unauthorized"))).toMatchObject({ kind: "unauthorized" });
    expect(classifyApiError(make(429, "Too Many Requests: retry after 7", { retry_after: 7 }))).toEqual({
      kind: "rate-limited",
      retryAfterMs: 7000,
      description: "Too Many Requests: retry after 7",
    });
    expect(classifyApiError(make(502, "Bad Gateway"))).toMatchObject({ kind: "server", status: 502 });
    expect(classifyApiError(make(400, "Bad Request: chat not found"))).toMatchObject({ kind: "rejected", status: 400 });
  });

  it("classifies network failures from grammY, fetch and sockets", () => {
    const socket = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    expect(classifyApiError(new HttpError("Network request for 'getUpdates' failed!", socket))).toMatchObject({ kind: "network" });
    expect(classifyApiError(new TypeError("fetch failed", { cause: socket }))).toMatchObject({ kind: "network" });
    expect(classifyApiError(socket)).toMatchObject({ kind: "network" });
  });

  it("classifies aborts", () => {
    expect(classifyApiError(new DOMException("This operation was aborted", "AbortError"))).toEqual({ kind: "aborted" });
  });

  it("always returns a known kind, whatever it is given", () => {
    const kinds = new Set(["conflict", "unauthorized", "rate-limited", "server", "network", "aborted", "rejected", "unknown"]);
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ error_code: fc.integer(), description: fc.string() })), (input) =>
        kinds.has(classifyApiError(input).kind),
      ),
    );
  });
});
