import { describe, expect, it } from "vitest";
import { memoryLock } from "../../src/locks/memory.js";
import { describeLockBackend } from "./conformance.js";

describeLockBackend("memory", () => memoryLock());
