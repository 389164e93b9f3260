import { fileURLToPath } from "node:url";
import { runDemo } from "../demo/run-demo.js";

/** `polling-supervisor demo`: see {@link runDemo}. Run from the repository root (npm run demo). */
export function runDemoCommand(): Promise<number> {
  const root = process.env["INIT_CWD"] ?? fileURLToPath(new URL("../..", import.meta.url));
  return runDemo({ root, write: (line) => process.stdout.write(`${line}\n`) });
}
