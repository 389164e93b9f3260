import { parseArgs } from "node:util";
import { createBotApiEmulator } from "../testing/emulator.js";
import { REAL_TIMING, type EmulatorTiming } from "../testing/timing.js";

const TIMING_FLAGS = Object.keys(REAL_TIMING).map((name) => ({
  name: name as keyof EmulatorTiming,
  flag: name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`),
}));

const USAGE = `usage: polling-supervisor emulator [options]

Runs the Telegram Bot API emulator until SIGINT or SIGTERM. Prints its apiRoot
on stdout; the control API is at <apiRoot>/_emulator (see docs/emulator.md).

options:
  --port N            port to listen on, 0 for a free one (default 8081)
  --host H            interface to listen on (default 127.0.0.1)
  --registered-only   accept only tokens registered through POST /_emulator/bots
                      (default: any well-formed token)
  --quiet             do not log requests to stderr
timing, in milliseconds (default: the real server's):
${TIMING_FLAGS.map(({ name, flag }) => `  --${flag} MS`.padEnd(36) + String(REAL_TIMING[name])).join("\n")}
`;

/**
 * `polling-supervisor emulator`: starts the Bot API emulator, prints its
 * apiRoot, logs requests (bot id, method, status; never the token) to stderr
 * and closes cleanly on SIGINT or SIGTERM. Resolves with the exit code.
 */
export async function runEmulatorCommand(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      options: {
        port: { type: "string", default: "8081" },
        host: { type: "string", default: "127.0.0.1" },
        "registered-only": { type: "boolean", default: false },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        ...Object.fromEntries(TIMING_FLAGS.map(({ flag }) => [flag, { type: "string" as const }])),
      },
    }).values;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (values["help"] === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = Number(values["port"]);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`--port must be an integer from 0 to 65535, got "${String(values["port"])}"\n`);
    return 2;
  }
  const timing: Partial<Record<keyof EmulatorTiming, number>> = {};
  for (const { name, flag } of TIMING_FLAGS) {
    if (values[flag] !== undefined) timing[name] = Number(values[flag]);
  }

  const emulator = await createBotApiEmulator({
    port,
    host: String(values["host"]),
    acceptAnyToken: values["registered-only"] !== true,
    timing,
    ...(values["quiet"] === true ? {} : { log: (line: string) => process.stderr.write(`${line}\n`) }),
  });
  process.stdout.write(`${emulator.apiRoot}\n`);
  process.stderr.write(`Bot API emulator listening; control API at ${emulator.controlUrl}. Stop with Ctrl-C.\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (received: NodeJS.Signals): void => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(received);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  await emulator.close();
  process.stderr.write(`${signal}: emulator closed.\n`);
  return 0;
}
