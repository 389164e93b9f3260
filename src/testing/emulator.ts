import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { InvalidOptionError } from "../errors.js";
import { redactTokens } from "../token.js";
import { errorReply } from "./api-responses.js";
import type { BotControl } from "./bot-control.js";
import { BotRegistry } from "./bot-registry.js";
import { serveControlRequest } from "./control-api.js";
import { CONTROL_PATH, type BotProfile } from "./control-types.js";
import { HttpAnswer } from "./http-answer.js";
import { parseBotApiPath, readArguments, RequestBodyError } from "./request-parsing.js";
import { resolveTiming, type EmulatorTiming } from "./timing.js";
import { EmulatorClosedError } from "./wait-for.js";

/** Options of {@link createBotApiEmulator}. */
export interface BotApiEmulatorOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Interface to listen on. @default "127.0.0.1" */
  readonly host?: string;
  /** Bots to register up front (a token, or a token with the getMe profile). */
  readonly bots?: readonly (BotProfile | string)[];
  /**
   * Accept any well-formed token, creating its bot on first use. When false,
   * only registered tokens are accepted and the rest get 401 `Unauthorized`.
   * @default true when `bots` is omitted, false when it is given
   */
  readonly acceptAnyToken?: boolean;
  /** Delays, each defaulting to the real server's (see {@link EmulatorTiming}). */
  readonly timing?: Partial<EmulatorTiming>;
  /** The first update id of every bot (the real server starts at a random one). @default 1 */
  readonly firstUpdateId?: number;
  /** Receives one line per request. Lines name the bot id, never the token. */
  readonly log?: (line: string) => void;
}

/** A running emulator: the Bot API at `apiRoot`, the control API at `controlUrl`, and each bot's control in-process. */
export interface BotApiEmulator {
  /** Pass as grammY's `client.apiRoot`, Telegraf's `telegram.apiRoot`, node-telegram-bot-api's `apiRoot`. */
  readonly apiRoot: string;
  /** `${apiRoot}/_emulator`, for {@link EmulatorControlClient} and curl. */
  readonly controlUrl: string;
  /** The timing in force, defaults filled in. */
  readonly timing: EmulatorTiming;
  /** The control of the bot with this token (created on demand when any token is accepted). */
  bot(token: string): BotControl;
  /** Registers a bot, or re-admits a revoked or logged-out token. */
  registerBot(profile: BotProfile | string): BotControl;
  /** Makes a token answer 401 `Unauthorized` from now on (a token revoked in @BotFather). */
  revokeToken(token: string): void;
  /** Every bot the emulator has. */
  bots(): BotControl[];
  /** Stops listening, drops every connection and pending call, stops streams, rejects waits. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a Bot API emulator on a local port. It serves `/bot<token>/<method>`
 * with the real server's long-poll, webhook, 409, throttle and 429 rules and
 * records everything for tests; see docs/emulator.md.
 *
 * @example
 * const emulator = await createBotApiEmulator({ timing: { conflictDelayMs: 100 } });
 * const bot = new Bot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
 * emulator.bot(TOKEN).pushMessage("/start");
 */
export async function createBotApiEmulator(options: BotApiEmulatorOptions = {}): Promise<BotApiEmulator> {
  const timing = resolveTiming(options.timing);
  const firstUpdateId = options.firstUpdateId ?? 1;
  if (!(Number.isInteger(firstUpdateId) && firstUpdateId > 0 && firstUpdateId < 2 ** 31 - 1_000_000)) {
    throw new InvalidOptionError(
      "firstUpdateId",
      `Expected \`firstUpdateId\` to be a positive integer below 2^31 - 10^6, got ${String(firstUpdateId)}.`,
    );
  }
  const closing = new AbortController();
  const registry = new BotRegistry({
    acceptAnyToken: options.acceptAnyToken ?? options.bots === undefined,
    timing,
    firstUpdateId,
    closed: closing.signal,
  });
  for (const profile of options.bots ?? []) registry.register(profile);
  const log = options.log === undefined ? undefined : redactedLog(options.log);
  let apiRoot = "";

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://emulator");
    const served =
      url.pathname === CONTROL_PATH || url.pathname.startsWith(`${CONTROL_PATH}/`)
        ? serveControlRequest(request, response, url, { registry, apiRoot })
        : serveBotApiRequest(request, response, url, registry, log);
    served.catch((error: unknown) => {
      log?.(`internal error: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  // Client agents (node-fetch in grammY and Telegraf) keep idle sockets longer than Node's 5 s
  // default; closing first would reset a reused socket and make the framework retry.
  server.keepAliveTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  apiRoot = rootUrl(server.address() as AddressInfo);

  let closed: Promise<void> | undefined;
  return {
    apiRoot,
    controlUrl: `${apiRoot}${CONTROL_PATH}`,
    timing,
    bot: (token) => registry.control(token),
    registerBot: (profile) => registry.register(profile),
    revokeToken: (token) => registry.revoke(token),
    bots: () => registry.list(),
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        closing.abort(new EmulatorClosedError());
        registry.shutdown();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

async function serveBotApiRequest(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  registry: BotRegistry,
  log: ((line: string) => void) | undefined,
): Promise<void> {
  const answer = new HttpAnswer(response);
  const target = parseBotApiPath(url.pathname);
  if (!target) {
    request.resume();
    log?.(`${request.method ?? "?"} (not a Bot API path) -> 404`);
    return answer.send(errorReply(404, "Not Found"));
  }
  let args: Record<string, unknown>;
  try {
    args = await readArguments(request, url);
  } catch (error) {
    if (!(error instanceof RequestBodyError)) throw error;
    return answer.send(errorReply(400, error.message));
  }
  const authorized = registry.authorize(target.token);
  if ("reply" in authorized) {
    log?.(`${target.method} (token not accepted) -> ${authorized.reply.status}`);
    return answer.send(authorized.reply);
  }
  const { bot } = authorized;
  if (target.method === "") return answer.send(errorReply(404, "Not Found: method not found"));
  if (log) {
    const started = performance.now();
    response.once("close", () => {
      const status = response.headersSent ? String(response.statusCode) : "no answer";
      log(`bot ${bot.botId} ${target.method} -> ${status} in ${Math.round(performance.now() - started)} ms`);
    });
  }
  bot.handle(target.method, args, answer, "http");
}

/** Lines are built from bot ids and methods; redacting token shapes as well guards against a token in an error message. */
function redactedLog(log: (line: string) => void): (line: string) => void {
  return (line) => log(redactTokens(line));
}

/** The URL clients use: a wildcard address is reached through loopback. */
function rootUrl(address: AddressInfo): string {
  const host =
    address.address === "0.0.0.0" || address.address === "::"
      ? "127.0.0.1"
      : address.family === "IPv6"
        ? `[${address.address}]`
        : address.address;
  return `http://${host}:${address.port}`;
}
