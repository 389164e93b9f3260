import { BackendUnavailableError, InvalidOptionError, LockLostError } from "../errors.js";
import { assertAcquireRequest, assertOptionsObject, describeValue } from "./holder.js";
import type { AcquireRequest, HolderRecord, Lease, LockBackend } from "./types.js";

/** Options for {@link memoryLock}. */
export interface MemoryLockOptions {
  /**
   * Locks exclude each other only within one namespace. Tests can pass a
   * unique namespace so that a lease one test leaks never blocks the next.
   * @default "default" (every `memoryLock()` in the process shares it, as processes share a lock directory)
   */
  readonly namespace?: string;
}

/**
 * An in-process lock: for tests, and for many bots in one process. Every
 * `memoryLock()` with the same namespace shares one table of locks, so two
 * supervisors built with their own `memoryLock()` still exclude each other.
 * Waiters are granted the lock in the order they started waiting; a lease
 * that is not renewed within its TTL (by the monotonic clock) passes to the
 * next waiter and its `lost` signal aborts.
 */
export function memoryLock(options: MemoryLockOptions = {}): LockBackend {
  assertOptionsObject(options, 'memoryLock({ namespace: "tests" })');
  const namespace = options.namespace ?? "default";
  if (typeof namespace !== "string" || namespace.length === 0) {
    throw new InvalidOptionError("namespace", `Expected \`namespace\` to be a non-empty string, got ${describeValue(namespace)}`);
  }
  return new MemoryLockBackend(namespaceTable(namespace), namespace);
}

/** A lock table per namespace, kept on `globalThis` so the ESM and CommonJS builds loaded in one process share it. */
function namespaceTable(namespace: string): Map<string, LockSlot> {
  const key = Symbol.for("polling-supervisor.memoryLock.namespaces.v1");
  const registry = ((globalThis as Record<symbol, unknown>)[key] ??= new Map()) as Map<string, Map<string, LockSlot>>;
  let table = registry.get(namespace);
  if (!table) {
    table = new Map();
    registry.set(namespace, table);
  }
  return table;
}

interface Waiter {
  readonly request: AcquireRequest;
  readonly backend: MemoryLockBackend;
  grant(lease: MemoryLease): void;
  reject(reason: unknown): void;
}

/** One lock name: its holder, and the waiters queued behind it. */
class LockSlot {
  readonly name: string;
  readonly #table: Map<string, LockSlot>;
  #holder: { readonly lease: MemoryLease; expiresAt: number } | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  readonly #waiters: Waiter[] = [];

  constructor(name: string, table: Map<string, LockSlot>) {
    this.name = name;
    this.#table = table;
  }

  holderRecord(): HolderRecord | null {
    this.#expireIfDue();
    return this.#holder?.lease.holder ?? null;
  }

  tryGrant(request: AcquireRequest, backend: MemoryLockBackend): MemoryLease | null {
    this.#expireIfDue();
    // Waiters exist only while the lock is held (a release hands it straight
    // to the first one), so a free slot means nobody is queued ahead.
    if (this.#holder) return null;
    return this.#grant(request, backend);
  }

  enqueue(waiter: Waiter): void {
    this.#waiters.push(waiter);
  }

  dequeue(waiter: Waiter): void {
    const index = this.#waiters.indexOf(waiter);
    if (index !== -1) this.#waiters.splice(index, 1);
    this.#forgetIfIdle();
  }

  renew(lease: MemoryLease): boolean {
    this.#expireIfDue();
    if (this.#holder?.lease !== lease) return false;
    this.#holder.expiresAt = performance.now() + lease.ttlMs;
    this.#armExpiry();
    return true;
  }

  release(lease: MemoryLease): void {
    this.#expireIfDue();
    if (this.#holder?.lease !== lease) return;
    this.#holder = undefined;
    this.#handOver();
  }

  #grant(request: AcquireRequest, backend: MemoryLockBackend): MemoryLease {
    const grantedAt = performance.now();
    const lease = new MemoryLease(request, grantedAt, this, backend);
    this.#holder = { lease, expiresAt: grantedAt + request.ttlMs };
    this.#armExpiry();
    return lease;
  }

  /** Gives the lock to the longest-waiting waiter, or forgets the slot when nobody waits. */
  #handOver(): void {
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    const next = this.#waiters.shift();
    if (next) {
      next.grant(this.#grant(next.request, next.backend));
    } else {
      this.#forgetIfIdle();
    }
  }

  #armExpiry(): void {
    clearTimeout(this.#expiryTimer);
    const holder = this.#holder;
    if (!holder) return;
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = undefined;
      this.#expireIfDue();
    }, Math.max(0, holder.expiresAt - performance.now()));
    // The expiry only matters to someone who holds or waits, and they keep the process alive themselves.
    this.#expiryTimer.unref();
  }

