import { redactTokens } from "../token.js";

/** Secrets shorter than this are not searched for: replacing a two-letter password everywhere would garble the output. */
const MIN_SECRET_LENGTH = 6;

/**
 * The last guard before anything is printed: token-shaped strings become
 * `<botId>:***`, and each known secret (the token as read, even a malformed
 * one; the passwords of --redis and --postgres URLs) becomes `***`. The
 * report is built so that none is in it; this only makes sure.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let clean = redactTokens(text);
  const needles = secrets.flatMap((secret) => [secret, secret.slice(secret.indexOf(":") + 1)]);
  for (const needle of needles.sort((a, b) => b.length - a.length)) {
    if (needle.length >= MIN_SECRET_LENGTH) clean = clean.replaceAll(needle, "***");
  }
  return clean;
}

/** The password of a URL, raw and decoded, or nothing. */
export function urlSecrets(url: string): string[] {
  try {
    const { password } = new URL(url);
    if (password === "") return [];
    return [...new Set([password, safeDecode(password)])];
  } catch {
    return [];
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
