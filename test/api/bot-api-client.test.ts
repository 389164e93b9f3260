import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { classifyApiError } from "../../src/api/classify-error.js";
import { createBotApiClient } from "../../src/api/bot-api-client.js";
import { createBotApiEmulator, type BotApiEmulator } from "../../src/testing/index.js";
import { makeToken, secretOf } from "../helpers/tokens.js";

let emulator: BotApiEmulator;
let token: string;

beforeEach(async () => {
  emulator = await createBotApiEmulator({ timing: { longPollSecondMs: 50 } });
  token = makeToken();
  emulator.registerBot(token);
});

afterEach(async () => {
  await emulator.close();
});

describe("createBotApiClient", () => {
  it("returns result, and rejects ok:false answers with BotApiError carrying the Bot API's fields", async () => {
    const client = createBotApiClient({ token, apiRoot: emulator.apiRoot });
    await expect(client.call("getMe")).resolves.toMatchObject({ id: Number(client.botId), is_bot: true });
    emulator.bot(token).injectFault({ method: "getMe", fault: { kind: "too-many-requests", retryAfter: 4 } });
    const error = await client.call("getMe").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "BOT_API_ERROR", method: "getMe", errorCode: 429, parameters: { retry_after: 4 } });
    expect(classifyApiError(error)).toMatchObject({ kind: "rate-limited", retryAfterMs: 4000 });
  });

  it("an aborted call rejects with an abort error the classifier recognises", async () => {
    const client = createBotApiClient({ token, apiRoot: emulator.apiRoot });
    const controller = new AbortController();
    const pending = client.call("getUpdates", { timeout: 10 }, controller.signal);
    await emulator.bot(token).nextGetUpdates();
    controller.abort();
    const error = await pending.catch((e: unknown) => e);
    expect(classifyApiError(error)).toEqual({ kind: "aborted" });
  });

  it("a network failure is classified as network and carries no token", async () => {
    const closed = await createBotApiEmulator();
    const root = closed.apiRoot;
    await closed.close();
    const error = await createBotApiClient({ token, apiRoot: root }).call("getMe").catch((e: unknown) => e);
    expect(classifyApiError(error)).toMatchObject({ kind: "network" });
    expect(String((error as Error).stack)).not.toContain(secretOf(token));
  });
});
