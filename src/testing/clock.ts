/**
 * Milliseconds since the Unix epoch, read from the monotonic clock
 * (`performance.timeOrigin + performance.now()`), so records from one process
 * can be ordered and subtracted safely.
 */
export function timestamp(): number {
  return performance.timeOrigin + performance.now();
}

/** The current Unix time in whole seconds, as the Bot API's `date` fields carry it. */
export function unixTime(): number {
  return Math.floor(Date.now() / 1000);
}
