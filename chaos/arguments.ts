import { BACKENDS, type BackendKind } from "./stores/types.js";

/** What `npm run chaos -- ...` asked for. */
export interface ChaosArguments {
  readonly backends: readonly BackendKind[];
  readonly durationSeconds: number;
  readonly replicas: number;
  readonly ratePerSecond: number;
  readonly seed: number | undefined;
  readonly quiet: boolean;
}

export const CHAOS_USAGE = `usage: npm run chaos -- [options]

  --duration S        seconds of faults per backend (default 60)
  --backend B         file, redis, postgres or all (default all)
  --replicas N        replica processes, at least 2 (default 3)
  --rate N            messages per second (default 20)
  --seed N            replay a run's schedule (printed at its start)
  --quiet             no progress lines, only the table
`;

/** Parses the command line; `help` (with an exit code) for --help or a mistake. */
export function parseChaosArguments(argv: readonly string[]): ChaosArguments | { readonly help: string; readonly exitCode: number } {
  const result = { backends: BACKENDS, durationSeconds: 60, replicas: 3, ratePerSecond: 20, seed: undefined as number | undefined, quiet: false };
  const fail = (message: string) => ({ help: `${message}\n\n${CHAOS_USAGE}`, exitCode: 2 });
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string | undefined => argv[++i];
    const number = (min: number): number | undefined => {
      const n = Number(value());
      return Number.isFinite(n) && n >= min ? n : undefined;
    };
    switch (flag) {
      case "--help":
      case "-h":
        return { help: CHAOS_USAGE, exitCode: 0 };
      case "--duration": {
        const n = number(1);
        if (n === undefined) return fail("--duration needs a number of seconds (at least 1)");
        result.durationSeconds = n;
        break;
      }
      case "--backend": {
        const name = value();
        if (name === "all") result.backends = BACKENDS;
        else if (BACKENDS.includes(name as BackendKind)) result.backends = [name as BackendKind];
        else return fail(`--backend must be file, redis, postgres or all, got ${String(name)}`);
        break;
      }
      case "--replicas": {
        const n = number(2);
        if (n === undefined || !Number.isInteger(n)) return fail("--replicas needs an integer of at least 2");
        result.replicas = n;
        break;
      }
      case "--rate": {
        const n = number(1);
        if (n === undefined) return fail("--rate needs a number of messages per second (at least 1)");
        result.ratePerSecond = n;
        break;
      }
      case "--seed": {
        const n = number(0);
        if (n === undefined || !Number.isInteger(n)) return fail("--seed needs a non-negative integer");
        result.seed = n;
        break;
      }
      case "--quiet":
        result.quiet = true;
        break;
      default:
        return fail(`unknown option ${flag}`);
    }
  }
  return result;
}
