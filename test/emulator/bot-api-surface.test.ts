import { describe, expect, it } from "vitest";
import { NO_DELAYS, OTHER_TOKEN, TOKEN, useEmulators, type Encoding } from "./harness.js";

describe("the Bot API surface (raw HTTP)", () => {
  const emulators = useEmulators();

  it("reads arguments the same way from a GET query, a JSON body, a urlencoded form and a multipart form", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    for (let n = 1; n <= 5; n++) bot.pushMessage(`#${n}`);

    const encodings: Encoding[] = ["query", "json", "form", "multipart"];
    for (const encoding of encodings) {
      const answer = await api.call("getUpdates", { offset: 2, limit: 3 }, encoding);
      expect(answer.body.result.map((u: { update_id: number }) => u.update_id)).toEqual([2, 3, 4]);
      await api.call("sendMessage", { chat_id: 1000, text: `via ${encoding}`, reply_parameters: { message_id: 2 } }, encoding);
    }
    const snapshot = bot.snapshot();
    expect(snapshot.getUpdates.map((r) => [r.offset, r.limit])).toEqual(Array(4).fill([2, 3]));
    expect(snapshot.replies.map((r) => [r.chatId, r.text, r.replyToMessageId])).toEqual(
      encodings.map((encoding) => [1000, `via ${encoding}`, 2]),
    );
  });

  it("answers getMe, sendMessage and any other method in the Bot API envelope, recording each call", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS, bots: [{ token: TOKEN, username: "demo_bot", firstName: "Demo" }] });
    const api = emulators.raw(emulator);

    expect((await api.call("getMe")).body).toStrictEqual({
      ok: true,
      result: {
        id: 123456,
        is_bot: true,
        first_name: "Demo",
        username: "demo_bot",
        can_join_groups: true,
        can_read_all_group_messages: false,
        supports_inline_queries: false,
        can_connect_to_business: false,
        has_main_web_app: false,
      },
    });
    const sent = await api.call("sendMessage", { chat_id: 42, text: "hi" });
    expect(sent.body.result).toMatchObject({ message_id: 1, chat: { id: 42, type: "private" }, text: "hi", from: { id: 123456, is_bot: true } });
    expect((await api.call("sendMessage", { chat_id: 42 })).body).toStrictEqual({
      ok: false,
      error_code: 400,
      description: "Bad Request: message text is empty",
    });
    expect((await api.call("sendMessage", { text: "to nobody" })).body.description).toBe("Bad Request: chat_id is empty");
    expect((await api.call("answerCallbackQuery", { callback_query_id: "1" })).body).toStrictEqual({ ok: true, result: true });
    expect((await api.call("sendPhoto", { chat_id: 42, photo: new Blob(["png"]), caption: "pic" }, "multipart")).body.result).toMatchObject({
      message_id: 2,
      caption: "pic",
    });
    expect((await api.call("copyMessage", { chat_id: 42, from_chat_id: 1, message_id: 1 })).body.result).toStrictEqual({ message_id: 3 });

    const snapshot = emulator.bot(TOKEN).snapshot();
    expect(snapshot.calls.map((c) => [c.method, c.response?.ok])).toEqual([
      ["getMe", true],
      ["sendMessage", true],
      ["sendMessage", false],
      ["sendMessage", false],
      ["answerCallbackQuery", true],
      ["sendPhoto", true],
      ["copyMessage", true],
    ]);
    expect(snapshot.calls[5]?.params["photo"]).toMatchObject({ size: 3 });
    expect(snapshot.replies.map((r) => [r.method, r.chatId, r.text, r.messageId])).toEqual([
      ["sendMessage", 42, "hi", 1],
      ["sendPhoto", 42, undefined, 2],
    ]);
  });

  it("answers 404 for paths that are not Bot API methods", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const missingMethod = await fetch(`${emulator.apiRoot}/bot${TOKEN}/`);
    expect(missingMethod.status).toBe(404);
    expect(await missingMethod.json()).toStrictEqual({ ok: false, error_code: 404, description: "Not Found: method not found" });
    const elsewhere = await fetch(`${emulator.apiRoot}/favicon.ico`);
    expect(elsewhere.status).toBe(404);
    expect(await elsewhere.json()).toStrictEqual({ ok: false, error_code: 404, description: "Not Found" });
  });

  it("answers 401 Unauthorized for unregistered, revoked and logged-out tokens", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS, bots: [TOKEN] });
    const unknown = await emulators.raw(emulator, OTHER_TOKEN).call("getMe");
    expect(unknown.status).toBe(401);
    expect(unknown.body).toStrictEqual({ ok: false, error_code: 401, description: "Unauthorized" });
    expect((await emulators.raw(emulator, "not-a-token").call("getMe")).body).toStrictEqual({
      ok: false,
      error_code: 401,
      description: "Unauthorized: invalid token specified",
    });

    const api = emulators.raw(emulator);
    expect((await api.call("logOut")).body).toStrictEqual({ ok: true, result: true });
    expect((await api.call("getMe")).body.description).toBe("Unauthorized");
    emulator.registerBot(TOKEN);
    expect((await api.call("getMe")).status).toBe(200);
    emulator.revokeToken(TOKEN);
    expect((await api.call("getUpdates")).status).toBe(401);
  });

  it("accepts any well-formed token when no bots are given, keeping each bot's state apart", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    emulator.bot(TOKEN).pushMessage("for the first bot");
    expect((await emulators.raw(emulator, OTHER_TOKEN).call("getUpdates")).body.result).toEqual([]);
    expect((await emulators.raw(emulator).call("getUpdates")).body.result).toHaveLength(1);
    expect(emulator.bots().map((b) => b.botId).sort()).toEqual(["123456", "654321"]);
    expect((await emulators.raw(emulator, "123:short").call("getMe")).body.description).toBe("Unauthorized");
  });

  it("answers a pending long poll when the bot calls close, and drops pending updates on logOut", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    const poller = api.send("getUpdates", { timeout: 30 });
    await bot.waitFor((s) => s.longPollPending);
    expect((await api.call("close")).body).toStrictEqual({ ok: true, result: true });
    expect((await poller.answer).body).toStrictEqual({ ok: true, result: [] });

    bot.pushMessage("lost on logOut");
    await api.call("logOut");
    expect(bot.snapshot().updates[0]?.removed?.reason).toBe("dropped");
  });
});
