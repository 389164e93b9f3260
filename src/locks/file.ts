import { createHash, randomUUID } from "node:crypto";
import { type FSWatcher, readFileSync, readlinkSync, rmdirSync, unlinkSync, watch } from "node:fs";
import { access, constants, lstat, mkdir, open, readdir, readFile, rename, rmdir, unlink, utimes } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { BackendUnavailableError, InvalidOptionError, LockLostError } from "../errors.js";
import { assertAcquireRequest, assertOptionsObject, describeValue } from "./holder.js";
import type { AcquireRequest, HolderRecord, Lease, LockBackend } from "./types.js";

/** Options for {@link fileLock}. */
export interface FileLockOptions {
  /**
   * The directory that holds the lock files. Created with mode 0o700 when
   * missing. Every process that must exclude the others has to use the same
   * directory, on the same machine (a file lock does not work across machines).
   * @default path.join(os.tmpdir(), "polling-supervisor")
   */
  readonly dir?: string;
  /**
   * The least time, in ms, a lock must go without renewal before another
   * process may take it: a lease is free once both its own TTL and `staleMs`
   * have passed since its last renewal. Also how long a lock whose owner
   * record cannot be read (a process died while creating it) blocks others.
   * A holder on the same machine whose process is gone is replaced at once,
   * whatever this says.
   * @default 2000
   */
  readonly staleMs?: number;
  /**
   * The longest a waiter sleeps between two looks at the lock when no file
   * system event wakes it (fs.watch can miss events on network and some
   * container file systems). Each sleep is a random time between half of
   * this and all of it, so waiters do not look in step.
   * @default 1000
   */
  readonly pollMs?: number;
}

/**
 * A lock in a directory on this machine, built on proper-lockfile's scheme:
 * the lock is a directory created with `mkdir` (atomic), and the holder keeps
 * it alive by bumping an mtime. Inside the directory, one owner file
 * `<lease id>.json` (mode 0o600) records the holder, the lease TTL and the
 * holding process. Renewal bumps that file's mtime; a lock whose mtime is
 * older than the lease TTL is free for others.
 *
 * A same-machine holder whose process is gone is replaced at once, without
 * waiting for the TTL. Taking over a stale lock renames the dead owner file
 * away by its unique name, so when several processes reclaim the same stale
 * lock at once, only one rename succeeds (no double grant, unlike
 * proper-lockfile's remove-then-create, issue #121). Waiters wake on release
 * through `fs.watch`, with a jittered poll as the fallback.
 */
export function fileLock(options: FileLockOptions = {}): LockBackend {
  assertOptionsObject(options, 'fileLock({ dir: "/var/lock/my-bot" })');
  const { dir, staleMs = 2000, pollMs = 1000 } = options;
  if (dir !== undefined && (typeof dir !== "string" || dir.length === 0)) {
    throw new InvalidOptionError("dir", `Expected \`dir\` to be a non-empty path, got ${describeValue(dir)}`);
  }
  if (typeof staleMs !== "number" || !Number.isFinite(staleMs) || staleMs < 1000) {
    throw new InvalidOptionError(
      "staleMs",
      `Expected \`staleMs\` to be a finite number of milliseconds of at least 1000 (mtimes are kept to whole seconds), got ${describeValue(staleMs)}`,
    );
  }
  if (typeof pollMs !== "number" || !Number.isFinite(pollMs) || pollMs < 1) {
    throw new InvalidOptionError("pollMs", `Expected \`pollMs\` to be a positive finite number of milliseconds, got ${describeValue(pollMs)}`);
  }
  return new FileLockBackend({
    dir: path.resolve(dir ?? path.join(tmpdir(), "polling-supervisor")),
    isDefaultDir: dir === undefined,
    staleMs,
    pollMs,
  });
}

const OWNER_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json$/;

/** What identifies the process holding a lock, to tell whether it is still alive. */
interface ProcessIdentity {
  readonly hostname: string;
  readonly pid: number;
  /** Linux: changes on every boot, so a record from an earlier boot is known dead. */
  readonly bootId?: string;
  /** Linux: pids are only comparable within one pid namespace (containers). */
  readonly pidNamespace?: string;
}

/** The content of an owner file. */
interface OwnerRecord {
  readonly version: 1;
  readonly lease: string;
  readonly ttlMs: number;
  readonly holder: HolderRecord;
  readonly process: ProcessIdentity;
}

