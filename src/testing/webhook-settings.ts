import { isIP } from "node:net";
import { argumentText, integerArgument, isUploadedFile, type BotApiArguments } from "./bot-api-arguments.js";

/** A bot's webhook as `Client` keeps it (`webhook_url_`, `has_webhook_certificate_`, ...). */
export interface WebhookSettings {
  /** "" when no webhook is set. */
  readonly url: string;
  readonly hasCustomCertificate: boolean;
  /** 0 when no webhook is set. */
  readonly maxConnections: number;
  readonly ipAddress: string;
  readonly fixIpAddress: boolean;
  readonly secretToken: string;
}

/** The settings of a bot without a webhook. */
export const NO_WEBHOOK: WebhookSettings = Object.freeze({
  url: "",
  hasCustomCertificate: false,
  maxConnections: 0,
  ipAddress: "",
  fixIpAddress: false,
  secretToken: "",
});

/** `default_max_webhook_connections_` of the cloud server. */
const DEFAULT_MAX_CONNECTIONS = 40;

/** The settings a setWebhook (or deleteWebhook, whose URL is always empty) asks for. */
export function requestedWebhook(args: BotApiArguments, isSetWebhook: boolean): WebhookSettings {
  const url = isSetWebhook ? argumentText(args, "url") : "";
  if (url === "") return NO_WEBHOOK;
  const ipAddress = argumentText(args, "ip_address");
  return {
    url,
    hasCustomCertificate: hasCertificate(args),
    maxConnections: integerArgument(args, "max_connections", DEFAULT_MAX_CONNECTIONS, 1, 100),
    ipAddress,
    fixIpAddress: ipAddress !== "",
    secretToken: argumentText(args, "secret_token"),
  };
}

/** The server's "webhook is not modified" test: such a call answers "Webhook is already set/deleted" and changes nothing. */
export function isSameWebhook(current: WebhookSettings, requested: WebhookSettings): boolean {
  return (
    current.url === requested.url &&
    !current.hasCustomCertificate &&
    !requested.hasCustomCertificate &&
    current.maxConnections === requested.maxConnections &&
    current.fixIpAddress === requested.fixIpAddress &&
    current.secretToken === requested.secretToken &&
    (!requested.fixIpAddress || current.ipAddress === requested.ipAddress)
  );
}

/** The 400 description `do_set_webhook` would answer for these settings, or undefined when they are valid. */
export function webhookProblem(settings: WebhookSettings): string | undefined {
  if (parseWebhookUrl(settings.url) === undefined) return "Bad Request: invalid webhook URL specified";
  if (settings.secretToken.length > 256) return "Bad Request: secret token is too long";
  if (!/^[A-Za-z0-9_-]*$/.test(settings.secretToken)) return "Bad Request: secret token contains unallowed characters";
  return undefined;
}

/** The `ip_address` getWebhookInfo shows: the given one, else the URL's host when it is an IP literal, else the server's placeholder. */
export function shownIpAddress(settings: WebhookSettings): string {
  if (settings.ipAddress !== "") return settings.ipAddress;
  const host = parseWebhookUrl(settings.url)?.hostname.replace(/^\[|\]$/g, "") ?? "";
  return isIP(host) === 0 ? "<unknown>" : host;
}

/** `td::parse_url(url, Https)`: a missing scheme means https; only http and https are URLs. */
function parseWebhookUrl(url: string): URL | undefined {
  try {
    const parsed = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`);
    return (parsed.protocol === "https:" || parsed.protocol === "http:") && parsed.hostname !== "" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A certificate uploaded as the `certificate` part, or referenced as `attach://<part>`. */
function hasCertificate(args: BotApiArguments): boolean {
  const certificate = args["certificate"];
  if (isUploadedFile(certificate)) return true;
  const reference = argumentText(args, "certificate");
  return reference.startsWith("attach://") && isUploadedFile(args[reference.slice("attach://".length)]);
}
