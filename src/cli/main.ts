#!/usr/bin/env node
import { runDemoCommand } from "./demo-command.js";
import { runDoctorCommand } from "./doctor-command.js";
import { runEmulatorCommand } from "./emulator-command.js";

const USAGE = `usage: polling-supervisor <command> [options]

commands:
  demo                             run the demo (from a clone of the repository: npm run demo)
  emulator [--port N] [--host H]   run the Bot API emulator (polling-supervisor/testing) over HTTP
  doctor [options]                 check a deployment: bot, webhook, pending updates, lock holder (token from BOT_TOKEN)
`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  demo: runDemoCommand,
  emulator: runEmulatorCommand,
  doctor: runDoctorCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : commands[name];
  if (!command) {
    process.stderr.write(name === undefined || name === "--help" || name === "-h" ? USAGE : `unknown command "${name}"\n\n${USAGE}`);
    return name === "--help" || name === "-h" ? 0 : 2;
  }
  return command(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