  #expireIfDue(): void {
    const holder = this.#holder;
    if (!holder) return;
    if (performance.now() < holder.expiresAt) {
      // A timer that fired a little early (timers are not exact): look again later.
      if (!this.#expiryTimer) this.#armExpiry();
      return;
    }
    this.#holder = undefined;
    holder.lease.lose(new LockLostError(`The lease on ${this.name} expired: it was not renewed within ${holder.lease.ttlMs} ms.`));
    this.#handOver();
  }

  #forgetIfIdle(): void {
    if (!this.#holder && this.#waiters.length === 0 && this.#table.get(this.name) === this) {
      this.#table.delete(this.name);
    }
  }
}

class MemoryLease implements Lease {
  readonly name: string;
  readonly holder: HolderRecord;
  readonly ttlMs: number;
  readonly grantedAt: number;
  readonly #controller = new AbortController();
  readonly #slot: LockSlot;
  readonly #backend: MemoryLockBackend;

  constructor(request: AcquireRequest, grantedAt: number, slot: LockSlot, backend: MemoryLockBackend) {
    this.name = request.name;
    this.holder = request.holder;
    this.ttlMs = request.ttlMs;
    this.grantedAt = grantedAt;
    this.#slot = slot;
    this.#backend = backend;
    backend.track(this);
  }

  get lost(): AbortSignal {
    return this.#controller.signal;
  }

  renew(): Promise<boolean> {
    return Promise.resolve(this.#slot.renew(this));
  }

  release(): Promise<void> {
    this.#slot.release(this);
    this.#backend.untrack(this);
    return Promise.resolve();
  }

  /** Called by the slot when the lease expired; the lease is already no longer the holder. */
  lose(reason: LockLostError): void {
    this.#backend.untrack(this);
    this.#controller.abort(reason);
  }
}

class MemoryLockBackend implements LockBackend {
  readonly kind = "memory";
  readonly #table: Map<string, LockSlot>;
  readonly #namespace: string;
  readonly #leases = new Set<MemoryLease>();
  readonly #waiters = new Set<Waiter>();
  #closed = false;

  constructor(table: Map<string, LockSlot>, namespace: string) {
    this.#table = table;
    this.#namespace = namespace;
  }

  describe(name: string): string {
    return this.#namespace === "default" ? `memory ${name}` : `memory ${this.#namespace}/${name}`;
  }

  async tryAcquire(request: AcquireRequest): Promise<Lease | null> {
    this.#assertOpen();
    assertAcquireRequest(request);
    return this.#slot(request.name).tryGrant(request, this);
  }

  acquire(request: AcquireRequest, signal: AbortSignal): Promise<Lease> {
    try {
      this.#assertOpen();
      assertAcquireRequest(request);
      signal.throwIfAborted();
    } catch (error) {
      return Promise.reject(error);
    }
    const slot = this.#slot(request.name);
    const granted = slot.tryGrant(request, this);
    if (granted) return Promise.resolve(granted);
    return new Promise<Lease>((resolve, reject) => {
      const onAbort = () => waiter.reject(signal.reason);
      const settle = () => {
        signal.removeEventListener("abort", onAbort);
        this.#waiters.delete(waiter);
        slot.dequeue(waiter);
      };
      const waiter: Waiter = {
        request,
        backend: this,
        grant: (lease) => {
          settle();
          resolve(lease);
        },
        reject: (reason) => {
          settle();
          reject(reason);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(waiter);
      slot.enqueue(waiter);
    });
  }

  async inspect(name: string): Promise<HolderRecord | null> {
    this.#assertOpen();
    return this.#table.get(name)?.holderRecord() ?? null;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new BackendUnavailableError("This memoryLock() backend was closed; create a new one to acquire locks again.");
    for (const waiter of [...this.#waiters]) waiter.reject(closed);
    await Promise.all([...this.#leases].map((lease) => lease.release()));
  }

  track(lease: MemoryLease): void {
    this.#leases.add(lease);
  }

  untrack(lease: MemoryLease): void {
    this.#leases.delete(lease);
  }

  #slot(name: string): LockSlot {
    let slot = this.#table.get(name);
    if (!slot) {
      slot = new LockSlot(name, this.#table);
      this.#table.set(name, slot);
    }
    return slot;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new BackendUnavailableError("This memoryLock() backend was closed; create a new one to acquire locks again.");
    }
  }
}
