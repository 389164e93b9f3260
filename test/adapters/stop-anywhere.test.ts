import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { genericAdapter, type Update } from "../../src/adapters/generic.js";
import type { BotAdapter } from "../../src/adapters/types.js";
import { FRAMEWORKS, pollsMadeToWait, startEmulator, TestGate, TOKEN, until } from "./harness.js";

/** A hand-written loop on the generic adapter, as examples/generic-loop.ts writes it. */
const GENERIC_LOOP = {
  name: "generic loop",
  create(apiRoot: string, handler?: (updateId: number) => Promise<unknown>): { adapter: BotAdapter; handled: number[] } {
    const handled: number[] = [];
    const adapter = genericAdapter({
      token: TOKEN,
      apiRoot,
      async poll({ getUpdates, signal }) {
        let offset: number | undefined;
        while (!signal.aborted) {
          const updates: Update[] = await getUpdates({ timeout: 30, ...(offset === undefined ? {} : { offset }) }).catch(() => []);
          for (const update of updates) {
            await handler?.(update.update_id);
            handled.push(update.update_id);
            offset = update.update_id + 1;
          }
        }
      },
    });
    return { adapter, handled };
  },
};

/** Lets `turns` macrotasks pass: handlers and stops land between different I/O events. */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe.each([...FRAMEWORKS, GENERIC_LOOP])("$name adapter, stopped at an arbitrary moment", (framework) => {
  it("hands every update to exactly one of two successive runs and leaves none unconfirmed, never waiting on the throttle", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 12, maxLength: 12 }),
        fc.integer({ min: 0, max: 12 }),
        async (bursts, handlerTurns, stopAfterTurns) => {
          const { emulator, control } = await startEmulator();
          try {
            let n = 0;
            const handler = () => turns(handlerTurns[n++ % handlerTurns.length]!);
            const first = framework.create(emulator.apiRoot, handler);
            const run = first.adapter.startPolling(new TestGate());
            await control.nextGetUpdates();
            const pushed: number[] = [];
            for (const size of bursts) {
              for (let i = 0; i < size; i += 1) pushed.push(control.pushMessage(`m${pushed.length}`)!.update_id);
              await turns(1);
            }
            await turns(stopAfterTurns);
            await run.stop();

            const second = framework.create(emulator.apiRoot);
            const secondRun = second.adapter.startPolling(new TestGate());
            await until(() => first.handled.length + second.handled.length >= pushed.length, "every update handled");
            await until(() => control.snapshot().longPollPending, "the second run's long poll");
            await secondRun.stop();

            expect([...first.handled, ...second.handled].sort((a, b) => a - b)).toEqual(pushed);
            const { updates, getUpdates } = control.snapshot();
            expect(updates.filter((u) => !u.confirmed)).toEqual([]);
            // (The next run's first poll may repeat the offset within 0.5 s and get `limit = 1`: harmless.)
            expect(pollsMadeToWait(getUpdates)).toEqual([]);
          } finally {
            await emulator.close();
          }
        },
      ),
      { numRuns: Number(process.env.STOP_RUNS ?? 15) },
    );
  });
});
