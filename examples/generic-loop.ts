/**
 * A hand-written long-polling loop under the supervisor, with the default
 * file lock: start two copies and only one polls; stop it (Ctrl-C, SIGTERM)
 * and the other takes over with no message lost.
 *
 *   BOT_TOKEN=123:abc npx tsx examples/generic-loop.ts
 *
 * BOT_API_ROOT points it at another Bot API server (the emulator: `npx polling-supervisor emulator`).
 * LOCK_DIR chooses the lock directory.
 */
import { PollingSupervisor, fileLock, genericAdapter, type GenericPollContext } from "polling-supervisor";

async function poll({ getUpdates, signal, api }: GenericPollContext): Promise<void> {
  let offset: number | undefined;
  while (!signal.aborted) {
    const updates = await getUpdates({ timeout: 30, ...(offset === undefined ? {} : { offset }) }).catch((error: unknown) => {
      if (signal.aborted) return [];
      throw error;
    });
    for (const update of updates) {
      const message = update["message"] as { chat: { id: number }; message_id: number; text?: string } | undefined;
      if (message?.text) {
        await api.call("sendMessage", {
          chat_id: message.chat.id,
          text: `echo: ${message.text}`,
          reply_parameters: { message_id: message.message_id },
        });
      }
      offset = update.update_id + 1;
    }
  }
}

const supervisor = new PollingSupervisor({
  adapter: genericAdapter({
    token: process.env["BOT_TOKEN"] ?? "",
    ...(process.env["BOT_API_ROOT"] ? { apiRoot: process.env["BOT_API_ROOT"] } : {}),
    poll,
  }),
  lock: fileLock(process.env["LOCK_DIR"] ? { dir: process.env["LOCK_DIR"] } : {}),
  handleSignals: true,
});

void supervisor.start().catch(() => undefined); // failures are logged; `finished` says how the run ended
void supervisor.finished.then(({ reason }) => {
  // conflict, lock-lost or fatal: exit and let the platform restart this instance (the supervisor never restarts polling itself).
  if (reason !== "stopped") process.exit(1);
});
