// Packs the package as npm would publish it, then runs publint and
// arethetypeswrong on the tarball. Fails on any error.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "polling-supervisor-pack-"));
try {
  const out = execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { encoding: "utf8" });
  const [{ filename }] = JSON.parse(out);
  const tarball = join(dir, filename);
  const run = (cmd, args) => execFileSync(cmd, args, { stdio: "inherit" });
  run("npx", ["--no-install", "publint", "run", tarball, "--strict"]);
  // cli.js is a bin, not an importable entry; attw checks every subpath export.
  run("npx", ["--no-install", "attw", tarball, "--profile", "node16"]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
