import type { Incarnation } from "./replica-fleet.js";

/** How the previous poller's turn ended. */
export type HandoverCause = "graceful" | "crash" | "lease-lost" | "conflict" | "other";

/** The time nobody fetched updates, between one poller's last getUpdates and the next poller's first. */
export interface HandoverGap {
  readonly ms: number;
  readonly cause: HandoverCause;
  readonly from: string;
  readonly to: string;
}

/** Median, 95th percentile and maximum of a set of gaps, in ms (null when there are none). */
export interface GapSummary {
  readonly count: number;
  readonly medianMs: number | null;
  readonly p95Ms: number | null;
  readonly maxMs: number | null;
}

/**
 * One gap per poller after the first: from the last getUpdates any other
 * replica sent before this one's first, to this one's first. Times are
 * arrivals at the emulator's door (a loopback proxy in front of it), so a
 * graceful stop's drain, a crashed holder's lease expiry and the new
 * holder's preflight are all inside the gap.
 */
export function handoverGaps(incarnations: readonly Incarnation[], until: number): HandoverGap[] {
  const pollers = incarnations
    .filter((i) => i.getUpdatesAt.length > 0 && i.getUpdatesAt[0]! < until)
    .sort((a, b) => a.getUpdatesAt[0]! - b.getUpdatesAt[0]!);
  const gaps: HandoverGap[] = [];
  for (const next of pollers.slice(1)) {
    const first = next.getUpdatesAt[0]!;
    let previous: { at: number; from: Incarnation } | undefined;
    for (const other of pollers) {
      if (other === next) continue;
      const last = lastBefore(other.getUpdatesAt, first);
      if (last !== undefined && (previous === undefined || last > previous.at)) previous = { at: last, from: other };
    }
    if (previous) gaps.push({ ms: Math.round(first - previous.at), cause: causeOf(previous.from), from: previous.from.id, to: next.id });
  }
  return gaps;
}

export function summarizeGaps(gaps: readonly HandoverGap[]): GapSummary {
  const sorted = gaps.map((g) => g.ms).sort((a, b) => a - b);
  const at = (q: number): number | null => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  return { count: sorted.length, medianMs: at(0.5), p95Ms: at(0.95), maxMs: sorted.at(-1) ?? null };
}

function lastBefore(times: readonly number[], limit: number): number | undefined {
  let found: number | undefined;
  for (const t of times) {
    if (t < limit) found = t;
    else break;
  }
  return found;
}

function causeOf(incarnation: Incarnation): HandoverCause {
  const text = incarnation.lines.map((l) => l.text).join("\n");
  if (/\block lost\b/.test(text)) return "lease-lost";
  if (/\bconflict \(/.test(text)) return "conflict";
  if (incarnation.signals.some((s) => s.signal === "SIGKILL")) return "crash";
  if (incarnation.signals.some((s) => s.signal === "SIGTERM")) return "graceful";
  return "other";
}
