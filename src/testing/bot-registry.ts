import { InvalidOptionError } from "../errors.js";
import { isBotToken } from "../token.js";
import { errorReply, type ApiReply } from "./api-responses.js";
import { BotControl } from "./bot-control.js";
import type { BotProfile } from "./control-types.js";
import { EmulatedBot } from "./emulated-bot.js";
import type { EmulatorTiming } from "./timing.js";

/** A control-API call named a bot the emulator does not know (and will not create). */
export class UnknownBotError extends Error {
  override readonly name = "UnknownBotError";
}

interface Entry {
  readonly bot: EmulatedBot;
  readonly control: BotControl;
}

/** The largest bot id the server accepts (`user_id < 2^54`). */
const MAX_BOT_ID = 2 ** 54;

/**
 * The emulator's bots, keyed by token. Registered tokens are always known;
 * with `acceptAnyToken`, a well-formed token gets a bot on first use. A
 * revoked or logged-out token gets 401 until it is registered again.
 */
export class BotRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #revoked = new Set<string>();
  readonly #acceptAnyToken: boolean;
  readonly #timing: EmulatorTiming;
  readonly #firstUpdateId: number;
  readonly #closed: AbortSignal;

  constructor(options: {
    readonly acceptAnyToken: boolean;
    readonly timing: EmulatorTiming;
    readonly firstUpdateId: number;
    readonly closed: AbortSignal;
  }) {
    this.#acceptAnyToken = options.acceptAnyToken;
    this.#timing = options.timing;
    this.#firstUpdateId = options.firstUpdateId;
    this.#closed = options.closed;
  }

  /** True when unregistered well-formed tokens are accepted. */
  get acceptsAnyToken(): boolean {
    return this.#acceptAnyToken;
  }

  /** Registers a bot (or re-admits a revoked token) and returns its control; an existing bot keeps its state. */
  register(profile: BotProfile | string): BotControl {
    const resolved = typeof profile === "string" ? { token: profile } : profile;
    if (typeof resolved?.token !== "string" || !isBotToken(resolved.token)) {
      throw new InvalidOptionError("token", 'Expected `token` to be shaped like "<digits>:<secret of 20+ characters>".');
    }
    this.#revoked.delete(resolved.token);
    return (this.#entries.get(resolved.token) ?? this.#create(resolved)).control;
  }

  /** Makes the token answer 401 `Unauthorized` (a revoked token) until registered again. */
  revoke(token: string): void {
    this.#revoked.add(token);
  }

  /** The control of a known bot; with `acceptAnyToken`, creates the bot of a well-formed token. */
  control(token: string): BotControl {
    const entry = this.#find(token);
    if (!entry) {
      throw new UnknownBotError(
        isBotToken(token)
          ? "No bot is registered with this token: register it first (registerBot)."
          : 'The token is not shaped like "<digits>:<secret of 20+ characters>".',
      );
    }
    return entry.control;
  }

  /** The bot a Bot API request is for, or the 401/421 reply the server gives its token (`ClientManager::send`). */
  authorize(token: string): { readonly bot: EmulatedBot } | { readonly reply: ApiReply } {
    const problem = tokenProblem(token);
    if (problem) return { reply: problem };
    if (this.#revoked.has(token)) return { reply: errorReply(401, "Unauthorized") };
    const entry = this.#find(token);
    return entry ? { bot: entry.bot } : { reply: errorReply(401, "Unauthorized") };
  }

  /** Every bot's control. */
  list(): BotControl[] {
    return [...this.#entries.values()].map((entry) => entry.control);
  }

  /** Stops every stream and abandons every pending call. */
  shutdown(): void {
    for (const { bot, control } of this.#entries.values()) {
      control.stopStreams();
      bot.shutdown();
    }
  }

  /** The entry of a registered token, or a new one for a well-formed token when any token is accepted. */
  #find(token: string): Entry | undefined {
    return this.#entries.get(token) ?? (this.#acceptAnyToken && isBotToken(token) ? this.#create({ token }) : undefined);
  }

  #create(profile: BotProfile): Entry {
    const token = profile.token;
    const bot = new EmulatedBot({
      botId: token.slice(0, token.indexOf(":")),
      profile,
      timing: this.#timing,
      firstUpdateId: this.#firstUpdateId,
      onLoggedOut: () => this.revoke(token),
    });
    const entry = { bot, control: new BotControl(bot, this.#closed) };
    this.#entries.set(token, entry);
    return entry;
  }
}

/** The server's checks before it looks a token up: malformed ones get 401 `Unauthorized: invalid token specified`. */
function tokenProblem(token: string): ApiReply | undefined {
  const invalid = errorReply(401, "Unauthorized: invalid token specified");
  const colon = token.indexOf(":");
  if (token === "" || token.startsWith("0") || token.length > 80 || colon === -1) return invalid;
  const idText = token.slice(0, colon);
  if (!/^-?\d+$/.test(idText)) return errorReply(421, "Misdirected Request: unallowed token specified");
  const id = Number(idText);
  return id <= 0 || id >= MAX_BOT_ID ? invalid : undefined;
}
