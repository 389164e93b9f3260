import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { AcquireRequest, HolderRecord, Lease, LockBackend } from "../../src/locks/types.js";

/** Options for {@link describeLockBackend}. */
export interface LockBackendConformanceOptions {
  /**
   * Multiplies every short duration the suite uses: the short TTL (200 ms),
   * the grace after it before a lease must count as expired (150 ms), and the
   * time a waiter is given to show that it waits (50 ms). Raise it for stores
   * whose expiry is coarse or slow (the file lock keeps mtimes to whole seconds).
   * @default 1
   */
  readonly ttlScale?: number;
  /**
   * Whether a lease that is not renewed expires. Turn it off for stores where
   * a lease lives as long as its session (a PostgreSQL advisory lock); the
   * expiry tests are then skipped.
   * @default true
   */
  readonly expires?: boolean;
}

/** Longer than any test's timeout: a waiter that only wakes at expiry fails the test. */
const LONG_TTL_MS = 120_000;

/**
 * The behaviour every {@link LockBackend} must have. `factory` is called once
 * or more per test; every backend it returns within a test must share one
 * store, as separate processes would (same directory, same server, same
 * namespace). Each test uses a fresh lock name and closes its backends.
 */
export function describeLockBackend(
  name: string,
  factory: () => LockBackend | Promise<LockBackend>,
  options: LockBackendConformanceOptions = {},
): void {
  const scale = options.ttlScale ?? 1;
  const expires = options.expires ?? true;
  const shortTtlMs = 200 * scale;
  const expiryGraceMs = 150 * scale;
  const waitingProofMs = 50 * scale;

  describe(`${name} lock backend conformance`, () => {
    const opened: LockBackend[] = [];

    async function backend(): Promise<LockBackend> {
      const created = await factory();
      opened.push(created);
      return created;
    }

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((created) => created.close()));
    });

    it("has a kind and describes where a lock lives", async () => {
      const a = await backend();
      expect(a.kind).toMatch(/\S/);
      expect(a.describe(lockName())).toMatch(/\S/);
    });

    it("grants a free lock to tryAcquire and refuses it while held, even to the same backend", async () => {
      const [a, b] = [await backend(), await backend()];
      const name = lockName();
      const request = acquireRequest(name, "A", LONG_TTL_MS);
      const before = performance.now();
      const lease = await a.tryAcquire(request);
      const after = performance.now();
      expect(lease).not.toBeNull();
      expect(lease!.name).toBe(name);
      expect(lease!.ttlMs).toBe(LONG_TTL_MS);
      expect(lease!.holder).toEqual(request.holder);
      expect(lease!.lost.aborted).toBe(false);
      // grantedAt is the monotonic time taken before the granting request.
      expect(lease!.grantedAt).toBeGreaterThanOrEqual(before);
      expect(lease!.grantedAt).toBeLessThanOrEqual(after);

      expect(await b.tryAcquire(acquireRequest(name, "B", LONG_TTL_MS))).toBeNull();
      expect(await a.tryAcquire(acquireRequest(name, "A2", LONG_TTL_MS))).toBeNull();

      await lease!.release();
      expect(await b.tryAcquire(acquireRequest(name, "B", LONG_TTL_MS))).not.toBeNull();
    });

    it("acquire resolves at once when the lock is free", async () => {
      const a = await backend();
      const name = lockName();
      const lease = await a.acquire(acquireRequest(name, "A", LONG_TTL_MS), new AbortController().signal);
      expect(await a.inspect(name)).toEqual(lease.holder);
    });

    it("round-trips the holder record through inspect, and inspect is null when free", async () => {
      const [a, b] = [await backend(), await backend()];
      const name = lockName();
      expect(await b.inspect(name)).toBeNull();
      const request = acquireRequest(name, "A", LONG_TTL_MS);
      const lease = await a.tryAcquire(request);
      expect(await b.inspect(name)).toEqual(request.holder);
      expect(await a.inspect(name)).toEqual(request.holder);
      await lease!.release();
      expect(await b.inspect(name)).toBeNull();
    });

    it("grants exactly one of ten concurrent tryAcquire calls", async () => {
      const backends = [await backend(), await backend()];
      const name = lockName();
      const requests = Array.from({ length: 10 }, (_, i) => acquireRequest(name, `T${i}`, LONG_TTL_MS));
      const results = await Promise.all(requests.map((request, i) => backends[i % 2]!.tryAcquire(request)));
      const granted = results.filter((lease): lease is Lease => lease !== null);
      expect(granted).toHaveLength(1);
      expect(await backends[0]!.inspect(name)).toEqual(granted[0]!.holder);
    });

    it("hands the lock to ten concurrent acquire calls one at a time", async () => {
      const backends = [await backend(), await backend()];
      const name = lockName();
      let inside = 0;
      let mostInside = 0;
      const order: string[] = [];
      const signal = new AbortController().signal;
      await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const lease = await backends[i % 2]!.acquire(acquireRequest(name, `W${i}`, LONG_TTL_MS), signal);
          inside += 1;
          mostInside = Math.max(mostInside, inside);
          order.push(lease.holder.instanceId);
          expect(await backends[(i + 1) % 2]!.inspect(name)).toEqual(lease.holder);
          await sleep(5);
          inside -= 1;
          await lease.release();
        }),
      );
      expect(mostInside).toBe(1);
      expect(new Set(order).size).toBe(10);
    });

    it("wakes a waiter on release, long before the holder's TTL would expire", async () => {
      const [a, b] = [await backend(), await backend()];
      const name = lockName();
      const first = await a.tryAcquire(acquireRequest(name, "A", LONG_TTL_MS));
      const events: string[] = [];
      const waiting = b.acquire(acquireRequest(name, "B", LONG_TTL_MS), new AbortController().signal).then((lease) => {
        events.push("granted");
        return lease;
      });
      await sleep(waitingProofMs);
      expect(events).toEqual([]);

      const releasedAt = performance.now();
      events.push("released");
      await first!.release();
      // With a TTL longer than the test timeout, only a wake-up on release can get here.
      const second = await waiting;
      expect(events).toEqual(["released", "granted"]);
      expect(second.grantedAt).toBeGreaterThanOrEqual(releasedAt);
      expect(await a.inspect(name)).toEqual(second.holder);
    });

    it("release is idempotent, and a released lease cannot be renewed", async () => {
      const a = await backend();
      const name = lockName();
      const lease = await a.tryAcquire(acquireRequest(name, "A", LONG_TTL_MS));
      await lease!.release();
      await lease!.release();
      expect(await lease!.renew()).toBe(false);
      expect(await a.inspect(name)).toBeNull();
    });

    it("renew keeps the lock beyond its original TTL", async () => {
      const [a, b] = [await backend(), await backend()];
      const name = lockName();
      const lease = await a.tryAcquire(acquireRequest(name, "A", shortTtlMs));
      const start = performance.now();
      while (performance.now() - start < shortTtlMs + expiryGraceMs) {
        await sleep(shortTtlMs / 4);
        expect(await lease!.renew()).toBe(true);
      }
      expect(await b.tryAcquire(acquireRequest(name, "B", LONG_TTL_MS))).toBeNull();
      expect(await b.inspect(name)).toEqual(lease!.holder);
      expect(lease!.lost.aborted).toBe(false);
    });

    it.skipIf(!expires)("renew after expiry resolves false", async () => {
      const a = await backend();
      const lease = await a.tryAcquire(acquireRequest(lockName(), "A", shortTtlMs));
      await sleep(shortTtlMs + expiryGraceMs);
      expect(await lease!.renew()).toBe(false);
    });

    it.skipIf(!expires)("frees an expired lease for others, and inspect no longer reports it", async () => {
      const [a, b] = [await backend(), await backend()];
      const name = lockName();
      await a.tryAcquire(acquireRequest(name, "A", shortTtlMs));
      await sleep(shortTtlMs + expiryGraceMs);
      expect(await b.inspect(name)).toBeNull();
      const next = await b.tryAcquire(acquireRequest(name, "B", LONG_TTL_MS));
      expect(next).not.toBeNull();
      expect(await a.inspect(name)).toEqual(next!.holder);
    });

    it.skipIf(!expires)("does not let an expired lease release or renew the lock re-granted to another holder", async () => {
      const [a, b, c] = [await backend(), await backend(), await backend()];
      const name = lockName();
      const stale = await a.tryAcquire(acquireRequest(name, "A", shortTtlMs));
      await sleep(shortTtlMs + expiryGraceMs);
      const current = await b.tryAcquire(acquireRequest(name, "B", LONG_TTL_MS));
      expect(current).not.toBeNull();

      await stale!.release();
      expect(await stale!.renew()).toBe(false);
      expect(await c.inspect(name)).toEqual(current!.holder);
      expect(await c.tryAcquire(acquireRequest(name, "C", LONG_TTL_MS))).toBeNull();
      expect(await current!.renew()).toBe(true);
      expect(current!.lost.aborted).toBe(false);
    });

    it("rejects a waiter with its signal's reason on abort and leaves no trace of it", async () => {
      const [a, b] = [await backend(), await backend()];
      const name = lockName();
      const first = await a.tryAcquire(acquireRequest(name, "A", LONG_TTL_MS));
      const controller = new AbortController();
      const reason = new Error("the caller gave up");
      const waiting = b.acquire(acquireRequest(name, "B", LONG_TTL_MS), controller.signal);
      await sleep(waitingProofMs);
      controller.abort(reason);
      await expect(waiting).rejects.toBe(reason);
      expect(await b.inspect(name)).toEqual(first!.holder);

      await first!.release();
      // Give a waiter that was not really removed the chance to take the lock.
      await sleep(waitingProofMs);
      expect(await a.inspect(name)).toBeNull();
      const next = await b.tryAcquire(acquireRequest(name, "C", LONG_TTL_MS));
      expect(next).not.toBeNull();
    });

    it("rejects at once with the reason of an already aborted signal, even when the lock is free", async () => {
      const a = await backend();
      const name = lockName();
      const controller = new AbortController();
      const reason = new Error("aborted before the call");
      controller.abort(reason);
      await expect(a.acquire(acquireRequest(name, "A", LONG_TTL_MS), controller.signal)).rejects.toBe(reason);
      expect(await a.inspect(name)).toBeNull();
      expect(await a.tryAcquire(acquireRequest(name, "B", LONG_TTL_MS))).not.toBeNull();
    });

    it("close releases the leases the backend granted, wakes waiters elsewhere, and is idempotent", async () => {
      const [a, b] = [await backend(), await backend()];
      const name = lockName();
      await a.tryAcquire(acquireRequest(name, "A", LONG_TTL_MS));
      const waiting = b.acquire(acquireRequest(name, "B", LONG_TTL_MS), new AbortController().signal);
      await sleep(waitingProofMs);
      await a.close();
      const lease = await waiting;
      expect(await b.inspect(name)).toEqual(lease.holder);
      await a.close();
    });

    it("close rejects the backend's own pending acquire calls without granting them", async () => {
      const [a, b] = [await backend(), await backend()];
      const name = lockName();
      const first = await a.tryAcquire(acquireRequest(name, "A", LONG_TTL_MS));
      const waiting = b.acquire(acquireRequest(name, "B", LONG_TTL_MS), new AbortController().signal);
      await sleep(waitingProofMs);
      await b.close();
      await expect(waiting).rejects.toThrow();
      await first!.release();
      await sleep(waitingProofMs);
      expect(await a.inspect(name)).toBeNull();
    });
  });
}

function lockName(): string {
  return `conformance-${randomUUID().slice(0, 8)}`;
}

function acquireRequest(name: string, instanceId: string, ttlMs: number): AcquireRequest {
  const holder: HolderRecord = {
    instanceId,
    hostname: "conformance.example",
    pid: 4242,
    since: new Date().toISOString(),
  };
  return { name, holder, ttlMs };
}
