import { fileURLToPath } from "node:url";
import { startReplica as start, type Replica } from "../../src/demo/replica-process.js";

export { killAll, type Replica } from "../../src/demo/replica-process.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Runs a TypeScript file of this repository (path relative to its root) in a child process with tsx. */
export function startReplica(name: string, script: string, env: Record<string, string>): Replica {
  return start(name, script, env, root);
}
