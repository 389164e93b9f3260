import { describe, expect, it } from "vitest";
import { NO_DELAYS, pause, TOKEN, useEmulators } from "./harness.js";

const WEBHOOK_ACTIVE =
  "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const BY_SET_WEBHOOK = "Conflict: terminated by setWebhook request";

describe("webhooks (raw HTTP)", () => {
  const emulators = useEmulators();

  it("answers every getUpdates with the webhook-active 409 while a webhook is set", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const set = await api.call("setWebhook", { url: "https://example.com/hook" });
    expect(set.body).toStrictEqual({ ok: true, result: true, description: "Webhook was set" });

    for (const params of [{}, { timeout: 0 }, { timeout: 30 }, { offset: 5, timeout: 10 }]) {
      const answer = await api.call("getUpdates", params);
      expect(answer.status).toBe(409);
      expect(answer.body).toStrictEqual({ ok: false, error_code: 409, description: WEBHOOK_ACTIVE });
    }
    expect(emulator.bot(TOKEN).snapshot().conflicts).toEqual({ poller: 0, webhook: 4, "set-webhook": 0 });
  });

  it("kicks the pending long poll with `terminated by setWebhook request` when a webhook URL is set", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    const poller = api.send("getUpdates", { timeout: 30 });
    await bot.waitFor((s) => s.longPollPending);

    expect((await api.call("setWebhook", { url: "https://example.com/hook" })).body.description).toBe("Webhook was set");
    const answer = await poller.answer;
    expect(answer.status).toBe(409);
    expect(answer.body).toStrictEqual({ ok: false, error_code: 409, description: BY_SET_WEBHOOK });
    const snapshot = bot.snapshot();
    expect(snapshot.conflicts["set-webhook"]).toBe(1);
    expect(snapshot.longPollPending).toBe(false);
    expect(snapshot.webhookUrl).toBe("https://example.com/hook");
  });

  it("setWebhook with an empty URL deletes the webhook and kicks nothing", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    const poller = api.send("getUpdates", { timeout: 30 });
    await bot.waitFor((s) => s.longPollPending);
    expect((await api.call("setWebhook", { url: "" })).body.description).toBe("Webhook is already deleted");
    expect(bot.snapshot().longPollPending).toBe(true);
    bot.pushMessage("alive");
    expect((await poller.answer).body.result[0].message.text).toBe("alive");
  });

  it("never kicks the pending long poll on deleteWebhook, with or without drop_pending_updates", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    const poller = api.send("getUpdates", { timeout: 30 });
    await bot.waitFor((s) => s.longPollPending);

    expect((await api.call("deleteWebhook")).body).toStrictEqual({ ok: true, result: true, description: "Webhook is already deleted" });
    expect((await api.call("deleteWebhook", { drop_pending_updates: true })).body).toStrictEqual({
      ok: true,
      result: true,
      description: "Webhook is already deleted",
    });
    const snapshot = bot.snapshot();
    expect(snapshot.longPollPending).toBe(true);
    expect(snapshot.conflicts).toEqual({ poller: 0, webhook: 0, "set-webhook": 0 });

    bot.pushMessage("after deleteWebhook");
    expect((await poller.answer).body.result[0].message.text).toBe("after deleteWebhook");
  });

  it("drops every pending update on drop_pending_updates=true even when no webhook is set", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    bot.pushMessage("one");
    bot.pushMessage("two");
    expect((await api.call("getWebhookInfo")).body.result.pending_update_count).toBe(2);

    await api.call("deleteWebhook", { drop_pending_updates: false });
    expect((await api.call("getWebhookInfo")).body.result.pending_update_count).toBe(2);

    await api.call("deleteWebhook", { drop_pending_updates: true });
    expect((await api.call("getWebhookInfo")).body.result.pending_update_count).toBe(0);
    expect((await api.call("getUpdates")).body.result).toEqual([]);
    expect(bot.snapshot().updates.map((u) => [u.updateId, u.confirmed, u.removed?.reason])).toEqual([
      [1, false, "dropped"],
      [2, false, "dropped"],
    ]);
  });

  it("deletes a set webhook (`Webhook was deleted`), after which getUpdates works", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    await api.call("setWebhook", { url: "https://example.com/hook" });
    emulator.bot(TOKEN).pushMessage("kept");
    expect((await api.call("deleteWebhook")).body.description).toBe("Webhook was deleted");
    const updates = await api.call("getUpdates");
    expect(updates.body.result.map((u: { message: { text: string } }) => u.message.text)).toEqual(["kept"]);
  });

  it("answers an unchanged setWebhook with `Webhook is already set`, and rejects bad URLs and secret tokens", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    await api.call("setWebhook", { url: "https://example.com/hook" });
    expect((await api.call("setWebhook", { url: "https://example.com/hook" })).body.description).toBe("Webhook is already set");
    expect((await api.call("setWebhook", { url: "ftp://example.com/" })).body).toStrictEqual({
      ok: false,
      error_code: 400,
      description: "Bad Request: invalid webhook URL specified",
    });
    expect((await api.call("setWebhook", { url: "https://example.com/", secret_token: "no spaces" })).body.description).toBe(
      "Bad Request: secret token contains unallowed characters",
    );
    expect((await api.call("setWebhook", { url: "https://example.com/", secret_token: "a".repeat(257) })).body.description).toBe(
      "Bad Request: secret token is too long",
    );
  });

  it("answers a second setWebhook with a URL within setWebhookIntervalMs with 429 `retry after 1`; deleteWebhook is not limited", async () => {
    const emulator = await emulators.start({ timing: { ...NO_DELAYS, setWebhookIntervalMs: 60_000 } });
    const api = emulators.raw(emulator);
    expect((await api.call("setWebhook", { url: "https://example.com/a" })).status).toBe(200);
    const limited = await api.call("setWebhook", { url: "https://example.com/b" });
    expect(limited.status).toBe(429);
    expect(limited.body).toStrictEqual({
      ok: false,
      error_code: 429,
      description: "Too Many Requests: retry after 1",
      parameters: { retry_after: 1 },
    });
    expect(limited.headers.get("retry-after")).toBe("1");
    expect((await api.call("deleteWebhook")).body.description).toBe("Webhook was deleted");
    expect((await api.call("deleteWebhook")).body.description).toBe("Webhook is already deleted");
    expect((await api.call("getWebhookInfo")).body.result.url).toBe("");
  });

  it("accepts setWebhook again once setWebhookIntervalMs has passed, and defaults to the real 1 s", async () => {
    const emulator = await emulators.start({ timing: { ...NO_DELAYS, setWebhookIntervalMs: 100 } });
    const api = emulators.raw(emulator);
    await api.call("setWebhook", { url: "https://example.com/a" });
    await pause(150);
    expect((await api.call("setWebhook", { url: "https://example.com/b" })).body.description).toBe("Webhook was set");
    const real = await emulators.start();
    expect(real.timing.setWebhookIntervalMs).toBe(1000);
  });
});

