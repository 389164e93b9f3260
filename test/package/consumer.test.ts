import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Installs the packed tarball into a throwaway project, as a user would, and
// loads it both ways. Needs `npm run build` first (npm test does it).
const root = new URL("../..", import.meta.url).pathname;
let project: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "polling-supervisor-consumer-"));
  const packed = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--pack-destination", project], { cwd: root, encoding: "utf8" }),
  ) as [{ filename: string }];
  mkdirSync(join(project, "app"));
  writeFileSync(join(project, "app", "package.json"), JSON.stringify({ name: "consumer", private: true }));
  execFileSync(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", join(project, packed[0].filename)],
    { cwd: join(project, "app"), stdio: "pipe" },
  );
}, 120_000);

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

function runNode(file: string, source: string): string {
  writeFileSync(join(project, "app", file), source);
  return execFileSync(process.execPath, [file], { cwd: join(project, "app"), encoding: "utf8" });
}

const probe = (load: (name: string) => string) => `
const main = ${load("polling-supervisor")};
const testing = ${load("polling-supervisor/testing")};
const supervisor = new main.PollingSupervisor({
  adapter: main.genericAdapter({ token: "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", start() {}, stop() {} }),
  lock: main.memoryLock(),
  logger: false,
});
console.log(JSON.stringify({
  state: supervisor.state,
  code: new main.InvalidTokenError("x").code,
  testing: typeof testing.createBotApiEmulator,
}));
`;

describe("the published package", () => {
  it("loads with import from an ES module", () => {
    const out = runNode("esm.mjs", probe((name) => `await import(${JSON.stringify(name)})`));
    expect(JSON.parse(out)).toEqual({ state: "idle", code: "INVALID_TOKEN", testing: "function" });
  });

  it("loads with require() from a CommonJS module", () => {
    const out = runNode("cjs.cjs", probe((name) => `require(${JSON.stringify(name)})`));
    expect(JSON.parse(out)).toEqual({ state: "idle", code: "INVALID_TOKEN", testing: "function" });
  });
});
