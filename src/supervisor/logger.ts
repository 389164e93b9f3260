import { redactTokens } from "../token.js";

/**
 * Where the supervisor writes its one-line transitions. Compatible with
 * `console` and with pino/winston loggers (each method takes a string).
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Wraps `logger` (or the default console logger, or nothing for `false`) so
 * lines are redacted and prefixed, and a throwing logger never breaks polling.
 */
export function createSafeLogger(logger: Logger | false | undefined, instanceId: string): Logger {
  if (logger === false) return { info() {}, warn() {}, error() {} };
  const target: Logger = logger ?? console;
  const prefix = logger === undefined ? `[polling-supervisor ${instanceId}] ` : "";
  const write = (level: keyof Logger) => (message: string) => {
    try {
      target[level](prefix + redactTokens(message));
    } catch {
      // A broken logger must not break polling.
    }
  };
  return { info: write("info"), warn: write("warn"), error: write("error") };
}
