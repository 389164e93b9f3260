import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidTokenError } from "../src/errors.js";
import { parseBotToken, redactError, redactTokens } from "../src/token.js";

const TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

describe("parseBotToken", () => {
  it("returns the bot id of a well-formed token", () => {
    expect(parseBotToken(TOKEN)).toEqual({ botId: "123456789" });
  });

  it.each([
    ["empty", "", /empty/],
    ["not a string", undefined, /empty/],
    ["whitespace around it", ` ${TOKEN}\n`, /whitespace/],
    ["no colon", "123456789AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", /no colon/],
    ["a newline inside", "123456789:AAHdqTcvCH1v\nGWJxfSeofSAs0K5PALDsaw", /whitespace/],
    ["URL characters", "123456789:AAHdqTcvCH1vGWJx/SeofSAs0K5P?LDsaw", /characters a token never has/],
    ["a short secret", "123:abc", /characters/],
    ["letters in the id", "12a456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", /copy it again/],
  ])("rejects %s with INVALID_TOKEN and never echoes it", (_, token, message) => {
    let caught: unknown;
    try {
      parseBotToken(token);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidTokenError);
    expect((caught as InvalidTokenError).code).toBe("INVALID_TOKEN");
    expect((caught as Error).message).toMatch(message);
    if (typeof token === "string" && token.includes(":")) {
      expect((caught as Error).message).not.toContain(token.split(":")[1]!.slice(0, 8));
    }
  });

  it("never throws anything but InvalidTokenError, for any input", () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        try {
          parseBotToken(input);
        } catch (error) {
          return error instanceof InvalidTokenError;
        }
        return true;
      }),
    );
  });
});

describe("redactTokens", () => {
  it("keeps the bot id and removes the secret, inside URLs too", () => {
    const text = `request to https://api.telegram.org/bot${TOKEN}/getUpdates failed`;
    expect(redactTokens(text)).toBe("request to https://api.telegram.org/bot123456789:***/getUpdates failed");
  });

  it("removes every token-shaped secret from any text", () => {
    const secret = fc.stringMatching(/^[A-Za-z0-9_-]{20,40}$/);
    fc.assert(
      fc.property(fc.string(), fc.nat(), secret, fc.string(), (before, id, s, after) => {
        const out = redactTokens(`${before}${id}:${s}${after}`);
        return !out.includes(`${id}:${s}`);
      }),
    );
  });
});

describe("redactError", () => {
  it("cleans message, stack and the cause chain in place", () => {
    const cause = new Error(`connect ECONNREFUSED /bot${TOKEN}/getMe`);
    const error = new Error(`failed: ${TOKEN}`, { cause });
    redactError(error);
    expect(error.message).toBe("failed: 123456789:***");
    expect(error.stack).not.toContain(TOKEN);
    expect(cause.message).not.toContain(TOKEN);
  });
});
