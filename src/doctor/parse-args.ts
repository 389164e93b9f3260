import { parseArgs } from "node:util";
import { redactTokens } from "../token.js";
import type { LockTarget } from "./inspect-lock.js";
import type { DoctorOptions } from "./run-doctor.js";
import { urlSecrets } from "./scrub-output.js";

/** What the command line asks for; the token itself never comes from here. */
export type DoctorArgs =
  | {
      readonly kind: "run";
      readonly options: Omit<DoctorOptions, "envToken">;
      readonly json: boolean;
      /** Passwords of the lock store URLs: output is scrubbed of them. */
      readonly secrets: readonly string[];
    }
  | { readonly kind: "help" }
  | { readonly kind: "error"; readonly message: string };

const DEFAULT_TIMEOUT_MS = 10_000;
/** The supervisor's rule for lock names (`lockName`). */
const LOCK_NAME = /^[A-Za-z0-9._-]{1,128}$/;
/** `--redis REDIS_URL`: a bare upper-case name is an environment variable holding the URL. */
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

export const TOKEN_FLAG_REFUSED =
  "--token is refused: a token on the command line can be read by every user of this machine (ps, /proc/<pid>/cmdline) " +
  "and stays in shell history. Set BOT_TOKEN in the environment, or pass --token-file PATH (a file holding only the token, mode 600).";

export const TOKEN_IN_ARGUMENTS_REFUSED =
  "refusing to run: an argument looks like a bot token. A token on the command line can be read by every user of this machine " +
  "(ps, /proc/<pid>/cmdline) and stays in shell history. Set BOT_TOKEN in the environment, or pass --token-file PATH.";

/** Parses the doctor's flags. Error messages never repeat a token, a URL or a password. */
export function parseDoctorArgs(args: readonly string[], env: Readonly<Record<string, string | undefined>>): DoctorArgs {
  if (args.some((arg) => arg === "--token" || arg.startsWith("--token="))) return { kind: "error", message: TOKEN_FLAG_REFUSED };
  if (args.some((arg) => redactTokens(arg) !== arg)) return { kind: "error", message: TOKEN_IN_ARGUMENTS_REFUSED };

  let values;
  try {
    values = parseArgs({
      args: [...args],
      allowPositionals: false,
      options: {
        "token-file": { type: "string" },
        "api-root": { type: "string" },
        "lock-dir": { type: "string" },
        redis: { type: "string" },
        postgres: { type: "string" },
        "lock-name": { type: "string" },
        "delete-webhook": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        "timeout-ms": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    return { kind: "error", message: redactTokens(error instanceof Error ? error.message : String(error)) };
  }
  if (values.help) return { kind: "help" };

  const apiRoot = values["api-root"];
  if (apiRoot !== undefined && !isHttpUrl(apiRoot)) {
    return { kind: "error", message: "--api-root must be an http:// or https:// URL (the part before /bot<token>/)" };
  }
  const timeoutMs = values["timeout-ms"] === undefined ? DEFAULT_TIMEOUT_MS : Number(values["timeout-ms"]);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) return { kind: "error", message: "--timeout-ms must be a positive whole number of milliseconds" };
  const lockName = values["lock-name"];
  if (lockName !== undefined && !LOCK_NAME.test(lockName)) {
    return { kind: "error", message: `--lock-name must be 1-128 letters, digits, ".", "_" or "-" (as the supervisor's lockName), got ${JSON.stringify(lockName)}` };
  }

  const lockFlags = (["lock-dir", "redis", "postgres"] as const).filter((flag) => values[flag] !== undefined);
  if (lockFlags.length > 1) return { kind: "error", message: `pass one lock store, not ${lockFlags.map((flag) => `--${flag}`).join(" and ")}` };
  let lock: LockTarget | undefined;
  const secrets: string[] = [];
  if (values["lock-dir"] !== undefined) {
    if (values["lock-dir"] === "") return { kind: "error", message: "--lock-dir must not be empty" };
    lock = { kind: "file", dir: values["lock-dir"] };
  } else if (values.redis !== undefined || values.postgres !== undefined) {
    const kind = values.redis !== undefined ? "redis" : "postgres";
    const url = resolveUrl(kind, (values.redis ?? values.postgres)!, env);
    if (typeof url !== "string") return url;
    secrets.push(...urlSecrets(url));
    lock = { kind, url };
  }

  return {
    kind: "run",
    json: values.json,
    secrets,
    options: {
      tokenFile: values["token-file"],
      apiRoot,
      lock,
      lockName,
      deleteWebhook: values["delete-webhook"],
      timeoutMs,
    },
  };
}

/** The URL given, or read from the environment variable named; checked for its scheme without echoing it. */
function resolveUrl(
  kind: "redis" | "postgres",
  value: string,
  env: Readonly<Record<string, string | undefined>>,
): string | { readonly kind: "error"; readonly message: string } {
  let url = value;
  let source = `--${kind}`;
  if (ENV_NAME.test(value)) {
    const fromEnv = env[value];
    if (fromEnv === undefined || fromEnv === "") return { kind: "error", message: `--${kind} ${value}: the environment variable ${value} is not set` };
    url = fromEnv;
    source = `--${kind} ${value}`;
  }
  const schemes = kind === "redis" ? ["redis:", "rediss:"] : ["postgres:", "postgresql:"];
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    return { kind: "error", message: `${source} is not a URL: expected ${schemes[0]}//[user:password@]host:port${kind === "redis" ? "" : "/database"}` };
  }
  if (!schemes.includes(protocol)) return { kind: "error", message: `${source} must start with ${schemes.map((s) => `${s}//`).join(" or ")}` };
  return url;
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}
