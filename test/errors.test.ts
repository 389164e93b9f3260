import { describe, expect, it } from "vitest";
import * as errors from "../src/errors.js";
import { ConnectionPoolerError } from "../src/locks/postgres.js";

// Codes are the public contract callers switch on: renaming one is a breaking change.
const cases: [errors.PollingSupervisorError, string][] = [
  [new errors.InvalidTokenError("x"), "INVALID_TOKEN"],
  [new errors.InvalidOptionError("ttlMs", "x"), "INVALID_OPTION"],
  [new errors.UnauthorizedError(), "UNAUTHORIZED"],
  [new errors.LockTimeoutError("x"), "LOCK_TIMEOUT"],
  [new errors.LockLostError("x"), "LOCK_LOST"],
  [new errors.ConflictError("poller", "Conflict: terminated by other getUpdates request"), "CONFLICT"],
  [new errors.WebhookNotClearedError("x"), "WEBHOOK_NOT_CLEARED"],
  [new errors.PreflightFailedError("x"), "PREFLIGHT_FAILED"],
  [new errors.BackendUnavailableError("x"), "BACKEND_UNAVAILABLE"],
  [new errors.MissingDependencyError("ioredis", "redisLock({ url })"), "MISSING_DEPENDENCY"],
  [new errors.StoppedError(), "STOPPED"],
  [new errors.PollingFailedError("x"), "POLLING_FAILED"],
  [new errors.LeaseNotValidError("x"), "LEASE_NOT_VALID"],
  [new errors.BotApiError("getMe", 400, "Bad Request"), "BOT_API_ERROR"],
];

describe("errors", () => {
  it.each(cases)("%s has its stable code and is a PollingSupervisorError", (error, code) => {
    expect(error.code).toBe(code);
    expect(error).toBeInstanceOf(errors.PollingSupervisorError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(error.constructor.name);
  });

  it("covers every class the module exports", () => {
    const classes: unknown[] = Object.values(errors).filter(
      (value) => typeof value === "function" && value.prototype instanceof errors.PollingSupervisorError,
    );
    expect(new Set<unknown>(cases.map(([error]) => error.constructor))).toEqual(new Set(classes));
  });

  it("messages say what to do next", () => {
    expect(new errors.UnauthorizedError().message).toMatch(/@BotFather/);
    expect(new errors.MissingDependencyError("pg", "postgresLock").message).toBe(
      'postgresLock needs the "pg" package: run `npm install pg`.',
    );
    expect(new errors.ConflictError("webhook", "Conflict: can't use getUpdates method while webhook is active").message).toMatch(
      /delete it/,
    );
  });

  it("a pooler refusal is a BACKEND_UNAVAILABLE", () => {
    expect(ConnectionPoolerError.prototype).toBeInstanceOf(errors.BackendUnavailableError);
  });
});