/** Where the files of one lock live. */
interface LockPaths {
  readonly name: string;
  /** The lock directory's file name in the base directory, as fs.watch reports it. */
  readonly entry: string;
  readonly lockDir: string;
}

/**
 * State shared by every copy of this module in the process (the ESM and the
 * CommonJS build can both be loaded): if each copy had its own list of held
 * leases, one would take the other's leases for those of a dead process.
 */
interface ProcessState {
  /** Leases held in this process, by lease id; their owner files are removed on `process.exit`. */
  readonly held: Map<string, { readonly ownerPath: string; readonly lockDir: string }>;
  /** Waiters in this process, by lock directory, woken at once by a release here (fs.watch is slower). */
  readonly localWaiters: Map<string, Set<() => void>>;
  exitHookInstalled: boolean;
}

const processState = ((globalThis as Record<symbol, unknown>)[Symbol.for("polling-supervisor.fileLock.process.v1")] ??= {
  held: new Map(),
  localWaiters: new Map(),
  exitHookInstalled: false,
}) as ProcessState;

// proper-lockfile's lock() is not called: its update timer refreshes the mtime
// on its own and reports any other mtime change as a compromise, so a lease
// could neither be renewed by renew() nor expire when the supervisor stops
// renewing; and its stale reclaim (rmdir, then mkdir) grants twice when two
// processes reclaim at once (#121). The scheme is kept, the steps are ours.
class FileLockBackend implements LockBackend {
  readonly kind = "file";
  readonly #dir: string;
  readonly #isDefaultDir: boolean;
  readonly #staleMs: number;
  readonly #pollMs: number;
  readonly #watch: DirectoryWatch;
  readonly #leases = new Set<FileLease>();
  readonly #closing = new AbortController();
  #prepared: Promise<void> | undefined;
  #coarseMtimes = false;

  constructor(config: { dir: string; isDefaultDir: boolean; staleMs: number; pollMs: number }) {
    this.#dir = config.dir;
    this.#isDefaultDir = config.isDefaultDir;
    this.#staleMs = config.staleMs;
    this.#pollMs = config.pollMs;
    this.#watch = new DirectoryWatch(config.dir);
  }

  describe(name: string): string {
    return `file ${this.#paths(name).lockDir}`;
  }

  async tryAcquire(request: AcquireRequest): Promise<Lease | null> {
    this.#assertOpen();
    assertAcquireRequest(request);
    const outcome = await this.#attempt(request, this.#paths(request.name));
    if (!(outcome instanceof FileLease)) return null;
    if (this.#closing.signal.aborted) {
      await outcome.release();
      throw closedError();
    }
    return outcome;
  }

