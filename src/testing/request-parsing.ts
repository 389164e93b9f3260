import type { IncomingMessage } from "node:http";
import type { BotApiArguments, UploadedFile } from "./bot-api-arguments.js";

/** Where a Bot API request goes: `/bot<token>/<method>`. */
export interface BotApiTarget {
  readonly token: string;
  readonly method: string;
}

/** The body could not be read as the content type says. */
export class RequestBodyError extends Error {
  override readonly name = "RequestBodyError";
}

/**
 * Splits `/bot<token>/<method>` (and the test-environment form
 * `/bot<token>/test/<method>`) as `HttpConnection::handle` does; undefined for
 * any other path, which the server answers with 404 `Not Found`.
 */
export function parseBotApiPath(pathname: string): BotApiTarget | undefined {
  const match = /^\/bot([^/]*)(?:\/test)?\/(.*)$/.exec(pathname);
  if (!match) return undefined;
  try {
    return { token: decodeURIComponent(match[1]!), method: decodeURIComponent(match[2]!) };
  } catch {
    return undefined;
  }
}

/**
 * The call's arguments: the query string, then the body as its content type
 * says (JSON object, urlencoded or multipart form), later values winning.
 * Files become {@link UploadedFile} records; their bytes are dropped.
 */
export async function readArguments(request: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const args: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const body = await readBody(request);
  if (body.length === 0) return args;
  const contentType = request.headers["content-type"] ?? "";
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
  if (mediaType === "application/json") return { ...args, ...parseJsonObject(body) };
  if (mediaType === "application/x-www-form-urlencoded" || mediaType === "multipart/form-data") {
    return { ...args, ...(await parseForm(body, contentType)) };
  }
  return args;
}

/** Reads the whole body of a request. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parses a JSON body that must be an object. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    throw new RequestBodyError("Bad Request: can't parse JSON object");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RequestBodyError("Bad Request: JSON body must be an object");
  }
  return value as Record<string, unknown>;
}

async function parseForm(body: Buffer, contentType: string): Promise<BotApiArguments> {
  let form: FormData;
  try {
    const request = new Request("http://emulator/", { method: "POST", headers: { "content-type": contentType }, body });
    form = await request.formData();
  } catch {
    throw new RequestBodyError("Bad Request: can't parse form data");
  }
  const args: Record<string, string | UploadedFile> = {};
  for (const [name, value] of form) {
    args[name] = typeof value === "string" ? value : { filename: value.name, size: value.size, type: value.type };
  }
  return args;
}
