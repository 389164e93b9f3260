import { exitCodeOf } from "./findings.js";
import { inspectBot, type BotInspection } from "./inspect-bot.js";
import { inspectLock, type LockTarget } from "./inspect-lock.js";
import type { LockInspection } from "./lock-report.js";
import { readToken } from "./read-token.js";
import type { DoctorReport, Finding } from "./report.js";

/** What the doctor checks; `polling-supervisor doctor` builds it from its flags and the environment. */
export interface DoctorOptions {
  /** `BOT_TOKEN` from the environment. */
  readonly envToken: string | undefined;
  /** `--token-file`; wins over `envToken`. */
  readonly tokenFile: string | undefined;
  /** `--api-root`. @default "https://api.telegram.org" */
  readonly apiRoot: string | undefined;
  /** `--lock-dir`, `--redis` or `--postgres`; `undefined`: the lock is not checked. */
  readonly lock: LockTarget | undefined;
  /** `--lock-name`. @default `bot-<botId>`, the supervisor's default */
  readonly lockName: string | undefined;
  /** `--delete-webhook`: delete a webhook that is set, never dropping pending updates. */
  readonly deleteWebhook: boolean;
  /** How long each Bot API call may take, in ms. */
  readonly timeoutMs: number;
}

/** The report, and the secrets it was built with, which output must never contain. */
export interface DoctorRun {
  readonly report: DoctorReport;
  /** The token as read (even a malformed one); output is scrubbed of it as a last guard. */
  readonly secrets: readonly string[];
}

/**
 * Reads the token, then asks the Bot API (getMe, getWebhookInfo, and
 * deleteWebhook when asked) and the lock store at the same time. Never
 * sends getUpdates. Never throws for anything it checks: each failure is a
 * finding, and the findings decide the exit code.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorRun> {
  const token = await readToken({ envToken: options.envToken, tokenFile: options.tokenFile });
  const secrets = token.ok ? [token.token] : token.rejected === undefined ? [] : [token.rejected];
  const lockName = options.lockName ?? (token.ok ? `bot-${token.botId}` : undefined);

  const [bot, lock] = await Promise.all([
    token.ok
      ? inspectBot({ token: token.token, botId: token.botId, apiRoot: options.apiRoot, deleteWebhook: options.deleteWebhook, timeoutMs: options.timeoutMs })
      : undefined,
    // The lock is worth a look even without a usable token, when its name was given.
    options.lock !== undefined && lockName !== undefined ? inspectLock(options.lock, lockName) : undefined,
  ]);

  const findings: Finding[] = [...token.findings, ...(bot?.findings ?? []), ...(lock?.findings ?? [])];
  return { report: buildReport(findings, bot, lock), secrets };
}

function buildReport(findings: readonly Finding[], bot: BotInspection | undefined, lock: LockInspection | undefined): DoctorReport {
  const { exitCode, status } = exitCodeOf(findings);
  return {
    version: 1,
    status,
    exitCode,
    bot: bot?.bot ?? null,
    webhook: bot?.webhook ?? null,
    pendingUpdateCount: bot?.pendingUpdateCount ?? null,
    lock: lock?.lock ?? null,
    findings,
  };
}
