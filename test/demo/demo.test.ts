import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runDemo } from "../../src/demo/run-demo.js";

describe("npm run demo", () => {
  it("hands over and takes over with nothing lost, and shows the unsupervised pair losing messages", async () => {
    const lines: string[] = [];
    const code = await runDemo({ root: fileURLToPath(new URL("../..", import.meta.url)), write: (l) => lines.push(l) });
    const output = lines.join("\n");
    expect(code, output).toBe(0);
    const row = (label: string) => {
      const cells = lines.find((l) => l.startsWith(`| ${label}`))!.split("|").map((c) => c.trim());
      return { supervised: cells[2], unsupervised: cells[3] };
    };
    expect(row("lost (never answered)").supervised).toBe("0");
    expect(Number(row("lost (never answered)").unsupervised)).toBeGreaterThan(0);
    expect(row("409s heard by a live poller")).toEqual({ supervised: "0", unsupervised: "1" });
    expect(row("graceful handover (SIGTERM A -> B polls)").supervised).toMatch(/^\d+ ms$/);
    expect(row("crash takeover (SIGKILL B -> C polls)").supervised).toMatch(/^\d+ ms$/);
    expect(row("after the deploy (SIGTERM U2 -> U1 polls)").unsupervised).toBe("never");
    // Lines of different processes can arrive in either order; each handover is in the timeline.
    for (const line of [/A\s+lock released/, /B\s+lock acquired/, /C\s+lock acquired/]) expect(output).toMatch(line);
  }, 90_000);
});