  async acquire(request: AcquireRequest, signal: AbortSignal): Promise<Lease> {
    this.#assertOpen();
    assertAcquireRequest(request);
    signal.throwIfAborted();
    const stop = AbortSignal.any([signal, this.#closing.signal]);
    const paths = this.#paths(request.name);
    // The directory must exist before it can be watched.
    await this.#ready();
    const wakeup = new Wakeup();
    // Subscribe before the first look, so a release between a look and the wait is not missed.
    const unwatch = this.#watch.add(paths.entry, wakeup.trigger);
    const unlisten = listenLocally(paths.lockDir, wakeup.trigger);
    try {
      for (;;) {
        wakeup.reset();
        const outcome = await this.#attempt(request, paths);
        if (outcome instanceof FileLease) {
          if (stop.aborted) {
            await outcome.release();
            throw stop.reason;
          }
          return outcome;
        }
        const jitteredPollMs = this.#pollMs * (0.5 + Math.random() * 0.5);
        // A crashed holder changes nothing on disk, so no file event says it died: watch its pid instead.
        const stopWatching = watchForDeath(outcome.localOwners ?? [], wakeup.trigger);
        try {
          await wakeup.wait(Math.max(10, Math.min(outcome.retryAt - Date.now(), jitteredPollMs)), stop);
        } finally {
          stopWatching();
        }
      }
    } finally {
      unwatch();
      unlisten();
    }
  }

  async inspect(name: string): Promise<HolderRecord | null> {
    this.#assertOpen();
    await this.#ready();
    const state = await this.#read(this.#paths(name));
    return state.kind === "held" ? state.holder : null;
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(closedError());
    await Promise.all([...this.#leases].map((lease) => lease.release()));
    this.#watch.close();
  }

  get watcher(): DirectoryWatch {
    return this.#watch;
  }

  /** The mtime to write for a renewal now: never earlier than now once stored, whatever the file system's precision. */
  mtimeNow(): Date {
    return this.#coarseMtimes ? nextWholeSecond() : new Date();
  }

  untrack(lease: FileLease): void {
    this.#leases.delete(lease);
  }

  /**
   * One look at the lock: takes it when free, replaces a stale or dead owner
   * and looks again. Otherwise says when the lock may next change hands.
   */
  async #attempt(
    request: AcquireRequest,
    paths: LockPaths,
  ): Promise<FileLease | { readonly retryAt: number; readonly localOwners?: readonly OwnerRecord[] }> {
    await this.#ready();
    // Each round either makes progress (a stale owner or an abandoned directory
    // is gone) or returns; the bound only matters when others keep winning.
    for (let round = 0; round < 8; round += 1) {
      const lease = await this.#create(request, paths);
      if (lease) return lease;
      const state = await this.#read(paths);
      switch (state.kind) {
        case "absent":
          continue;
        case "held":
          return { retryAt: state.until, localOwners: state.localOwners };
        case "busy":
          return { retryAt: state.until };
        case "reclaimable":
          for (const owner of state.owners) await reclaimOwner(paths.lockDir, owner);
          notifyLocally(paths.lockDir);
          continue;
        case "abandoned":
          await removeAbandoned(paths.lockDir, state.leftovers);
          notifyLocally(paths.lockDir);
          continue;
      }
    }
    return { retryAt: Date.now() };
  }

  /**
   * Creates the lock directory and publishes this lease's owner file in it.
   * Returns null when the directory already exists or a rival owner file
   * showed up beside ours.
   */
  async #create(request: AcquireRequest, paths: LockPaths): Promise<FileLease | null> {
    const grantedAt = performance.now();
    try {
      await mkdir(paths.lockDir, { mode: 0o700 });
    } catch (error) {
      if (errorCode(error) === "EEXIST") return null;
      if (errorCode(error) === "ENOENT") {
        // The base directory was removed under us: recreate it, watch the new one, and look again.
        this.#prepared = undefined;
        await this.#ready();
        this.#watch.restart();
        return null;
      }
      throw fileError("create the lock directory", paths.lockDir, error);
    }
    const id = randomUUID();
    const ownerPath = path.join(paths.lockDir, `${id}.json`);
    const pendingPath = path.join(paths.lockDir, `.${id}.tmp`);
    let mtime = this.mtimeNow();
    const record: OwnerRecord = { version: 1, lease: id, ttlMs: request.ttlMs, holder: request.holder, process: ownIdentity() };
    // Registered before the owner file is visible: a same-pid check in this process must not take it for a dead one.
    processState.held.set(id, { ownerPath, lockDir: paths.lockDir });
    installExitHook();
    try {
      // Written under a temporary name and renamed, so nobody reads a half-written record.
      const handle = await open(pendingPath, "wx", 0o600);
      try {
        await handle.writeFile(JSON.stringify(record));
        await handle.utimes(mtime, mtime);
        if (!this.#coarseMtimes && !sameMtime((await handle.stat()).mtimeMs, mtime.getTime())) {
          // This file system truncated the mtime (one-second precision): from now on write whole seconds, rounded up.
          this.#coarseMtimes = true;
          mtime = this.mtimeNow();
          await handle.utimes(mtime, mtime);
        }
      } finally {
        await handle.close();
      }
      await rename(pendingPath, ownerPath);
      // mkdir made us the only creator, unless a process that paused for longer
      // than staleMs while creating published into our directory: whoever sees
      // a rival owner file backs off, so the lock is never held twice.
      const rivals = (await readdir(paths.lockDir)).filter((entry) => OWNER_FILE.test(entry) && entry !== `${id}.json`);
      if (rivals.length > 0) {
        await removeIgnoringMissing(ownerPath);
        processState.held.delete(id);
        return null;
      }
    } catch (error) {
      processState.held.delete(id);
      await removeIgnoringMissing(pendingPath).catch(() => undefined);
      // The directory was removed as abandoned while we wrote: someone else's turn.
      if (errorCode(error) === "ENOENT") return null;
      // Leave no empty directory that would block others for staleMs.
      await removeDirIfEmpty(paths.lockDir).catch(() => undefined);
      throw fileError("write the owner file", ownerPath, error);
    }
    const lease = new FileLease({ request, grantedAt, id, ownerPath, paths, mtimeMs: mtime.getTime(), backend: this });
    this.#leases.add(lease);
    return lease;
  }

  /** What the lock directory holds right now. */
  async #read(paths: LockPaths): Promise<LockState> {
    let info;
    try {
      info = await lstat(paths.lockDir);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return { kind: "absent" };
      throw fileError("read the lock directory", paths.lockDir, error);
    }
    if (info.isSymbolicLink()) throw symlinkError(paths.lockDir);
    if (!info.isDirectory()) {
      throw new BackendUnavailableError(
        `${paths.lockDir} is in the way of the lock for ${JSON.stringify(paths.name)}: it is not a directory. Remove it, or pass another \`dir\` to fileLock().`,
      );
    }
    let entries: string[];
    try {
      entries = await readdir(paths.lockDir);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return { kind: "absent" };
      throw fileError("read the lock directory", paths.lockDir, error);
    }
    const now = Date.now();
    const live: OwnerSnapshot[] = [];
    const stale: OwnerSnapshot[] = [];
    const leftovers: string[] = [];
    let lastActivity = info.mtimeMs;
    for (const entry of entries) {
      const match = OWNER_FILE.exec(entry);
      if (!match) {
        if (!entry.startsWith(".")) {
          throw new BackendUnavailableError(
            `The lock directory ${paths.lockDir} contains ${JSON.stringify(entry)}, which this library did not write. Remove the directory when no bot runs, and keep other files out of it.`,
          );
        }
        const leftover = await lstatIfPresent(path.join(paths.lockDir, entry));
        if (leftover) {
          leftovers.push(entry);
          lastActivity = Math.max(lastActivity, leftover.mtimeMs);
        }
        continue;
      }
      const owner = await this.#readOwner(paths.lockDir, entry, match[1]!);
      if (!owner) continue;
      (owner.dead || now >= owner.expiresAt ? stale : live).push(owner);
    }
    if (live.length > 0) {
      const holder = live.find((owner) => owner.record)?.record?.holder ?? null;
      const localOwners = live.flatMap((owner) => (owner.record && isLocalProcess(owner.record) ? [owner.record] : []));
      return { kind: "held", holder, until: Math.max(...live.map((owner) => owner.expiresAt)), localOwners };
    }
    if (stale.length > 0) return { kind: "reclaimable", owners: stale };
    // No owner: a process is between mkdir and publishing its owner file, or died there.
    const abandonAt = lastActivity + this.#staleMs;
    return now < abandonAt ? { kind: "busy", until: abandonAt } : { kind: "abandoned", leftovers };
  }

  async #readOwner(lockDir: string, entry: string, id: string): Promise<OwnerSnapshot | undefined> {
    const ownerPath = path.join(lockDir, entry);
    const info = await lstatIfPresent(ownerPath);
    if (!info) return undefined;
    if (info.isSymbolicLink()) throw symlinkError(ownerPath);
    if (!info.isFile()) {
      throw new BackendUnavailableError(`${ownerPath} is not a file: remove the lock directory ${lockDir} when no bot runs.`);
    }
    let text: string;
    try {
      text = await readFile(ownerPath, "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw fileError("read the owner file", ownerPath, error);
    }
    const record = parseOwnerRecord(text, id);
    // An unreadable record cannot say its TTL or process: it ages out after staleMs.
    const lifetime = Math.max(record?.ttlMs ?? 0, this.#staleMs);
    return {
      ownerPath,
      mtimeMs: info.mtimeMs,
      record,
      expiresAt: info.mtimeMs + lifetime,
      dead: record !== undefined && isDeadOwner(record),
    };
  }

  #paths(name: string): LockPaths {
    const entry = `${lockFileStem(name)}.lock`;
    return { name, entry, lockDir: path.join(this.#dir, entry) };
  }

  #ready(): Promise<void> {
    this.#prepared ??= this.#prepare().catch((error: unknown) => {
      this.#prepared = undefined;
      throw error;
    });
    return this.#prepared;
  }

