/**
 * polling-supervisor: exactly one instance of a Telegram bot long-polls at a time.
 * @packageDocumentation
 */
export { PollingSupervisor, type SupervisorStatus } from "./supervisor/polling-supervisor.js";
export type { SupervisorOptions, ConflictPolicy } from "./supervisor/options.js";
export type { Logger } from "./supervisor/logger.js";
export type * from "./supervisor/events.js";
export { SUPERVISOR_EVENTS } from "./supervisor/events.js";
export { genericAdapter, type GenericLoopOptions, type GenericStartStopOptions, type GenericPollContext, type Update } from "./adapters/generic.js";
export type { BotAdapter, PollingGate, PollingRun, GetUpdatesParams, GetUpdatesOutcome } from "./adapters/types.js";
export { memoryLock, type MemoryLockOptions } from "./locks/memory.js";
export { fileLock, type FileLockOptions } from "./locks/file.js";
export type { LockBackend, Lease, HolderRecord, AcquireRequest } from "./locks/types.js";
export { classifyApiError, type ApiErrorClass } from "./api/classify-error.js";
export { createBotApiClient, type BotApiClient, type BotApiClientOptions } from "./api/bot-api-client.js";
export { parseBotToken, redactTokens, type ParsedToken } from "./token.js";
export * from "./errors.js";