describe("getWebhookInfo (raw HTTP)", () => {
  const emulators = useEmulators();

  it("returns url '', has_custom_certificate and pending_update_count, and nothing else, without a webhook", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    emulator.bot(TOKEN).pushMessage("waiting");
    expect((await api.call("getWebhookInfo")).body).toStrictEqual({
      ok: true,
      result: { url: "", has_custom_certificate: false, pending_update_count: 1 },
    });
  });

  it("adds max_connections, ip_address and allowed_updates where they apply", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    await api.call(
      "setWebhook",
      {
        url: "https://example.com/hook",
        certificate: new Blob(["-----BEGIN CERTIFICATE-----"]),
        max_connections: 7,
        ip_address: "203.0.113.5",
        allowed_updates: ["message", "chat_member"],
      },
      "multipart",
    );
    expect((await api.call("getWebhookInfo")).body.result).toStrictEqual({
      url: "https://example.com/hook",
      has_custom_certificate: true,
      pending_update_count: 0,
      max_connections: 7,
      ip_address: "203.0.113.5",
      allowed_updates: ["message", "chat_member"],
    });

    await api.call("deleteWebhook");
    await api.call("setWebhook", { url: "https://198.51.100.7:8443/hook", allowed_updates: [] });
    expect((await api.call("getWebhookInfo")).body.result).toStrictEqual({
      url: "https://198.51.100.7:8443/hook",
      has_custom_certificate: false,
      pending_update_count: 0,
      max_connections: 40,
      ip_address: "198.51.100.7",
    });
  });

  it("adds last_error_date/last_error_message after a failed delivery and last_synchronization_error_date", async () => {
    const emulator = await emulators.start({ timing: NO_DELAYS });
    const api = emulators.raw(emulator);
    const bot = emulator.bot(TOKEN);
    expect(() => bot.reportWebhookError("Connection refused")).toThrow(/needs a webhook/);
    await api.call("setWebhook", { url: "https://example.com/hook" });
    const before = Math.floor(Date.now() / 1000);
    bot.reportWebhookError("Wrong response from the webhook: 502 Bad Gateway");
    bot.reportSynchronizationError();
    const info = (await api.call("getWebhookInfo")).body.result;
    expect(Object.keys(info)).toEqual([
      "url",
      "has_custom_certificate",
      "pending_update_count",
      "last_error_date",
      "last_error_message",
      "max_connections",
      "ip_address",
      "last_synchronization_error_date",
    ]);
    expect(info.last_error_message).toBe("Wrong response from the webhook: 502 Bad Gateway");
    expect(info.last_error_date).toBeGreaterThanOrEqual(before);
    expect(info.last_synchronization_error_date).toBeGreaterThanOrEqual(before);
    expect(info.ip_address).toBe("<unknown>");

    await api.call("deleteWebhook");
    const cleared = (await api.call("getWebhookInfo")).body.result;
    expect(cleared.last_error_date).toBeUndefined();
    expect(cleared.last_synchronization_error_date).toBeGreaterThanOrEqual(before);
  });
});
