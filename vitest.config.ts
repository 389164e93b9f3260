import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests that start child processes and servers are heavy; 2 cores.
    maxWorkers: 2,
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"] },
  },
});
