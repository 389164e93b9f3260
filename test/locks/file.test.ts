import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { BackendUnavailableError, InvalidOptionError, LockLostError } from "../../src/errors.js";
import { type FileLockOptions, fileLock } from "../../src/locks/file.js";
import type { AcquireRequest, LockBackend } from "../../src/locks/types.js";
import { describeLockBackend } from "./conformance.js";
import type { WorkerCommand, WorkerReply } from "./fixtures/lock-worker.js";

const root = mkdtempSync(path.join(tmpdir(), "ps-file-lock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirCount = 0;
/** A lock directory path of its own for one test; not created, so the backend creates it. */
function freshDir(): string {
  dirCount += 1;
  return path.join(root, `case-${dirCount}`);
}

describeLockBackend("file", () => fileLock({ dir: path.join(root, "conformance"), staleMs: 1000 }), { ttlScale: 5 });

const backends: LockBackend[] = [];
const workers: LockWorker[] = [];

function openLock(options: FileLockOptions): LockBackend {
  const backend = fileLock(options);
  backends.push(backend);
  return backend;
}

afterEach(async () => {
  for (const worker of workers.splice(0)) worker.kill("SIGKILL");
  await Promise.all(backends.splice(0).map((backend) => backend.close()));
});

function request(name: string, instanceId: string, ttlMs = 60_000): AcquireRequest {
  return { name, ttlMs, holder: { instanceId, hostname: hostname(), pid: process.pid, since: new Date().toISOString() } };
}

/** The one owner file of a held lock (white box: tests that simulate a holder that stopped renewing long ago). */
function ownerFile(dir: string, name: string): string {
  const lockDir = path.join(dir, `${name}.lock`);
  const owners = readdirSync(lockDir).filter((entry) => entry.endsWith(".json"));
  expect(owners).toHaveLength(1);
  return path.join(lockDir, owners[0]!);
}

function backdate(file: string, ageMs: number): void {
  const then = new Date(Date.now() - ageMs);
  utimesSync(file, then, then);
}

describe("fileLock across processes", () => {
  it("lets a waiter in another process take over at once when the holder is SIGKILLed, with a 60 s TTL", async () => {
    const dir = freshDir();
    const name = "bot-100";
    const options = { staleMs: 60_000 };
    const holder = await LockWorker.start(dir, options);
    expect(await holder.send({ op: "tryAcquire", name, ttlMs: 60_000, instanceId: "holder" })).toMatchObject({ granted: true });

    const [b, c] = await Promise.all([LockWorker.start(dir, options), LockWorker.start(dir, options)]);
    const waits = [
      b.send({ op: "acquire", name, ttlMs: 60_000, instanceId: "B" }).then(() => "B"),
      c.send({ op: "acquire", name, ttlMs: 60_000, instanceId: "C" }).then(() => "C"),
    ];
    const observer = openLock({ dir, ...options });
    expect(await observer.inspect(name)).toMatchObject({ instanceId: "holder" });

    holder.kill("SIGKILL");
    await holder.exited;
    // Waiting for the 60 s TTL would time the test out: only the dead-pid check gets here.
    const winner = await Promise.race(waits);
    const [winnerWorker, loserWorker] = winner === "B" ? [b, c] : [c, b];
    expect(await observer.inspect(name)).toMatchObject({ instanceId: winner });
    expect(await observer.tryAcquire(request(name, "observer"))).toBeNull();

    // The other waiter is still waiting, and is granted once the winner releases.
    await winnerWorker.send({ op: "release" });
    await Promise.all(waits);
    expect(await observer.inspect(name)).toMatchObject({ instanceId: winner === "B" ? "C" : "B" });
    await loserWorker.send({ op: "release" });
  });

  it("takes over at once with tryAcquire when the holder on this machine is dead", async () => {
    const dir = freshDir();
    const name = "bot-101";
    const holder = await LockWorker.start(dir, { staleMs: 60_000 });
    await holder.send({ op: "tryAcquire", name, ttlMs: 60_000, instanceId: "holder" });
    const backend = openLock({ dir, staleMs: 60_000 });
    expect(await backend.tryAcquire(request(name, "early"))).toBeNull();
    holder.kill("SIGKILL");
    await holder.exited;
    const lease = await backend.tryAcquire(request(name, "successor"));
    expect(lease).not.toBeNull();
    expect(readdirSync(path.join(dir, `${name}.lock`))).toHaveLength(1);
  });

  it("wakes a waiter in another process on release through fs.watch, not the poll", async () => {
    const dir = freshDir();
    const name = "bot-102";
    const backend = openLock({ dir });
    const lease = await backend.tryAcquire(request(name, "parent"));
    // A poll this slow would time the test out: the wake-up must come from the file system.
    const waiter = await LockWorker.start(dir, { pollMs: 120_000 });
    const events: string[] = [];
    const waiting = waiter.send({ op: "acquire", name, ttlMs: 60_000, instanceId: "child" }).then((reply) => {
      events.push("granted");
      return reply;
    });
    // Time for the child's first look at the lock; after it, only a wake-up can grant it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(events).toEqual([]);
    events.push("released");
    await lease!.release();
    expect(await waiting).toMatchObject({ granted: true });
    expect(events).toEqual(["released", "granted"]);
    expect(await backend.inspect(name)).toMatchObject({ instanceId: "child" });
  });

  it("grants a stale lock to exactly one of several processes that reclaim it at the same moment (proper-lockfile #121)", async () => {
    const dir = freshDir();
    const name = "bot-103";
    const racers = await Promise.all(Array.from({ length: 4 }, () => LockWorker.start(dir, { staleMs: 1000 })));
    const backend = openLock({ dir, staleMs: 1000 });
    for (let round = 0; round < 20; round += 1) {
      // A holder that stopped renewing an hour ago; its process (this one) is alive, so only the TTL makes it stale.
      const stale = await backend.tryAcquire(request(name, `stale-${round}`, 1000));
      expect(stale).not.toBeNull();
      backdate(ownerFile(dir, name), 3_600_000);

      const at = Date.now() + 50;
      const replies = await Promise.all(
        racers.map((racer, i) => racer.send({ op: "tryAcquire", name, ttlMs: 60_000, instanceId: `R${i}`, at })),
      );
      const winners = racers.filter((_, i) => replies[i]!.granted);
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(await stale!.renew()).toBe(false);
      expect(readdirSync(path.join(dir, `${name}.lock`)).filter((entry) => entry.endsWith(".json"))).toHaveLength(1);
      await winners[0]!.send({ op: "release" });
    }
  });

  it("grants a lock whose holder was SIGKILLed to exactly one of several processes that reclaim it at once", async () => {
    const dir = freshDir();
    const name = "bot-104";
    const racers = await Promise.all(Array.from({ length: 3 }, () => LockWorker.start(dir, { staleMs: 60_000 })));
    for (let round = 0; round < 3; round += 1) {
      const holder = await LockWorker.start(dir, { staleMs: 60_000 });
      await holder.send({ op: "tryAcquire", name, ttlMs: 60_000, instanceId: "doomed" });
      holder.kill("SIGKILL");
      await holder.exited;
      const at = Date.now() + 50;
      const replies = await Promise.all(
        racers.map((racer, i) => racer.send({ op: "tryAcquire", name, ttlMs: 60_000, instanceId: `R${i}`, at })),
      );
      const winners = racers.filter((_, i) => replies[i]!.granted);
      expect(winners, `round ${round}`).toHaveLength(1);
      await winners[0]!.send({ op: "release" });
    }
  });

  it("leaves no files behind when a holder releases and exits cleanly", async () => {
    const dir = freshDir();
    const worker = await LockWorker.start(dir, {});
    await worker.send({ op: "tryAcquire", name: "bot-105", ttlMs: 60_000, instanceId: "clean" });
    expect(readdirSync(dir)).toEqual(["bot-105.lock"]);
    await worker.send({ op: "release" });
    await worker.send({ op: "close" });
    worker.send({ op: "exit", code: 0 }).catch(() => undefined);
    expect(await worker.exited).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("removes its lock files when the holder calls process.exit without releasing", async () => {
    const dir = freshDir();
    const worker = await LockWorker.start(dir, {});
    await worker.send({ op: "tryAcquire", name: "bot-106", ttlMs: 60_000, instanceId: "hasty" });
    worker.send({ op: "exit", code: 0 }).catch(() => undefined);
    expect(await worker.exited).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("fileLock files", () => {
  it("creates the directories with mode 0o700 and the owner file with mode 0o600", async () => {
    const dir = freshDir();
    const lease = await openLock({ dir }).tryAcquire(request("bot-200", "A"));
    expect(lease).not.toBeNull();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, "bot-200.lock")).mode & 0o777).toBe(0o700);
    expect(statSync(ownerFile(dir, "bot-200")).mode & 0o777).toBe(0o600);
  });

  it("names the lock file after the lock name, and keeps odd names inside the directory and apart", async () => {
    const dir = freshDir();
    const backend = openLock({ dir });
    expect(backend.describe("bot-123456")).toBe(`file ${path.join(dir, "bot-123456.lock")}`);
    const names = ["../escape", "a/b", "a_b", "a.b", "x".repeat(300)];
    const leases = await Promise.all(names.map((name) => backend.tryAcquire(request(name, name.slice(0, 10)))));
    expect(leases.every((lease) => lease !== null)).toBe(true);
    const entries = readdirSync(dir);
    expect(entries).toHaveLength(names.length);
    expect(entries.every((entry) => entry.endsWith(".lock") && !entry.startsWith(".") && entry.length < 100)).toBe(true);
    expect(readdirSync(root)).not.toContain("escape.lock");
  });

  it("defaults to a polling-supervisor directory in the OS temp directory", () => {
    expect(fileLock().describe("bot-1")).toBe(`file ${path.join(tmpdir(), "polling-supervisor", "bot-1.lock")}`);
  });

  it("refuses a symbolic link planted at the lock path", async () => {
    const dir = freshDir();
    const target = path.join(root, `target-${dirCount}`);
    mkdirSync(target);
    mkdirSync(dir);
    symlinkSync(target, path.join(dir, "bot-201.lock"));
    const backend = openLock({ dir });
    const attempt = backend.tryAcquire(request("bot-201", "A"));
    await expect(attempt).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(attempt).rejects.toThrow(/symbolic link/);
    await expect(backend.inspect("bot-201")).rejects.toThrow(/symbolic link/);
    expect(readdirSync(target)).toEqual([]);
  });

  it("refuses a lock directory that is a symbolic link", async () => {
    const target = freshDir();
    mkdirSync(target);
    const dir = path.join(root, `link-${dirCount}`);
    symlinkSync(target, dir);
    await expect(openLock({ dir }).tryAcquire(request("bot-202", "A"))).rejects.toThrow(/symbolic link/);
  });

  it("reports a directory it cannot create as BackendUnavailableError saying what to do", async () => {
    const file = path.join(root, `file-${dirCount}`);
    writeFileSync(file, "");
    const attempt = openLock({ dir: path.join(file, "locks") }).tryAcquire(request("bot-203", "A"));
    await expect(attempt).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(attempt).rejects.toThrow(/Cannot create the lock directory .* pass another `dir`/);
  });

  it.skipIf(process.platform === "win32")("reports a directory it cannot write as BackendUnavailableError saying what to do", async () => {
    const dir = freshDir();
    if (process.getuid?.() === 0) {
      // Root may write anywhere: ask from a worker running as nobody, in a directory it can reach but not write.
      chmodSync(root, 0o711);
      mkdirSync(dir, { mode: 0o755 });
      const worker = await LockWorker.start(dir, {}, { uid: 65534, gid: 65534 });
      await expect(worker.send({ op: "tryAcquire", name: "bot-204", ttlMs: 60_000, instanceId: "A" })).rejects.toThrow(
        /BackendUnavailableError: The lock directory .* is not writable by this user: .*pass another `dir`/,
      );
    } else {
      mkdirSync(dir, { mode: 0o500 });
      const attempt = openLock({ dir }).tryAcquire(request("bot-204", "A"));
      await expect(attempt).rejects.toBeInstanceOf(BackendUnavailableError);
      await expect(attempt).rejects.toThrow(/not writable by this user: .*pass another `dir`/);
    }
  });

  it("aborts lost, and renew resolves false, when the lock directory is deleted under the holder", async () => {
    const dir = freshDir();
    const lease = await openLock({ dir }).tryAcquire(request("bot-205", "A"));
    const lost = once(lease!.lost, "abort");
    rmSync(path.join(dir, "bot-205.lock"), { recursive: true });
    // fs.watch reports the removal; no renew is needed to learn about it.
    await lost;
    expect(lease!.lost.reason).toBeInstanceOf(LockLostError);
    expect(await lease!.renew()).toBe(false);
    await lease!.release();
  });

  it("treats an owner file whose mtime someone else changed as lost", async () => {
    const dir = freshDir();
    const lease = await openLock({ dir }).tryAcquire(request("bot-206", "A"));
    backdate(ownerFile(dir, "bot-206"), 10_000);
    expect(await lease!.renew()).toBe(false);
    expect(lease!.lost.aborted).toBe(true);
  });

  it("aborts lost and frees the lock when the TTL passes without renewal", async () => {
    const dir = freshDir();
    const lease = await openLock({ dir, staleMs: 1000 }).tryAcquire(request("bot-207", "A", 300));
    await once(lease!.lost, "abort");
    expect((lease!.lost.reason as Error).message).toMatch(/not renewed within its TTL of 300 ms/);
    await lease!.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("waits while another process is between creating the lock directory and publishing its owner file", async () => {
    const dir = freshDir();
    mkdirSync(path.join(dir, "bot-208.lock"), { recursive: true });
    expect(await openLock({ dir, staleMs: 60_000 }).tryAcquire(request("bot-208", "A"))).toBeNull();
  });

  it("takes over a lock directory abandoned before its owner file was published, after staleMs", async () => {
    const dir = freshDir();
    const lockDir = path.join(dir, "bot-209.lock");
    mkdirSync(lockDir, { recursive: true });
    writeFileSync(path.join(lockDir, ".00000000-0000-4000-8000-000000000000.tmp"), "{");
    backdate(path.join(lockDir, ".00000000-0000-4000-8000-000000000000.tmp"), 5000);
    backdate(lockDir, 5000);
    const lease = await openLock({ dir, staleMs: 2000 }).tryAcquire(request("bot-209", "A"));
    expect(lease).not.toBeNull();
    expect(readdirSync(lockDir).filter((entry) => entry.startsWith("."))).toEqual([]);
  });

  it("keeps a damaged owner record held until staleMs, then takes it over", async () => {
    const dir = freshDir();
    const lockDir = path.join(dir, "bot-210.lock");
    const damaged = path.join(lockDir, "00000000-0000-4000-8000-000000000000.json");
    mkdirSync(lockDir, { recursive: true });
    writeFileSync(damaged, "not json");
    const backend = openLock({ dir, staleMs: 2000 });
    expect(await backend.tryAcquire(request("bot-210", "A"))).toBeNull();
    expect(await backend.inspect("bot-210")).toBeNull();
    backdate(damaged, 5000);
    expect(await backend.tryAcquire(request("bot-210", "A"))).not.toBeNull();
  });

  it("validates its options with messages that name the bad value", () => {
    expect(() => fileLock({ staleMs: 10 })).toThrow(InvalidOptionError);
    expect(() => fileLock({ staleMs: 10 })).toThrow(/`staleMs`.*got 10/);
    expect(() => fileLock({ pollMs: 0 })).toThrow(/`pollMs`.*got 0/);
    expect(() => fileLock({ dir: "" })).toThrow(/`dir`.*got ""/);
  });

  it("rejects requests with a bad TTL or name", async () => {
    const backend = openLock({ dir: freshDir() });
    await expect(backend.tryAcquire(request("bot-211", "A", 0))).rejects.toThrow(/`ttlMs`.*got 0/);
    await expect(backend.tryAcquire(request("", "A"))).rejects.toBeInstanceOf(InvalidOptionError);
  });
});

const workerPath = fileURLToPath(new URL("./fixtures/lock-worker.ts", import.meta.url));

/** A child process running `fixtures/lock-worker.ts`, driven over IPC. */
class LockWorker {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve(reply: WorkerReply): void; reject(error: Error): void }>();
  #seq = 0;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.exited = new Promise((resolve) => {
      child.once("exit", (code) => {
        for (const { reject } of this.#pending.values()) reject(new Error(`lock worker exited with ${code}`));
        this.#pending.clear();
        resolve(code);
      });
    });
    child.on("message", (message) => {
      const reply = message as WorkerReply;
      const pending = this.#pending.get(reply.seq);
      this.#pending.delete(reply.seq);
      if (reply.error) pending?.reject(new Error(reply.error));
      else pending?.resolve(reply);
    });
  }

  static async start(dir: string, options: FileLockOptions, user: { uid?: number; gid?: number } = {}): Promise<LockWorker> {
    const child = fork(workerPath, [dir, JSON.stringify(options)], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      ...user,
    });
    const worker = new LockWorker(child);
    workers.push(worker);
    await new Promise<void>((resolve, reject) => {
      worker.#pending.set(0, { resolve: () => resolve(), reject });
    });
    return worker;
  }

  send(command: DistributiveOmit<WorkerCommand, "seq">): Promise<WorkerReply> {
    this.#seq += 1;
    const seq = this.#seq;
    return new Promise((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      this.#child.send({ ...command, seq });
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
