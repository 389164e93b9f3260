import type { IncomingMessage, ServerResponse } from "node:http";
import { InvalidOptionError } from "../errors.js";
import type { BotControl } from "./bot-control.js";
import { UnknownBotError, type BotRegistry } from "./bot-registry.js";
import {
  CONTROL_PATH,
  type BotProfile,
  type ControlEnvelope,
  type EmulatorInfo,
  type FaultInjection,
  type NextGetUpdatesOptions,
  type SetWebhookParams,
  type UpdateStreamSpec,
} from "./control-types.js";
import { parseJsonObject, readBody, RequestBodyError } from "./request-parsing.js";
import { EmulatorClosedError, WaitTimeoutError } from "./wait-for.js";

type Body = Record<string, unknown>;

interface Route {
  readonly verb: "GET" | "POST" | "DELETE";
  /** Matched against the path after {@link CONTROL_PATH}; group 1 is the URL-encoded token where there is one. */
  readonly path: RegExp;
  readonly run: (context: RouteContext) => unknown;
}

interface RouteContext {
  readonly registry: BotRegistry;
  readonly apiRoot: string;
  /** The bot named in the path (created on demand when any token is accepted). */
  readonly bot: () => BotControl;
  readonly match: RegExpExecArray;
  readonly body: Body;
  /** Aborts when the caller disconnects. */
  readonly signal: AbortSignal;
}

/** Every control route: each one calls the {@link BotControl} method of the same name. */
const ROUTES: readonly Route[] = [
  {
    verb: "GET",
    path: /^\/?$/,
    run: ({ registry, apiRoot }): EmulatorInfo => ({
      apiRoot,
      acceptsAnyToken: registry.acceptsAnyToken,
      botIds: registry.list().map((bot) => bot.botId),
    }),
  },
  {
    verb: "POST",
    path: /^\/bots$/,
    run: ({ registry, body }) => ({ botId: registry.register(body as unknown as BotProfile).botId }),
  },
  {
    verb: "POST",
    path: /^\/bots\/([^/]+)\/revoke$/,
    run: ({ registry, match }) => registry.revoke(decodeURIComponent(match[1]!)),
  },
  { verb: "GET", path: /^\/bots\/([^/]+)\/snapshot$/, run: ({ bot }) => bot().snapshot() },
  { verb: "DELETE", path: /^\/bots\/([^/]+)\/records$/, run: ({ bot }) => bot().clearRecords() },
  { verb: "POST", path: /^\/bots\/([^/]+)\/updates$/, run: ({ bot, body }) => bot().pushUpdate(body) },
  {
    verb: "POST",
    path: /^\/bots\/([^/]+)\/messages$/,
    run: ({ bot, body }) => bot().pushMessage(body as unknown as { text: string }),
  },
  {
    verb: "POST",
    path: /^\/bots\/([^/]+)\/callback-queries$/,
    run: ({ bot, body }) => bot().pushCallbackQuery(body as unknown as { data: string }),
  },
  {
    verb: "POST",
    path: /^\/bots\/([^/]+)\/streams$/,
    run: ({ bot, body }) => bot().startUpdateStream(body as unknown as UpdateStreamSpec),
  },
  {
    verb: "DELETE",
    path: /^\/bots\/([^/]+)\/streams\/(\d+)$/,
    run: ({ bot, match }) => bot().stopUpdateStream(Number(match[2])),
  },
  { verb: "POST", path: /^\/bots\/([^/]+)\/webhook$/, run: ({ bot, body }) => bot().setWebhook(body as SetWebhookParams) },
  { verb: "DELETE", path: /^\/bots\/([^/]+)\/webhook$/, run: ({ bot, body }) => bot().deleteWebhook(body) },
  {
    verb: "POST",
    path: /^\/bots\/([^/]+)\/faults$/,
    run: ({ bot, body }) => bot().injectFault(body as unknown as FaultInjection),
  },
  { verb: "DELETE", path: /^\/bots\/([^/]+)\/faults$/, run: ({ bot }) => bot().clearFaults() },
  {
    verb: "POST",
    path: /^\/bots\/([^/]+)\/webhook-errors$/,
    run: ({ bot, body }) => bot().reportWebhookError(body["message"] as string),
  },
  { verb: "POST", path: /^\/bots\/([^/]+)\/synchronization-errors$/, run: ({ bot }) => bot().reportSynchronizationError() },
  {
    verb: "POST",
    path: /^\/bots\/([^/]+)\/next-get-updates$/,
    run: ({ bot, body, signal }) => {
      const { timeoutMs, until, after } = body as Omit<NextGetUpdatesOptions, "signal">;
      return bot().nextGetUpdates({
        signal,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(until === undefined ? {} : { until }),
        ...(after === undefined ? {} : { after }),
      });
    },
  },
];

/**
 * Serves one control request: finds the route, reads the JSON body, runs the
 * {@link BotControl} method and answers `{ ok, result }` or `{ ok: false, description }`
 * (400 bad input, 404 unknown route or bot, 408 wait timed out).
 */
export async function serveControlRequest(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  context: { readonly registry: BotRegistry; readonly apiRoot: string },
): Promise<void> {
  const subpath = url.pathname.slice(CONTROL_PATH.length);
  const routes = ROUTES.filter((route) => route.path.test(subpath));
  const route = routes.find((candidate) => candidate.verb === request.method);
  if (!route) {
    if (routes.length === 0) return sendControl(response, 404, { ok: false, description: `No control route ${url.pathname}` });
    const verbs = routes.map((candidate) => candidate.verb).join(" or ");
    return sendControl(response, 405, { ok: false, description: `Use ${verbs} for ${url.pathname}` });
  }
  const abort = new AbortController();
  response.once("close", () => abort.abort(new EmulatorClosedError()));
  try {
    const raw = await readBody(request);
    const body = raw.length === 0 ? {} : parseJsonObject(raw);
    const match = route.path.exec(subpath)!;
    const result = await route.run({
      ...context,
      match,
      body,
      signal: abort.signal,
      bot: () => context.registry.control(decodeURIComponent(match[1]!)),
    });
    sendControl(response, 200, { ok: true, result: result === undefined ? true : result });
  } catch (error) {
    sendControl(response, statusOf(error), { ok: false, description: error instanceof Error ? error.message : String(error) });
  }
}

function statusOf(error: unknown): number {
  if (error instanceof InvalidOptionError || error instanceof RequestBodyError) return 400;
  if (error instanceof UnknownBotError) return 404;
  if (error instanceof WaitTimeoutError) return 408;
  return 500;
}

function sendControl(response: ServerResponse, status: number, envelope: ControlEnvelope): void {
  if (response.destroyed) return;
  const body = JSON.stringify(envelope);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  response.end(body);
}
