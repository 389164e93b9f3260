import { describe, expect, it } from "vitest";
import { retryDelay } from "../../bench/baselines/fixed-retry.js";
import { renderGapChart } from "../../bench/chart.js";
import { countLostAndDuplicated } from "../../bench/context.js";
import { README_END, README_START, replaceReadmeSection, type Figure } from "../../bench/report.js";
import { formatMs, percentile, summarize } from "../../bench/stats.js";

describe("percentile (nearest rank)", () => {
  it("is always one of the samples", () => {
    const samples = Array.from({ length: 30 }, (_, i) => i + 1); // 1..30
    expect(percentile(samples, 50)).toBe(15);
    expect(percentile(samples, 95)).toBe(29); // ceil(28.5) = 29th smallest: the second largest
    expect(percentile(samples, 100)).toBe(30);
    expect(percentile([7], 95)).toBe(7);
  });

  it("does not depend on the order of the samples", () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([3, 1, 2, 100], 95)).toBe(100);
  });

  it("is NaN without samples and refuses a percentile outside (0, 100]", () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe("summarize", () => {
  it("gives n, min, median, p95, max and mean", () => {
    expect(summarize([4, 1, 3, 2])).toEqual({ n: 4, min: 1, median: 2, p95: 4, max: 4, mean: 2.5 });
  });

  it("is all NaN but n for no samples", () => {
    const empty = summarize([]);
    expect(empty.n).toBe(0);
    expect(empty.median).toBeNaN();
  });
});

describe("formatMs", () => {
  it("keeps three significant digits below 100 ms and switches to seconds past 10 s", () => {
    expect(formatMs(1.234)).toBe("1.23 ms");
    expect(formatMs(12.34)).toBe("12.3 ms");
    expect(formatMs(123.4)).toBe("123 ms");
    expect(formatMs(9_700)).toBe("9700 ms");
    expect(formatMs(10_040)).toBe("10.0 s");
    expect(formatMs(Number.NaN)).toBe("–");
  });
});

describe("replaceReadmeSection", () => {
  const readme = "# title\n\nintro\n\n## Testing\n\ntext\n\n## Architecture\n\nSee docs.\n";

  it("adds the markers before ## Architecture the first time", () => {
    const out = replaceReadmeSection(readme, "## Benchmarks\n\nfigures");
    expect(out).toBe(`# title\n\nintro\n\n## Testing\n\ntext\n\n${README_START}\n## Benchmarks\n\nfigures\n${README_END}\n\n## Architecture\n\nSee docs.\n`);
  });

  it("replaces only what is between the markers afterwards", () => {
    const once = replaceReadmeSection(readme, "old figures");
    const edited = once.replace("intro", "intro, edited by hand").replace("See docs.", "See docs, edited.");
    const twice = replaceReadmeSection(edited, "new figures");
    expect(twice).toContain("new figures");
    expect(twice).not.toContain("old figures");
    expect(twice).toContain("intro, edited by hand");
    expect(twice).toContain("See docs, edited.");
    expect(twice.split(README_START)).toHaveLength(2);
    expect(replaceReadmeSection(twice, "new figures")).toBe(twice);
  });

  it("appends at the end when there is no Architecture heading", () => {
    expect(replaceReadmeSection("# t\n", "x")).toBe(`# t\n\n${README_START}\nx\n${README_END}\n`);
  });

  it("refuses a README with only one marker", () => {
    expect(() => replaceReadmeSection(`# t\n${README_START}\n`, "x")).toThrow(/only one of the bench markers/);
  });
});

describe("countLostAndDuplicated", () => {
  it("counts ids never handled and extra handlings against 1..pushed", () => {
    expect(countLostAndDuplicated(5, [1, 2, 2, 4, 5, 5, 5])).toEqual({ lost: 1, duplicated: 3, handled: 4 });
    expect(countLostAndDuplicated(3, [3, 2, 1])).toEqual({ lost: 0, duplicated: 0, handled: 3 });
  });
});

describe("retryDelay", () => {
  it("is client-go's JitterUntil for the k8s policy: period × (1 + rand × 1.2)", () => {
    const k8s = { kind: "k8s", retryPeriodMs: 2000, jitterFactor: 1.2 } as const;
    expect(retryDelay(k8s, () => 0)).toBe(2000);
    expect(retryDelay(k8s, () => 0.5)).toBe(3200);
    expect(retryDelay(k8s, () => 1)).toBe(4400);
    expect(retryDelay({ kind: "fixed", periodMs: 1000 }, () => 0.7)).toBe(1000);
  });
});

describe("renderGapChart", () => {
  const figure = (label: string, median: number, targetMs?: number): Figure => ({
    group: "graceful",
    label,
    summary: { n: 30, min: median / 2, median, p95: median * 2, max: median * 3, mean: median },
    ...(targetMs === undefined ? {} : { goal: `p95 ≤ ${targetMs} ms`, targetMs }),
  });

  it("draws one bar per figure with samples, escapes labels, and marks goals", () => {
    const svg = renderGapChart([figure("memory <one process>", 4, 15), figure("redis & co", 9_000), { ...figure("empty", 1), summary: summarize([]) }]);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("memory &lt;one process&gt;");
    expect(svg).toContain("redis &amp; co");
    expect(svg).not.toContain("empty");
    expect(svg.match(/<rect x=/g)).toHaveLength(2);
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(1);
  });
});
