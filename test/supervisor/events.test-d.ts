import { expectTypeOf, test } from "vitest";
import type { ConflictKind, PollingSupervisorError } from "../../src/errors.js";
import type {
  ConflictEvent,
  LockAcquiredEvent,
  LockLostReason,
  StopReason,
  StoppedEvent,
  SupervisorEvents,
  SupervisorState,
} from "../../src/supervisor/events.js";
import type { PollingSupervisor } from "../../src/supervisor/polling-supervisor.js";
import type { SUPERVISOR_EVENTS } from "../../src/supervisor/events.js";

test("the event map names every event with a typed payload", () => {
  expectTypeOf<keyof SupervisorEvents>().toEqualTypeOf<
    | "stateChange"
    | "standby"
    | "lockAcquired"
    | "webhookCleared"
    | "pollingStarted"
    | "conflict"
    | "lockLost"
    | "lockReleased"
    | "stopped"
    | "error"
  >();
  expectTypeOf<SupervisorEvents["conflict"]>().toEqualTypeOf<[event: ConflictEvent]>();
  expectTypeOf<ConflictEvent["kind"]>().toEqualTypeOf<ConflictKind>();
  expectTypeOf<ConflictKind>().toEqualTypeOf<"poller" | "webhook" | "set-webhook">();
  expectTypeOf<SupervisorEvents["lockLost"][0]["reason"]>().toEqualTypeOf<LockLostReason>();
  expectTypeOf<LockLostReason>().toEqualTypeOf<"expired" | "refused" | "backend">();
  expectTypeOf<StopReason>().toEqualTypeOf<"stopped" | "conflict" | "lock-lost" | "fatal">();
  expectTypeOf<SupervisorState>().toEqualTypeOf<
    "idle" | "acquiring" | "standby" | "preflight" | "polling" | "stopping" | "stopped"
  >();
  expectTypeOf<LockAcquiredEvent["fencingToken"]>().toEqualTypeOf<number | undefined>();
  expectTypeOf<SupervisorEvents["error"]>().toEqualTypeOf<[error: PollingSupervisorError]>();
});

declare const supervisor: PollingSupervisor;

test("SUPERVISOR_EVENTS lists every event", () => {
  expectTypeOf<(typeof SUPERVISOR_EVENTS)[number]>().toEqualTypeOf<keyof SupervisorEvents>();
});

test("listeners are checked against the payload", () => {
  supervisor.on("conflict", (event) => {
    expectTypeOf(event).toEqualTypeOf<ConflictEvent>();
  });
  supervisor.on("stopped", (event) => {
    expectTypeOf(event).toEqualTypeOf<StoppedEvent>();
  });
  // @ts-expect-error a conflict listener does not get a StoppedEvent
  supervisor.on("conflict", (event: StoppedEvent) => event.reason);
  // @ts-expect-error there is no such event
  supervisor.on("conflicts", () => undefined);
  expectTypeOf(supervisor.finished).resolves.toEqualTypeOf<StoppedEvent>();
  expectTypeOf(supervisor.start()).resolves.toBeVoid();
});
