import { InvalidOptionError } from "../errors.js";

/**
 * Throws {@link InvalidOptionError} naming `bot` unless `bot` is an object
 * with every member in `members`: a dotted path, ending in `()` when it must
 * be a function. A value that is not the framework's bot (`undefined`,
 * `bot.api`, `bot.telegram`) then fails at once with a typed error rather
 * than with a TypeError later. The value itself is never shown: it holds the token.
 */
export function assertBotShape(bot: unknown, expected: string, members: readonly string[]): void {
  if (typeof bot !== "object" || bot === null) {
    throw new InvalidOptionError("bot", `Expected \`bot\` to be ${expected}, got ${bot === null ? "null" : bot === undefined ? "undefined" : `a ${typeof bot}`}.`);
  }
  const missing = members.filter((member) => !hasMember(bot, member));
  if (missing.length > 0) {
    throw new InvalidOptionError("bot", `Expected \`bot\` to be ${expected}, got an object without ${missing.map((m) => `\`${m}\``).join(", ")}.`);
  }
}

function hasMember(root: object, member: string): boolean {
  const wantsFunction = member.endsWith("()");
  let value: unknown = root;
  for (const key of (wantsFunction ? member.slice(0, -2) : member).split(".")) {
    if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
    value = (value as Record<string, unknown>)[key];
  }
  return wantsFunction ? typeof value === "function" : (typeof value === "object" || typeof value === "function") && value !== null;
}
