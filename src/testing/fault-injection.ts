import { InvalidOptionError } from "../errors.js";
import type { Fault, FaultInjection } from "./control-types.js";

interface ArmedFault {
  readonly method: string;
  remaining: number;
  readonly fault: Fault;
}

/** Faults waiting for the next calls of a method, first injected first used. */
export class FaultInjector {
  readonly #armed: ArmedFault[] = [];

  /** Arms a fault for the next `times` calls of `method`; validates the injection, which may come from HTTP. */
  add(injection: FaultInjection): void {
    const checked = checkFaultInjection(injection);
    this.#armed.push({ method: checked.method.toLowerCase(), remaining: checked.times ?? 1, fault: checked.fault });
  }

  /** The fault for this call of `method`, if one is armed; uses up one of its times. */
  take(method: string): Fault | undefined {
    const name = method.toLowerCase();
    const index = this.#armed.findIndex((armed) => armed.method === name || armed.method === "*");
    const armed = this.#armed[index];
    if (!armed) return undefined;
    armed.remaining--;
    if (armed.remaining === 0) this.#armed.splice(index, 1);
    return armed.fault;
  }

  /** Disarms every fault. */
  clear(): void {
    this.#armed.length = 0;
  }
}

/** Throws {@link InvalidOptionError} naming the first bad field of a fault injection. */
export function checkFaultInjection(value: unknown): FaultInjection {
  const injection = value as Partial<FaultInjection> | null;
  if (typeof injection !== "object" || injection === null) {
    throw new InvalidOptionError("fault", `Expected a fault injection object, got ${String(value)}.`);
  }
  if (typeof injection.method !== "string" || injection.method === "") {
    throw new InvalidOptionError(
      "method",
      `Expected \`method\` to be a Bot API method name or "*", got ${String(injection.method)}.`,
    );
  }
  if (injection.times !== undefined && !(Number.isInteger(injection.times) && injection.times > 0)) {
    throw new InvalidOptionError("times", `Expected \`times\` to be a positive integer, got ${String(injection.times)}.`);
  }
  checkFault(injection.fault);
  return injection as FaultInjection;
}

function checkFault(value: unknown): asserts value is Fault {
  const fault: Record<string, unknown> = typeof value === "object" && value !== null ? { ...value } : {};
  switch (fault.kind) {
    case "latency":
      if (!(typeof fault.ms === "number" && Number.isFinite(fault.ms) && fault.ms >= 0)) {
        invalidField("ms", "a number of milliseconds >= 0", fault.ms);
      }
      return;
    case "too-many-requests":
      if (!(Number.isInteger(fault.retryAfter) && (fault.retryAfter as number) > 0)) {
        invalidField("retryAfter", "a positive integer number of seconds", fault.retryAfter);
      }
      return;
    case "server-error":
      if (fault.status !== undefined && !isServerErrorStatus(fault.status)) {
        invalidField("status", "an HTTP status from 500 to 599", fault.status);
      }
      if (fault.description !== undefined && typeof fault.description !== "string") {
        invalidField("description", "a string", fault.description);
      }
      return;
    case "connection-reset":
      return;
    default:
      invalidField("kind", '"latency", "too-many-requests", "server-error" or "connection-reset"', fault.kind);
  }
}

function isServerErrorStatus(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 500 && value <= 599;
}

function invalidField(field: string, expected: string, got: unknown): never {
  throw new InvalidOptionError(`fault.${field}`, `Expected \`fault.${field}\` to be ${expected}, got ${String(got)}.`);
}