  async #prepare(): Promise<void> {
    const dir = this.#dir;
    try {
      await makeDirectory(dir);
    } catch (error) {
      throw new BackendUnavailableError(
        `Cannot create the lock directory ${dir} (${errorCode(error) ?? "error"}): create it with write access for this user, or pass another \`dir\` to fileLock().`,
        { cause: error },
      );
    }
    const info = await lstat(dir).catch((error: unknown) => {
      throw fileError("read the lock directory", dir, error);
    });
    if (info.isSymbolicLink()) throw symlinkError(dir);
    if (!info.isDirectory()) {
      throw new BackendUnavailableError(`The lock directory ${dir} is not a directory: remove it, or pass another \`dir\` to fileLock().`);
    }
    const uid = process.getuid?.();
    // The shared temp directory is writable by everyone: a directory someone else made there could be a trap.
    if (this.#isDefaultDir && uid !== undefined && info.uid !== uid) {
      throw new BackendUnavailableError(
        `The lock directory ${dir} belongs to another user (uid ${info.uid}, this process runs as uid ${uid}): pass a \`dir\` that this user owns to fileLock(), the same in every process of this bot.`,
      );
    }
    try {
      await access(dir, constants.W_OK | constants.X_OK);
    } catch (error) {
      throw new BackendUnavailableError(
        `The lock directory ${dir} is not writable by this user: give this user write access to it (chmod u+rwx), or pass another \`dir\` to fileLock().`,
        { cause: error },
      );
    }
  }

  #assertOpen(): void {
    if (this.#closing.signal.aborted) throw closedError();
  }
}

