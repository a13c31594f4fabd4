// The six health components as a radar: one polygon per trial on axes from 0 to 1, with
// the median of the completed trials as a dashed reference. The job's view offers the
// best-scored trials (the legend picks which are drawn); a comparison draws its own. Pure.

import { COLORS, PALETTE, baseOption } from "./chart_kit.js";
import { HEALTH_LABELS, num } from "./dom.js";

export const HEALTH_KEYS = Object.keys(HEALTH_LABELS);
export const OFFERED = 8; // the best-scored trials in the legend
export const DRAWN = 3; // of which drawn at first
export const MEDIAN_PREFIX = "Median of";
const COLORS_OFFERED = [...PALETTE, "#be185d", "#65a30d", "#0369a1", "#a16207"];

export function median(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function healthValues(health) {
  return HEALTH_KEYS.map((k) => Number(health?.[k] ?? 0));
}

// Completed trials with health, the best-scored first.
export function healthiestFirst(rows) {
  return rows.filter((r) => r.status === "completed" && r.health)
    .sort((a, b) => (b.total_score ?? -1) - (a.total_score ?? -1) || a.number - b.number);
}

function polygon(trial, color) {
  return { name: `Trial #${trial.number}`, value: healthValues(trial.health), number: trial.number,
    lineStyle: { color, width: 2 }, itemStyle: { color }, areaStyle: { color, opacity: 0.08 } };
}

// rows: the job's trials (GET /analysis); compared: true for a comparison (every trial
// drawn, in the comparison's colours, no median).
export function radarOption(rows, { compared = false, narrow = false } = {}) {
  const ranked = compared ? rows : healthiestFirst(rows);
  const offered = compared ? ranked : ranked.slice(0, OFFERED);
  // a compared trial keeps its place's colour (as in the comparison's table and curves)
  const polygons = offered.map((t, i) => t.health && polygon(t, COLORS_OFFERED[i % COLORS_OFFERED.length]))
    .filter(Boolean);
  const series = [{ name: "Health components", type: "radar", symbolSize: 5, data: polygons }];
  const legend = polygons.map((p) => p.name);
  let median_ = null;
  if (!compared && ranked.length) {
    const values = HEALTH_KEYS.map((k) => median(ranked.map((r) => Number(r.health[k]))));
    median_ = `${MEDIAN_PREFIX} ${ranked.length} completed`;
    series.push({ name: median_, type: "radar", symbol: "none", silent: true,
      lineStyle: { color: COLORS.median, type: "dashed", width: 1.5 },
      data: [{ name: median_, value: values, itemStyle: { color: COLORS.median } }] });
    legend.push(median_);
  }
  const selected = Object.fromEntries(legend.map((name, i) => [name, compared || name === median_ || i < DRAWN]));
  return {
    ...baseOption(`Health components (0 to 1) of ${compared ? "the compared" : "the best-scored"} trials: `
      + polygons.map((p) => `${p.name}: ${HEALTH_KEYS.map((k, i) => `${HEALTH_LABELS[k]} ${num(p.value[i], 2)}`).join(", ")}`).join("; ")),
    legend: { top: 0, type: "scroll", data: legend, selected },
    tooltip: { trigger: "item" },
    radar: {
      center: ["50%", "56%"], radius: narrow ? "52%" : "62%",
      // two-word names on two lines, so a narrow chart does not cut them
      indicator: HEALTH_KEYS.map((k) => ({ name: HEALTH_LABELS[k].replace(" ", "\n"), min: 0, max: 1 })),
      axisName: { color: "#374151", fontSize: 11, lineHeight: 13 },
    },
    series,
  };
}
