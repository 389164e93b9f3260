import type { AcquireRequest, HolderRecord, Lease, LockBackend } from "../../src/locks/types.js";

/** How a fixed-period waiter spaces its attempts. */
export type RetryPolicy =
  /**
   * client-go leader election: `wait.JitterUntil(tryAcquireOrRenew, RetryPeriod, JitterFactor = 1.2, sliding)`,
   * so each pause is RetryPeriod + rand × 1.2 × RetryPeriod (2 to 4.4 s with the default 2 s).
   */
  | { readonly kind: "k8s"; readonly retryPeriodMs: number; readonly jitterFactor: number }
  /** proper-lockfile's `retries` (the `retry` module) with `factor: 1`: a try every `periodMs`, no jitter. */
  | { readonly kind: "fixed"; readonly periodMs: number };

/** The pause before the next attempt. */
export function retryDelay(policy: RetryPolicy, random: () => number = Math.random): number {
  return policy.kind === "k8s" ? policy.retryPeriodMs * (1 + random() * policy.jitterFactor) : policy.periodMs;
}

/**
 * The same lock, waited for the way most leader-election and lockfile
 * libraries wait: try, sleep a fixed period, try again. Only `acquire` (the
 * standby wait) changes; granting, renewing and releasing are the backend's
 * own, so the difference in the handover gap is what wake-on-release buys.
 */
export function withFixedPeriodRetry(inner: LockBackend, policy: RetryPolicy): LockBackend {
  return {
    kind: `${inner.kind}+${policy.kind === "k8s" ? "k8s-retry" : "fixed-retry"}`,
    describe: (name: string) => inner.describe(name),
    tryAcquire: (request: AcquireRequest) => inner.tryAcquire(request),
    inspect: (name: string): Promise<HolderRecord | null> => inner.inspect(name),
    close: () => inner.close(),
    async acquire(request: AcquireRequest, signal: AbortSignal): Promise<Lease> {
      for (;;) {
        signal.throwIfAborted();
        const lease = await inner.tryAcquire(request);
        if (lease) {
          if (!signal.aborted) return lease;
          await lease.release();
          signal.throwIfAborted();
        }
        await sleep(retryDelay(policy), signal);
      }
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
