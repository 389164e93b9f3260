import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { LeaseNotValidError } from "../../src/errors.js";
import { memoryLock, PollingSupervisor } from "../../src/index.js";
import type { BotAdapter } from "../../src/adapters/types.js";
import { FRAMEWORKS, latch, onCleanup, pollsMadeToWait, startEmulator, TOKEN, until } from "./harness.js";

function supervise(adapter: BotAdapter, namespace: string, instanceId: string): PollingSupervisor {
  const supervisor = new PollingSupervisor({ adapter, lock: memoryLock({ namespace }), logger: false, instanceId });
  onCleanup(() => supervisor.stop());
  return supervisor;
}

describe.each(FRAMEWORKS)("$name adapter under PollingSupervisor", (framework) => {
  it("hands over mid-batch to a waiting instance: every update handled once, all confirmed, no throttled poll", async () => {
    const { emulator, control } = await startEmulator();
    const namespace = randomUUID();
    const batch = [1, 2, 3, 4, 5].map((n) => control.pushMessage(`m${n}`)!.update_id);
    const hold = latch();
    let handling = false;
    const first = framework.create(emulator.apiRoot, async (id) => {
      handling = true;
      if (id === batch[0]) await hold.promise;
    });
    const second = framework.create(emulator.apiRoot);
    const a = supervise(first.adapter, namespace, "a");
    const b = supervise(second.adapter, namespace, "b");

    await a.start();
    await until(() => handling, "the first update being handled");
    const bStarted = b.start();
    await until(() => b.state === "standby", "b in standby");
    // A bot that is not the supervisor's cannot start polling on its own.
    if (framework.name !== "grammy-runner") await expect(second.startDirectly()).rejects.toBeInstanceOf(LeaseNotValidError);

    const aStopped = a.stop();
    hold.release();
    await aStopped;
    await bStarted;
    const later = [control.pushMessage("late 1")!.update_id, control.pushMessage("late 2")!.update_id];
    await until(() => first.handled.length + second.handled.length === batch.length + later.length, "every update handled");
    await until(() => control.snapshot().longPollPending, "b's next long poll");
    await b.stop();

    expect((await a.finished).reason).toBe("stopped");
    expect((await b.finished).reason).toBe("stopped");
    expect([...first.handled, ...second.handled].sort((x, y) => x - y)).toEqual([...batch, ...later]);
    if (framework.finishesBatchOnStop) {
      // Telegraf and the runner handle a batch concurrently: compare as sets.
      expect([...first.handled].sort((x, y) => x - y)).toEqual(batch);
      expect([...second.handled].sort((x, y) => x - y)).toEqual(later);
    }
    const { updates, getUpdates } = control.snapshot();
    expect(updates.every((u) => u.confirmed)).toBe(true);
    expect(pollsMadeToWait(getUpdates)).toEqual([]);
  });

  it("ends the run with reason conflict when an outside poller takes over", async () => {
    const { emulator, control } = await startEmulator();
    const bot = framework.create(emulator.apiRoot);
    const supervisor = supervise(bot.adapter, randomUUID(), "a");
    await supervisor.start();
    await until(() => control.snapshot().longPollPending, "the long poll");

    await fetch(`${emulator.apiRoot}/bot${TOKEN}/getUpdates`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ timeout: 1 }),
    });
    const finished = await supervisor.finished;

    expect(finished.reason).toBe("conflict");
    expect(finished.error?.code).toBe("CONFLICT");
  });
});
