import { defineConfig } from "tsup";

/**
 * One entry per subpath export; `test/package/exports.test.ts` fails when an
 * entry is built but not exported in package.json, or the other way round.
 */
export const entries = {
  index: "src/index.ts",
  testing: "src/testing/index.ts",
  grammy: "src/adapters/grammy.ts",
  telegraf: "src/adapters/telegraf.ts",
  "node-telegram-bot-api": "src/adapters/node-telegram-bot-api.ts",
  redis: "src/locks/redis.ts",
  postgres: "src/locks/postgres.ts",
} as const;

export default defineConfig([
  {
    entry: entries,
    format: ["esm", "cjs"],
    dts: true,
    clean: true,
    sourcemap: true,
    target: "node20",
    splitting: true,
    // p-retry is ESM-only; bundling it lets the CommonJS build load without require(esm).
    noExternal: ["p-retry"],
  },
  {
    entry: { cli: "src/cli/main.ts" },
    format: ["esm"],
    target: "node20",
    sourcemap: true,
    noExternal: ["p-retry"],
  },
]);
