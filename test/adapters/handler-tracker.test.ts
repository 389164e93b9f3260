import { expect, it } from "vitest";
import { HandlerTracker } from "../../src/adapters/handler-tracker.js";
import { latch } from "./harness.js";

it("counts a failed handler's error handler, which @grammyjs/runner starts a few microtasks later", async () => {
  const tracker = new HandlerTracker();
  const handler = latch();
  const errorHandler = latch();
  const events: string[] = [];
  // As the runner's sink does: worker(update).catch((error) => catchError(error)).
  void tracker
    .track(async () => {
      await handler.promise;
      throw new Error("handler failed");
    })
    .catch(() =>
      tracker.track(async () => {
        await errorHandler.promise;
        events.push("error handled");
      }),
    );
  const idle = tracker.idle().then(() => events.push("idle"));

  handler.release();
  await new Promise((resolve) => setTimeout(resolve, 10));
  errorHandler.release();
  await idle;

  expect(events).toEqual(["error handled", "idle"]);
});

it("is idle at once when nothing runs", async () => {
  await expect(new HandlerTracker().idle()).resolves.toBeUndefined();
});
