// TEMPORARY: a tiny Bot API stand-in until the emulator lands. Deleted before hand-off.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface ScratchRecord { method: string; params: Record<string, unknown>; at: number; end?: number; result?: unknown }

export async function startScratch() {
  const queue: { update_id: number; message: object }[] = [];
  let nextId = 1;
  const records: ScratchRecord[] = [];
  let pending: { resolve: (v: unknown) => void; offset: number; limit: number; timer: NodeJS.Timeout; rec: ScratchRecord } | undefined;
  let lastOffset: number | undefined; let lastAt = 0;
  const confirm = (offset: number) => { while (queue.length && queue[0]!.update_id < offset) queue.shift(); };
  const take = (limit: number) => queue.slice(0, limit);
  const server = createServer(async (req: IncomingMessage, res) => {
    const body = await new Promise<string>((r) => { let b = ""; req.on("data", (c) => (b += c)); req.on("end", () => r(b)); });
    const method = req.url!.split("/").pop()!;
    let params: any = {};
    if (body.startsWith("{")) params = JSON.parse(body);
    else if (body) { for (const [k, v] of new URLSearchParams(body)) params[k] = /^-?\d+$/.test(v) ? Number(v) : v; }
    const rec: ScratchRecord = { method, params, at: Date.now() };
    records.push(rec);
    const send = (x: object) => { rec.end = Date.now(); rec.result = x; res.setHeader("content-type", "application/json"); res.end(JSON.stringify(x)); };
    if (method === "getMe") return send({ ok: true, result: { id: 1, is_bot: true, first_name: "x", username: "x_bot" } });
    if (method === "deleteWebhook") return send({ ok: true, result: true });
    if (method === "getWebhookInfo") return send({ ok: true, result: { url: "", pending_update_count: queue.length } });
    if (method === "getUpdates") {
      const offset = params.offset ?? 0; let timeout = params.timeout ?? 0; const limit = params.limit ?? 100;
      const now = Date.now();
      if (lastOffset === offset && now - lastAt < 3000 && timeout < 3) { timeout = 3; (rec as any).throttled = true; }
      lastOffset = offset; lastAt = now;
      confirm(offset);
      const ups = take(limit);
      if (ups.length || timeout === 0) return send({ ok: true, result: ups });
      if (pending) { clearTimeout(pending.timer); pending.resolve({ ok: false, error_code: 409, description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running" }); }
      await new Promise((resolve) => {
        const timer = setTimeout(() => { pending = undefined; resolve({ ok: true, result: [] }); }, timeout * 1000);
        pending = { resolve, offset, limit, timer, rec };
      }).then((x) => send(x as object));
      return;
    }
    send({ ok: true, result: true });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    apiRoot: `http://127.0.0.1:${port}`,
    records,
    queue,
    push(n = 1) { for (let i = 0; i < n; i++) queue.push({ update_id: nextId++, message: { message_id: nextId, date: 0, chat: { id: 1, type: "private" }, text: "hi" } }); if (pending) { const p = pending; pending = undefined; clearTimeout(p.timer); p.resolve({ ok: true, result: take(p.limit) }); } },
    close() { if (pending) { clearTimeout(pending.timer); pending.resolve({ ok: true, result: [] }); } server.closeAllConnections(); server.close(); },
  };
}
