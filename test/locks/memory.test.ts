import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BackendUnavailableError, InvalidOptionError, LockLostError } from "../../src/errors.js";
import { memoryLock } from "../../src/locks/memory.js";
import type { AcquireRequest, Lease } from "../../src/locks/types.js";
import { describeLockBackend } from "./conformance.js";

describeLockBackend("memory", () => memoryLock());

function request(name: string, instanceId: string, ttlMs = 60_000): AcquireRequest {
  return { name, ttlMs, holder: { instanceId, hostname: "memory.example", pid: 1, since: new Date().toISOString() } };
}

describe("memoryLock", () => {
  const never = new AbortController().signal;

  it("grants waiters in the order they started waiting, and tryAcquire does not jump the queue", async () => {
    const lock = memoryLock({ namespace: randomUUID() });
    const first = await lock.tryAcquire(request("bot-1", "A"));
    const order: string[] = [];
    const granted = new Map<string, Lease>();
    for (const id of ["W1", "W2", "W3"]) {
      void lock.acquire(request("bot-1", id), never).then((lease) => {
        order.push(id);
        granted.set(id, lease);
      });
    }
    let current: Lease = first!;
    for (const expected of ["W1", "W2", "W3"]) {
      await current.release();
      await new Promise(setImmediate);
      expect(order.at(-1)).toBe(expected);
      current = granted.get(expected)!;
      expect(await lock.tryAcquire(request("bot-1", "barger"))).toBeNull();
    }
    expect(order).toEqual(["W1", "W2", "W3"]);
    await lock.close();
  });

  it("passes an expired lease to the first waiter and aborts the expired lease's lost signal", async () => {
    const lock = memoryLock({ namespace: randomUUID() });
    const expiring = await lock.tryAcquire(request("bot-2", "A", 100));
    const waiting = lock.acquire(request("bot-2", "B"), never);
    const next = await waiting;
    expect(next.holder.instanceId).toBe("B");
    expect(expiring!.lost.aborted).toBe(true);
    expect(expiring!.lost.reason).toBeInstanceOf(LockLostError);
    expect(await expiring!.renew()).toBe(false);
    expect(next.lost.aborted).toBe(false);
    await lock.close();
  });

  it("keeps namespaces apart", async () => {
    const [x, y] = [memoryLock({ namespace: randomUUID() }), memoryLock({ namespace: randomUUID() })];
    expect(await x.tryAcquire(request("bot-3", "X"))).not.toBeNull();
    expect(await y.tryAcquire(request("bot-3", "Y"))).not.toBeNull();
    expect(x.describe("bot-3")).not.toBe(y.describe("bot-3"));
    expect(memoryLock().describe("bot-3")).toBe("memory bot-3");
    await Promise.all([x.close(), y.close()]);
  });

  it("validates its options and requests with messages that name the bad value", async () => {
    expect(() => memoryLock({ namespace: "" })).toThrow(InvalidOptionError);
    expect(() => memoryLock({ namespace: "" })).toThrow(/`namespace`.*got ""/);
    const lock = memoryLock({ namespace: randomUUID() });
    await expect(lock.tryAcquire(request("bot-4", "A", Number.NaN))).rejects.toThrow(/`ttlMs`.*got NaN/);
    await expect(lock.tryAcquire(request("bot-4", "A", -1))).rejects.toThrow(/`ttlMs`.*got -1/);
    await expect(lock.acquire(request("", "A"), never)).rejects.toBeInstanceOf(InvalidOptionError);
    await lock.close();
  });

  it("refuses to work once closed", async () => {
    const lock = memoryLock({ namespace: randomUUID() });
    await lock.close();
    await expect(lock.tryAcquire(request("bot-5", "A"))).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(lock.acquire(request("bot-5", "A"), never)).rejects.toBeInstanceOf(BackendUnavailableError);
  });
});
