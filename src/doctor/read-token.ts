import { readFile, stat } from "node:fs/promises";
import { InvalidTokenError } from "../errors.js";
import { parseBotToken } from "../token.js";
import { malformedToken, missingToken, tokenFileReadableByOthers, tokenFileUnreadable } from "./findings.js";
import type { Finding } from "./report.js";

/** Where the doctor may take the token from. Never argv: the command refuses `--token`. */
export interface TokenSources {
  /** The value of the `BOT_TOKEN` environment variable. */
  readonly envToken: string | undefined;
  /** `--token-file PATH`; wins over `BOT_TOKEN` when both are given. */
  readonly tokenFile: string | undefined;
}

export type TokenReading =
  | { readonly ok: true; readonly token: string; readonly botId: string; readonly findings: readonly Finding[] }
  | {
      readonly ok: false;
      /** What was read, if anything: never shown, but kept so that output can be scrubbed of it. */
      readonly rejected: string | undefined;
      readonly findings: readonly Finding[];
    };

/**
 * Reads and checks the token. Every failure is a finding whose message names
 * the source and what is wrong with it, never the token.
 */
export async function readToken(sources: TokenSources): Promise<TokenReading> {
  if (sources.tokenFile !== undefined) return readTokenFile(sources.tokenFile);
  if (sources.envToken === undefined || sources.envToken === "") return { ok: false, rejected: undefined, findings: [missingToken()] };
  return checkShape(sources.envToken, "BOT_TOKEN", []);
}

async function readTokenFile(file: string): Promise<TokenReading> {
  let text: string;
  let mode: number;
  try {
    [text, { mode }] = await Promise.all([readFile(file, "utf8"), stat(file)]);
  } catch (error) {
    return { ok: false, rejected: undefined, findings: [tokenFileUnreadable(file, errorCode(error))] };
  }
  const findings: Finding[] = [];
  if (process.platform !== "win32" && (mode & 0o077) !== 0) findings.push(tokenFileReadableByOthers(file, mode));
  // `echo TOKEN > file` leaves one line break; anything else stray is reported, as BOT_TOKEN would be.
  return checkShape(text.replace(/^\uFEFF/, "").replace(/\r?\n$/, ""), `--token-file ${file}`, findings);
}

function checkShape(token: string, source: string, findings: Finding[]): TokenReading {
  try {
    const { botId } = parseBotToken(token);
    return { ok: true, token, botId, findings };
  } catch (error) {
    if (!(error instanceof InvalidTokenError)) throw error;
    return { ok: false, rejected: token, findings: [...findings, malformedToken(source, asClause(error.message))] };
  }
}

/** An InvalidTokenError message as a clause: lower-case start, no final period. */
function asClause(text: string): string {
  return (text.charAt(0).toLowerCase() + text.slice(1)).replace(/\.$/, "");
}

function errorCode(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") return error.code;
  return error instanceof Error ? error.message : String(error);
}