type LockState =
  | { readonly kind: "absent" }
  | {
      readonly kind: "held";
      readonly holder: HolderRecord | null;
      readonly until: number;
      /** Owners whose process runs on this host, so a waiter can notice at once when it dies. */
      readonly localOwners: readonly OwnerRecord[];
    }
  | { readonly kind: "busy"; readonly until: number }
  | { readonly kind: "reclaimable"; readonly owners: readonly OwnerSnapshot[] }
  | { readonly kind: "abandoned"; readonly leftovers: readonly string[] };

/** One owner file as it was read. */
interface OwnerSnapshot {
  readonly ownerPath: string;
  readonly mtimeMs: number;
  readonly record: OwnerRecord | undefined;
  /** Wall-clock ms after which others may take the lock from this owner. */
  readonly expiresAt: number;
  /** Its process is known to be gone (same machine, pid not running, or an earlier boot). */
  readonly dead: boolean;
}

/**
 * Takes a stale or dead owner file out of the lock directory. The rename is
 * by the owner's unique name, so when several processes reclaim the same
 * owner only one rename succeeds, and none can remove an owner file that
 * replaced it. If the mtime moved since we looked (the holder renewed just
 * then), the file is put back.
 */
async function reclaimOwner(lockDir: string, owner: OwnerSnapshot): Promise<void> {
  const aside = path.join(lockDir, `.${randomUUID()}.reclaim`);
  try {
    await rename(owner.ownerPath, aside);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return;
    throw fileError("reclaim the stale owner file", owner.ownerPath, error);
  }
  const moved = await lstatIfPresent(aside);
  if (moved && moved.mtimeMs !== owner.mtimeMs) {
    try {
      await rename(aside, owner.ownerPath);
      return;
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw fileError("restore the owner file", owner.ownerPath, error);
    }
  }
  await removeIgnoringMissing(aside);
  await removeDirIfEmpty(lockDir);
}

/** Removes what a process that died while creating the lock left behind, then the directory if it is empty. */
async function removeAbandoned(lockDir: string, leftovers: readonly string[]): Promise<void> {
  for (const entry of leftovers) await removeIgnoringMissing(path.join(lockDir, entry));
  await removeDirIfEmpty(lockDir);
}

interface FileLeaseInit {
  readonly request: AcquireRequest;
  readonly grantedAt: number;
  readonly id: string;
  readonly ownerPath: string;
  readonly paths: LockPaths;
  readonly mtimeMs: number;
  readonly backend: FileLockBackend;
}

class FileLease implements Lease {
  readonly name: string;
  readonly holder: HolderRecord;
  readonly ttlMs: number;
  readonly grantedAt: number;
  readonly #id: string;
  readonly #ownerPath: string;
  readonly #lockDir: string;
  readonly #backend: FileLockBackend;
  readonly #controller = new AbortController();
  readonly #unwatch: () => void;
  /** The mtime this lease last wrote; any other value means someone else touched the owner file. */
  #mtimeMs: number;
  #expiryTimer: NodeJS.Timeout | undefined;
  #checking = false;
  #released: Promise<void> | undefined;

