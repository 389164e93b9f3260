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

test("listeners are checked against the payload", () => {
  expectTypeOf<PollingSupervisor["on"]>().toBeCallableWith("conflict", (event: ConflictEvent) => event.kind);
  expectTypeOf<PollingSupervisor["on"]>().toBeCallableWith("stopped", (event: StoppedEvent) => event.reason);
  // @ts-expect-error a conflict listener does not get a StoppedEvent
  expectTypeOf<PollingSupervisor["on"]>().toBeCallableWith("conflict", (event: StoppedEvent) => event.reason);
  expectTypeOf<PollingSupervisor["finished"]>().resolves.toEqualTypeOf<StoppedEvent>();
});
