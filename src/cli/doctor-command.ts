import { DEFAULT_API_ROOT, displayApiRoot } from "../doctor/inspect-bot.js";
import { formatReport } from "../doctor/format-report.js";
import { parseDoctorArgs } from "../doctor/parse-args.js";
import { runDoctor } from "../doctor/run-doctor.js";
import { scrubSecrets } from "../doctor/scrub-output.js";

const USAGE = `usage: BOT_TOKEN=... polling-supervisor doctor [options]

Checks a deployment: which bot the token belongs to, whether a webhook is set,
pending updates, the last webhook error, and who holds the lock. Never sends
getUpdates. The token comes from BOT_TOKEN or --token-file, never from the
command line (--token is refused).

options:
  --token-file PATH     read the token from this file (wins over BOT_TOKEN)
  --api-root URL        a local Bot API server or the emulator (default ${DEFAULT_API_ROOT})
  --delete-webhook      delete a webhook that is set (pending updates are kept)
  --lock-dir DIR        the fileLock({ dir }) directory to inspect
  --redis URL|VAR       the redisLock URL, or the name of an environment variable holding it
  --postgres URL|VAR    the postgresLock connection string, or an environment variable's name
  --lock-name NAME      the lock's name (default bot-<botId>, the supervisor's default)
  --timeout-ms MS       how long each Bot API call may take (default 10000)
  --json                print the report as JSON: { version, status, exitCode, bot, webhook,
                        pendingUpdateCount, lock, findings: [{ level, code, message, action }] }

exit codes: 0 healthy, 1 problems found (401 Unauthorized included), 2 could not check
(missing or malformed token, Bot API or lock store unreachable, bad arguments)
`;

/** Where the command reads its environment and writes its output; tests pass their own. */
export interface DoctorCommandIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processIo: DoctorCommandIo = {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * `polling-supervisor doctor`: prints the report (text, or JSON with
 * `--json`) on stdout and resolves with the exit code: 0 healthy, 1 problems
 * found, 2 could not check. Argument errors go to stderr with exit code 2.
 * Nothing it prints contains the token or a password.
 */
export async function runDoctorCommand(args: string[], io: DoctorCommandIo = processIo): Promise<number> {
  const envToken = io.env["BOT_TOKEN"];
  const guard = envToken === undefined ? [] : [envToken];
  const parsed = parseDoctorArgs(args, io.env);
  if (parsed.kind === "help") {
    io.stdout(USAGE);
    return 0;
  }
  if (parsed.kind === "error") {
    io.stderr(scrubSecrets(`${parsed.message}\nrun \`polling-supervisor doctor --help\` for the options.\n`, guard));
    return 2;
  }
  const { report, secrets } = await runDoctor({ ...parsed.options, envToken });
  const text = parsed.json
    ? `${JSON.stringify(report, null, 2)}\n`
    : formatReport(report, { apiRoot: displayApiRoot(parsed.options.apiRoot ?? DEFAULT_API_ROOT) });
  io.stdout(scrubSecrets(text, [...guard, ...secrets, ...parsed.secrets]));
  return report.exitCode;
}
