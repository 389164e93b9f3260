/**
 * Reads Bot API arguments the way the real server does: every argument is a
 * string there (JSON bodies included), an empty one means "not given", numbers
 * are read with `td::to_integer` (leading digits, no error) and booleans with
 * `Client::to_bool`.
 */

/** Arguments of one call: strings from forms and query strings, any JSON value from JSON bodies, {@link UploadedFile} for files. */
export type BotApiArguments = Readonly<Record<string, unknown>>;

/** A file part of a multipart request, as recorded (its bytes are not kept). */
export interface UploadedFile {
  readonly filename: string;
  readonly size: number;
  readonly type: string;
}

/** True when the value is an {@link UploadedFile} marker. */
export function isUploadedFile(value: unknown): value is UploadedFile {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as UploadedFile).filename === "string" &&
    typeof (value as UploadedFile).size === "number"
  );
}

/** The argument as the server's `query->arg(name)` sees it: "" when absent or null. */
export function argumentText(args: BotApiArguments, name: string): string {
  const value = args[name];
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value);
}

/** `Client::get_integer_arg`: the default when empty, else the leading integer, clamped. */
export function integerArgument(args: BotApiArguments, name: string, fallback: number, min: number, max: number): number {
  const text = argumentText(args, name);
  const value = text === "" ? fallback : leadingInteger(text);
  return Math.min(max, Math.max(min, value));
}

/** `Client::to_bool`: "true", "yes" or "1", any case, trimmed. */
export function booleanArgument(args: BotApiArguments, name: string): boolean {
  const text = argumentText(args, name).trim().toLowerCase();
  return text === "true" || text === "yes" || text === "1";
}

/** `td::to_integer<int32>`: an optional minus and the digits that follow; anything else reads as 0. */
function leadingInteger(text: string): number {
  const match = /^(-?)(\d*)/.exec(text);
  const digits = match?.[2] ?? "";
  if (digits === "") return 0;
  const value = Number(digits.slice(0, 16));
  return match?.[1] === "-" ? -value : value;
}
