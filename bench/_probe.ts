import { Bot } from "grammy";
import { PollingSupervisor } from "../src/index.js";
import { redisLock } from "../src/locks/redis.js";
console.log("ready", typeof Bot, typeof PollingSupervisor, typeof redisLock, performance.now().toFixed(0));
