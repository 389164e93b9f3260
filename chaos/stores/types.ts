import type { Random } from "../random.js";

/** The lock backends a chaos run can use, each with the example that uses it. */
export type BackendKind = "file" | "redis" | "postgres";

export const BACKENDS: readonly BackendKind[] = ["file", "redis", "postgres"];

/** What one injected store fault did. */
export interface StoreFaultRecord {
  readonly kind: string;
  /** Human-readable, token-free: what was hit. */
  readonly detail: string;
  /** True when the fault can take the lease from a live holder (a duplicate batch is then allowed). */
  readonly mayLoseLease: boolean;
}

/** A lock store for one chaos run, with its example bot and the faults it can inject. */
export interface ChaosStore {
  readonly kind: BackendKind;
  /** The example script every replica runs, relative to the repository root. */
  readonly example: string;
  /** The long-poll `timeout` (s) the example's framework sends by default. */
  readonly longPollTimeoutSeconds: number;
  /**
   * True when the example's framework confirms a batch by fetching the next
   * one before the first is handled (@grammyjs/runner): a SIGKILL then loses
   * what it had in flight, instead of repeating it.
   */
  readonly confirmsBeforeHandling: boolean;
  /** Store faults this store can inject; empty when it has none. */
  readonly faultKinds: readonly string[];
  /** Environment variables of one replica process (its lock store settings). */
  env(): Record<string, string>;
  injectFault(kind: string, random: Random): Promise<StoreFaultRecord>;
  /**
   * Everything stored about locks right now (file names and contents, key
   * names and values, table rows), each entry as text, for the token scan.
   */
  contents(): Promise<string[]>;
  close(): Promise<void>;
}
