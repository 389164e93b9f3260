/**
 * `polling-supervisor/testing`: a Telegram Bot API emulator that reproduces
 * the real server's polling rules (409s, throttles, webhooks, 429s), with a
 * control API for tests, in-process and over HTTP. See docs/emulator.md.
 * @module
 */
export { createBotApiEmulator, type BotApiEmulator, type BotApiEmulatorOptions } from "./emulator.js";
export type { BotControl } from "./bot-control.js";
export { UnknownBotError } from "./bot-registry.js";
export {
  EmulatorControlClient,
  EmulatorControlError,
  RemoteBotControl,
  type EmulatorControlClientOptions,
} from "./control-client.js";
export { REAL_TIMING, type EmulatorTiming } from "./timing.js";
export { CONFLICT_DESCRIPTIONS, type ApiEnvelope, type ResponseParameters } from "./api-responses.js";
export { EmulatorClosedError, WaitTimeoutError } from "./wait-for.js";
export type { UploadedFile } from "./bot-api-arguments.js";
export {
  CONTROL_PATH,
  type BotControlOperations,
  type BotProfile,
  type BotSnapshot,
  type CallbackQueryInput,
  type ConflictKind,
  type ControlEnvelope,
  type DeleteWebhookParams,
  type EmulatorInfo,
  type Fault,
  type FaultInjection,
  type GetUpdatesOutcome,
  type GetUpdatesRecord,
  type MessageInput,
  type MethodCallRecord,
  type NextGetUpdatesOptions,
  type PollGap,
  type RemoteOperations,
  type ReplyRecord,
  type SetWebhookParams,
  type Update,
  type UpdateInput,
  type UpdateRecord,
  type UpdateRemoval,
  type UpdateStreamRecord,
  type UpdateStreamSpec,
  type WaitOptions,
} from "./control-types.js";