  constructor(init: FileLeaseInit) {
    this.name = init.request.name;
    this.holder = init.request.holder;
    this.ttlMs = init.request.ttlMs;
    this.grantedAt = init.grantedAt;
    this.#id = init.id;
    this.#ownerPath = init.ownerPath;
    this.#lockDir = init.paths.lockDir;
    this.#mtimeMs = init.mtimeMs;
    this.#backend = init.backend;
    this.#unwatch = init.backend.watcher.add(init.paths.entry, () => void this.#checkStillOurs());
    this.#armExpiry();
  }

  get lost(): AbortSignal {
    return this.#controller.signal;
  }

  async renew(): Promise<boolean> {
    if (!this.#isActive()) return false;
    let info;
    try {
      info = await lstat(this.#ownerPath);
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw fileError("read the owner file", this.#ownerPath, error);
      return this.#isActive() && this.#lose("its owner file was removed (another process took the lock over)");
    }
    if (!this.#isActive()) return false;
    if (!sameMtime(info.mtimeMs, this.#mtimeMs)) return this.#lose("its owner file was changed by someone else");
    // Never extend a lease that already ran out, even when nobody took it: the holder may not rely on it any more.
    if (Date.now() >= this.#mtimeMs + this.ttlMs) return this.#expire();
    const next = this.#backend.mtimeNow();
    try {
      await utimes(this.#ownerPath, next, next);
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw fileError("renew the owner file", this.#ownerPath, error);
      return this.#isActive() && this.#lose("its owner file was removed (another process took the lock over)");
    }
    if (!this.#isActive()) return false;
    this.#mtimeMs = next.getTime();
    this.#armExpiry();
    return true;
  }

  release(): Promise<void> {
    this.#released ??= this.#removeFiles().catch((error: unknown) => {
      // Let a later call try again.
      this.#released = undefined;
      throw error;
    });
    return this.#released;
  }

  #isActive(): boolean {
    return this.#released === undefined && !this.#controller.signal.aborted;
  }

  async #removeFiles(): Promise<void> {
    this.#stopKeeping();
    this.#backend.untrack(this);
    try {
      // By this lease's unique name: a lock someone else holds now is never touched.
      await unlink(this.#ownerPath);
    } catch (error) {
      if (errorCode(error) === "ENOENT") return;
      throw fileError("remove the owner file", this.#ownerPath, error);
    }
    await removeDirIfEmpty(this.#lockDir);
    notifyLocally(this.#lockDir);
  }

  async #checkStillOurs(): Promise<void> {
    if (this.#checking || !this.#isActive()) return;
    this.#checking = true;
    try {
      const info = await lstatIfPresent(this.#ownerPath);
      if (!this.#isActive()) return;
      if (!info) this.#lose("its owner file was removed (another process took the lock over, or the directory was deleted)");
      else if (!sameMtime(info.mtimeMs, this.#mtimeMs)) this.#lose("its owner file was changed by someone else");
    } catch {
      // A failed look proves nothing; the next renew decides.
    } finally {
      this.#checking = false;
    }
  }

  #armExpiry(): void {
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = setTimeout(() => void this.#expire(), Math.max(0, this.#mtimeMs + this.ttlMs - Date.now()));
    // The supervisor keeps its own timers; this one must not keep a process alive.
    this.#expiryTimer.unref();
  }

  /** The TTL passed without renewal: the lease is lost, and its files go so others need not wait for staleMs. */
  async #expire(): Promise<false> {
    if (!this.#isActive()) return false;
    if (Date.now() < this.#mtimeMs + this.ttlMs) {
      this.#armExpiry();
      return false;
    }
    this.#lose(`it was not renewed within its TTL of ${this.ttlMs} ms`);
    await this.release().catch(() => undefined);
    return false;
  }

  #lose(why: string): false {
    if (this.#controller.signal.aborted) return false;
    this.#stopKeeping();
    this.#controller.abort(new LockLostError(`The file lock on ${this.name} (${this.#lockDir}) was lost: ${why}.`));
    return false;
  }

  #stopKeeping(): void {
    clearTimeout(this.#expiryTimer);
    this.#unwatch();
    processState.held.delete(this.#id);
  }
}

/** One fs.watch on the base directory, shared by every waiter and lease of a backend. */
class DirectoryWatch {
  readonly #dir: string;
  readonly #listeners = new Map<string, Set<() => void>>();
  #watcher: FSWatcher | undefined;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Calls `listener` on any change to the base directory entry `entry`; returns the unsubscribe function. */
  add(entry: string, listener: () => void): () => void {
    let listeners = this.#listeners.get(entry);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(entry, listeners);
    }
    listeners.add(listener);
    this.#start();
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#listeners.get(entry) === listeners) this.#listeners.delete(entry);
      if (this.#listeners.size === 0) this.close();
    };
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** Watches the directory again, after it was removed and created anew. */
  restart(): void {
    this.close();
    if (this.#listeners.size > 0) this.#start();
  }

  #start(): void {
    if (this.#watcher) return;
    try {
      this.#watcher = watch(this.#dir, { persistent: false }, (_event, entry) => this.#notify(entry));
    } catch {
      // No watcher (missing directory, inotify limit): waiters fall back to polling.
      return;
    }
    this.#watcher.on("error", () => {
      this.close();
      this.#notify(null);
    });
  }

  #notify(entry: string | null): void {
    const targets = entry === null ? [...this.#listeners.values()] : [this.#listeners.get(entry)].filter((set) => set !== undefined);
    for (const listeners of targets) for (const listener of [...listeners]) listener();
  }
}

/** Lets a waiter sleep until it is woken, a timeout passes, or a signal aborts; a wake-up that came early is kept. */
class Wakeup {
  #pending = false;
  #wake: (() => void) | undefined;

  readonly trigger = (): void => {
    this.#pending = true;
    this.#wake?.();
  };

  reset(): void {
    this.#pending = false;
  }

  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#pending) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.#wake = undefined;
      };
      const onAbort = () => {
        finish();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        finish();
        resolve();
      }, ms);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#wake = () => {
        finish();
        resolve();
      };
    });
  }
}

function listenLocally(lockDir: string, listener: () => void): () => void {
  const { localWaiters } = processState;
  let listeners = localWaiters.get(lockDir);
  if (!listeners) {
    listeners = new Set();
    localWaiters.set(lockDir, listeners);
  }
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && localWaiters.get(lockDir) === listeners) localWaiters.delete(lockDir);
  };
}

function notifyLocally(lockDir: string): void {
  for (const listener of [...(processState.localWaiters.get(lockDir) ?? [])]) listener();
}

/** Removes this process's owner files when it exits without releasing (process.exit, end of the event loop). */
function installExitHook(): void {
  if (processState.exitHookInstalled) return;
  processState.exitHookInstalled = true;
  process.on("exit", () => {
    for (const { ownerPath, lockDir } of processState.held.values()) {
      try {
        unlinkSync(ownerPath);
        rmdirSync(lockDir);
      } catch {
        // Nothing more can be done while exiting; the next process replaces a dead owner anyway.
      }
    }
  });
}

let cachedIdentity: ProcessIdentity | undefined;

function ownIdentity(): ProcessIdentity {
  if (!cachedIdentity) {
    const bootId = readOptional(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
    const pidNamespace = readOptional(() => readlinkSync("/proc/self/ns/pid"));
    cachedIdentity = {
      hostname: hostname(),
      pid: process.pid,
      ...(bootId === undefined ? {} : { bootId }),
      ...(pidNamespace === undefined ? {} : { pidNamespace }),
    };
  }
  return cachedIdentity;
}

function readOptional(read: () => string): string | undefined {
  try {
    return read() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether the owner's process is known to be gone. Only decidable on this machine, in this pid namespace. */
/**
 * `mkdir -p` with mode 0o700, one level at a time. Not `mkdir(dir, { recursive: true })`:
 * under /proc, /sys and other pseudo file systems a directory that cannot exist
 * answers ENOENT though its parent exists, and Node's recursive mkdir then never
 * settles (it retries the parent and the child for ever, a thread at 100% CPU).
 */
async function makeDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o700 });
    return;
  } catch (error) {
    if (errorCode(error) === "EEXIST") return;
    const parent = path.dirname(dir);
    if (errorCode(error) !== "ENOENT" || parent === dir || (await lstatIfPresent(parent))) throw error;
    await makeDirectory(parent);
  }
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (error) {
    if (errorCode(error) !== "EEXIST") throw error;
  }
}

/** How often a waiter checks whether a holder process on this host is still alive (`kill(pid, 0)`, no file I/O). */
const DEATH_CHECK_MS = 25;

/** Calls `onDeath` once any of `owners` is found dead; returns a function that stops watching. */
function watchForDeath(owners: readonly OwnerRecord[], onDeath: () => void): () => void {
  if (owners.length === 0) return () => undefined;
  const timer = setInterval(() => {
    if (owners.some(isDeadOwner)) {
      clearInterval(timer);
      onDeath();
    }
  }, DEATH_CHECK_MS);
  return () => clearInterval(timer);
}

/** Whether the owner's process runs on this host, in our pid namespace, and is not this process. */
function isLocalProcess(record: OwnerRecord): boolean {
  const own = ownIdentity();
  const owner = record.process;
  return owner.hostname === own.hostname && owner.pidNamespace === own.pidNamespace && owner.pid !== own.pid;
}

function isDeadOwner(record: OwnerRecord): boolean {
  const own = ownIdentity();
  const owner = record.process;
  if (owner.hostname !== own.hostname) return false;
  if (owner.bootId !== undefined && own.bootId !== undefined && owner.bootId !== own.bootId) return true;
  if (owner.pidNamespace !== own.pidNamespace) return false;
  // Our own pid: a lease this process does not hold is from an earlier process with the same pid (pid 1 in a restarted container).
  if (owner.pid === own.pid) return !processState.held.has(record.lease);
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return errorCode(error) === "ESRCH";
  }
}

function parseOwnerRecord(text: string, id: string): OwnerRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Partial<Record<keyof OwnerRecord, unknown>>;
  const holder = record.holder as Partial<Record<keyof HolderRecord, unknown>> | null | undefined;
  const owner = record.process as Partial<Record<keyof ProcessIdentity, unknown>> | null | undefined;
  const valid =
    record.version === 1 &&
    record.lease === id &&
    typeof record.ttlMs === "number" &&
    Number.isFinite(record.ttlMs) &&
    typeof holder === "object" &&
    holder !== null &&
    typeof holder.instanceId === "string" &&
    typeof holder.hostname === "string" &&
    typeof holder.pid === "number" &&
    typeof holder.since === "string" &&
    typeof owner === "object" &&
    owner !== null &&
    typeof owner.hostname === "string" &&
    typeof owner.pid === "number" &&
    (owner.bootId === undefined || typeof owner.bootId === "string") &&
    (owner.pidNamespace === undefined || typeof owner.pidNamespace === "string");
  return valid ? (value as OwnerRecord) : undefined;
}

/**
 * The lock directory's name for a lock name: the name itself when it is
 * plain (`bot-123456`), otherwise a sanitised prefix plus a hash so that
 * distinct names never share a directory and no name can leave the base
 * directory.
 */
function lockFileStem(name: string): string {
  const plain = name.replace(/[^A-Za-z0-9_-]/g, "_");
  if (plain === name && name.length <= 64) return name;
  const digest = createHash("sha256").update(name).digest("hex").slice(0, 16);
  return `${plain.slice(0, 64)}-${digest}`;
}

/**
 * The next whole second, as proper-lockfile writes mtimes on file systems
 * with one-second precision: the stored mtime is never earlier than the
 * renewal, so the lease never looks older than it is.
 */
function nextWholeSecond(): Date {
  return new Date(Math.ceil(Date.now() / 1000) * 1000);
}

/** Whether two mtimes are the same write; the round trip through seconds and nanoseconds can move the last digits. */
function sameMtime(a: number, b: number): boolean {
  return Math.abs(a - b) < 1;
}

async function lstatIfPresent(file: string) {
  try {
    return await lstat(file);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
}

async function removeIgnoringMissing(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw fileError("remove", file, error);
  }
}

/** rmdir only removes an empty directory: a lock someone else created in the meantime stays. */
async function removeDirIfEmpty(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (error) {
    const code = errorCode(error);
    if (code !== "ENOENT" && code !== "ENOTEMPTY" && code !== "EEXIST") throw fileError("remove the lock directory", dir, error);
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

function fileError(action: string, file: string, error: unknown): BackendUnavailableError {
  if (error instanceof BackendUnavailableError) return error;
  return new BackendUnavailableError(
    `Could not ${action} ${file} (${errorCode(error) ?? String(error)}): check that the lock directory is on a local disk with space left and writable by this user.`,
    { cause: error },
  );
}

function symlinkError(file: string): BackendUnavailableError {
  return new BackendUnavailableError(
    `Refusing to use ${file}: it is a symbolic link, and a lock must never follow one (someone may be redirecting it). Remove the link, or pass another \`dir\` to fileLock().`,
  );
}

function closedError(): BackendUnavailableError {
  return new BackendUnavailableError("This fileLock() backend was closed; create a new one to acquire locks again.");
}
