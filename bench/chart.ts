/** A small SVG chart of the gaps: one row per figure, log-scale milliseconds. */
import type { Figure } from "./report.js";

const WIDTH = 760;
const LABEL_WIDTH = 300;
const PLOT_LEFT = LABEL_WIDTH + 10;
const PLOT_RIGHT = WIDTH - 20;
const ROW_HEIGHT = 22;
const TOP = 34;
const AXIS_HEIGHT = 40;

const COLORS: Readonly<Record<Figure["group"], string>> = {
  graceful: "#2e7d32",
  sigterm: "#558b2f",
  crash: "#ef6c00",
  baseline: "#9e9e9e",
};

const GROUP_NAMES: Readonly<Record<Figure["group"], string>> = {
  graceful: "stop()",
  sigterm: "SIGTERM",
  crash: "SIGKILL",
  baseline: "baseline",
};

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Renders `figures` (milliseconds) as a standalone SVG document. */
export function renderGapChart(figures: readonly Figure[], title = "Gap until the next poller's first getUpdates (ms, log scale)"): string {
  const rows = figures.filter((f) => f.summary.n > 0 && Number.isFinite(f.summary.median));
  const maxValue = Math.max(1000, ...rows.map((f) => f.summary.max));
  const minExp = 0; // 1 ms
  const maxExp = Math.ceil(Math.log10(maxValue));
  const x = (ms: number) => {
    const clamped = Math.max(ms, 10 ** minExp);
    return PLOT_LEFT + ((Math.log10(clamped) - minExp) / (maxExp - minExp)) * (PLOT_RIGHT - PLOT_LEFT);
  };
  const height = TOP + rows.length * ROW_HEIGHT + AXIS_HEIGHT;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="-apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="18" font-size="13" font-weight="600" fill="#212121">${escapeXml(title)}</text>`,
  ];
  // Grid: one line per decade.
  for (let e = minExp; e <= maxExp; e++) {
    const gx = x(10 ** e).toFixed(1);
    const label = e < 3 ? `${10 ** e} ms` : `${10 ** (e - 3)} s`;
    out.push(`<line x1="${gx}" y1="${TOP - 6}" x2="${gx}" y2="${TOP + rows.length * ROW_HEIGHT}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${gx}" y="${TOP + rows.length * ROW_HEIGHT + 14}" text-anchor="middle" fill="#616161">${label}</text>`);
  }
  rows.forEach((f, i) => {
    const y = TOP + i * ROW_HEIGHT;
    const mid = y + ROW_HEIGHT / 2;
    const color = COLORS[f.group];
    const label = `${GROUP_NAMES[f.group]} · ${f.chartLabel ?? f.label}`;
    out.push(`<text x="${LABEL_WIDTH}" y="${mid + 4}" text-anchor="end" fill="#212121">${escapeXml(label)}</text>`);
    out.push(
      `<rect x="${PLOT_LEFT}" y="${y + 5}" width="${Math.max(1, x(f.summary.median) - PLOT_LEFT).toFixed(1)}" height="${ROW_HEIGHT - 10}" fill="${color}" opacity="0.75"><title>${escapeXml(`${label}: median ${f.summary.median.toFixed(1)} ms, p95 ${f.summary.p95.toFixed(1)} ms, max ${f.summary.max.toFixed(1)} ms, n ${f.summary.n}`)}</title></rect>`,
    );
    out.push(`<line x1="${x(f.summary.median).toFixed(1)}" y1="${mid}" x2="${x(f.summary.max).toFixed(1)}" y2="${mid}" stroke="${color}" stroke-width="1"/>`);
    out.push(`<line x1="${x(f.summary.p95).toFixed(1)}" y1="${y + 3}" x2="${x(f.summary.p95).toFixed(1)}" y2="${y + ROW_HEIGHT - 3}" stroke="#212121" stroke-width="2"/>`);
    out.push(`<circle cx="${x(f.summary.max).toFixed(1)}" cy="${mid}" r="2.5" fill="#212121"/>`);
    if (f.targetMs !== undefined) {
      const tx = x(f.targetMs).toFixed(1);
      out.push(`<line x1="${tx}" y1="${y + 1}" x2="${tx}" y2="${y + ROW_HEIGHT - 1}" stroke="#c62828" stroke-width="1.5" stroke-dasharray="3,2"/>`);
    }
  });
  const legendY = height - 8;
  out.push(
    `<text x="10" y="${legendY}" fill="#616161">bar: median · black tick: p95 · dot: max · red dashes: the goal's p95 bound</text>`,
  );
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
