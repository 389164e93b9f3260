import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { EmulatorControlClient } from "../../src/testing/index.js";
import { TOKEN } from "./harness.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const SECRET = TOKEN.slice(TOKEN.indexOf(":") + 1);

describe("polling-supervisor emulator (CLI)", () => {
  const children: ChildProcessWithoutNullStreams[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  it("prints the apiRoot, serves any well-formed token, logs without the token, and closes on SIGTERM", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, "emulator", "--port", "0", "--conflict-delay-ms", "100"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.push(child);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [apiRoot] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
    expect(apiRoot).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const control = new EmulatorControlClient(apiRoot).bot(TOKEN);
    await control.pushMessage("from the parent process");
    const response = await fetch(`${apiRoot}/bot${TOKEN}/getUpdates`);
    expect(((await response.json()) as { result: unknown[] }).result).toHaveLength(1);
    const snapshot = await control.snapshot();
    expect(snapshot.getUpdates[0]?.outcome).toEqual({ kind: "updates", updateIds: [1] });

    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(stderr).toContain("bot 123456 getUpdates -> 200");
    expect(stderr).toContain("SIGTERM: emulator closed.");
    expect(stderr).not.toContain(SECRET);
  });

  it("refuses a bad option with exit code 2", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, "emulator", "--port", "70000"], { stdio: ["pipe", "pipe", "pipe"] });
    children.push(child);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(2);
    expect(stderr).toContain("--port must be an integer from 0 to 65535");
  });
});
