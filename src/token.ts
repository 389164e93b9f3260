import { InvalidTokenError } from "./errors.js";

const TOKEN_SHAPE = /^(\d{1,20}):([A-Za-z0-9_-]{20,})$/;
/** Anything that looks like a bot token, anywhere in a string (URLs, stack traces). */
const TOKEN_ANYWHERE = /(\d{1,20}):[A-Za-z0-9_-]{20,}/g;

/** The parts of a bot token that may be shown: the bot id only. */
export interface ParsedToken {
  /** The digits before `:`; safe to log and to use in lock keys. */
  readonly botId: string;
}

/**
 * Checks a token's shape without revealing it. Throws {@link InvalidTokenError}
 * whose message names what is wrong, never the token.
 */
export function parseBotToken(token: unknown): ParsedToken {
  if (typeof token !== "string" || token.length === 0) {
    throw new InvalidTokenError(
      "The bot token is empty: pass the token @BotFather gave you (usually from the BOT_TOKEN environment variable).",
    );
  }
  if (token !== token.trim()) {
    throw new InvalidTokenError("The bot token has leading or trailing whitespace (a stray newline in an env file?): trim it.");
  }
  const match = TOKEN_SHAPE.exec(token);
  if (!match) {
    throw new InvalidTokenError(
      `The bot token is not shaped like "<digits>:<secret>" (${describeShape(token)}): copy it again from @BotFather.`,
    );
  }
  return { botId: match[1]! };
}

function describeShape(token: string): string {
  if (!token.includes(":")) return "it has no colon";
  if (/[\s]/.test(token)) return "it contains whitespace";
  if (/[^A-Za-z0-9_:-]/.test(token)) return "it contains characters a token never has";
  return `it has ${token.length} characters`;
}

/** True when the string is shaped like a bot token. */
export function isBotToken(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

/** Replaces every token-shaped substring with `<botId>:***`, keeping the bot id. */
export function redactTokens(text: string): string {
  return text.replace(TOKEN_ANYWHERE, (_, botId: string) => `${botId}:***`);
}

/**
 * Returns an error safe to log or emit: same class and fields, with the token
 * removed from `message`, `stack`, string fields and the `cause` chain.
 */
export function redactError<T>(error: T, depth = 0): T {
  if (!(error instanceof Error) || depth > 5) return error;
  for (const key of Object.getOwnPropertyNames(error)) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (typeof value === "string") {
      const clean = redactTokens(value);
      if (clean !== value) setField(error, key, clean);
    } else if (key === "cause" && value instanceof Error) {
      redactError(value, depth + 1);
    }
  }
  return error;
}

function setField(target: object, key: string, value: string): void {
  const enumerable = Object.getOwnPropertyDescriptor(target, key)?.enumerable ?? false;
  try {
    Object.defineProperty(target, key, { value, configurable: true, writable: true, enumerable });
  } catch {
    // A frozen or non-configurable field cannot be cleaned; the logger redacts again on output.
  }
}
