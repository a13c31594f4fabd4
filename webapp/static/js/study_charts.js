// The search as a whole: the optimization history (every trial's score by trial number,
// with the best so far) and the parameters' importance (fANOVA, from GET /study).
// Options are pure, for node --test.

import { COLORS, baseOption, escapeHtml, shortValue } from "./chart_kit.js";
import { pct } from "./dom.js";

export const COMPLETED_SERIES = "Completed";
export const PRUNED_SERIES = "Pruned";
export const BEST_SERIES = "Best so far";

// history: [[number, status, score]] (GET /analysis). The best completed score up to each
// completed trial, as [number, best] where it improves, ending at the last trial: a stopped
// trial never finished training, so it is never the best (as the job's best). One rule for
// every best-so-far line: the job's history here, two jobs compared (compare_jobs.js).
export function bestSoFar(history) {
  const out = [];
  let best = -Infinity;
  const sorted = [...history].sort((a, b) => a[0] - b[0]);
  for (const [number, status, score] of sorted) {
    if (status !== "completed" || !Number.isFinite(score) || score <= best) continue;
    best = score;
    out.push([number, best]);
  }
  const last = sorted.at(-1)?.[0];
  if (out.length && last > out.at(-1)[0]) out.push([last, best]);
  return out;
}

// The number of the best completed trial (the lowest number of a tie), or null.
export function bestTrial(history) {
  let best = null;
  for (const [number, status, score] of history) {
    if (status !== "completed" || score === null || score === undefined) continue;
    if (!best || score > best[1] || (score === best[1] && number < best[0])) best = [number, score];
  }
  return best ? best[0] : null;
}

export function scoredHistory(history) {
  const scored = (s) => history.filter(([, status, score]) => status === s && score !== null && score !== undefined)
    .map(([number, , score]) => [number, score]);
  return { completed: scored("completed"), pruned: scored("pruned") };
}

// scoreLabel: what the job maximises ("Total score", or "Validation accuracy" for `simple`)
export function historyOption(history, { scoreLabel = "Total score", narrow = false } = {}) {
  const { completed, pruned } = scoredHistory(history);
  const best = bestSoFar(history);
  const top = best.at(-1)?.[1];
  return {
    ...baseOption(`Optimization history: ${scoreLabel.toLowerCase()} of ${completed.length} completed and `
      + `${pruned.length} pruned trials by trial number; best so far ${top === undefined ? "none" : shortValue(top)}.`),
    grid: { left: 52, right: 16, top: 56, bottom: narrow ? 64 : 70 },
    legend: { top: 0, type: "scroll", data: [COMPLETED_SERIES, PRUNED_SERIES, BEST_SERIES] },
    tooltip: {
      trigger: "item",
      formatter: (p) => `Trial #${p.value[0]} (${p.seriesName.toLowerCase()}): ${shortValue(p.value[1])}`,
    },
    xAxis: { type: "value", name: "Trial number", nameLocation: "middle", nameGap: 26, minInterval: 1, scale: true },
    yAxis: { type: "value", name: scoreLabel, scale: true },
    dataZoom: [{ type: "inside", xAxisIndex: 0 }, { type: "slider", xAxisIndex: 0, height: 16, bottom: 8 }],
    series: [
      { name: COMPLETED_SERIES, type: "scatter", data: completed, symbolSize: 7, large: true, cursor: "pointer",
        itemStyle: { color: COLORS.completed, opacity: 0.75 } },
      { name: PRUNED_SERIES, type: "scatter", data: pruned, symbol: "emptyCircle", symbolSize: 7, large: true,
        cursor: "pointer", itemStyle: { color: COLORS.pruned } },
      // under the dots, and deaf to the pointer: a click on a dot is the dot's
      { name: BEST_SERIES, type: "line", step: "end", data: best, symbol: "none", z: 1, silent: true,
        lineStyle: { color: COLORS.best, width: 2.5 }, itemStyle: { color: COLORS.best } },
    ],
  };
}

// importances: {param: importance}; bars as shares of their sum, the most important on top.
// texts: GET /hyperparameters' explanations: a bar's tooltip says what its parameter is.
export function importanceOption(importances, texts = {}) {
  const entries = Object.entries(importances || {}).filter(([, v]) => Number.isFinite(Number(v)));
  entries.sort((a, b) => a[1] - b[1]);
  const total = entries.reduce((acc, [, v]) => acc + Math.max(0, v), 0) || 1;
  const shares = entries.map(([name, v]) => ({ name, value: Math.max(0, v) / total }));
  return {
    ...baseOption(`Parameter importance, most important first: ${[...shares].reverse()
      .map((s) => `${s.name} ${pct(s.value, 0)}`).join(", ")}.`),
    grid: { left: 8, right: 48, top: 8, bottom: 24, containLabel: true },
    tooltip: { trigger: "item", confine: true, formatter: (p) => paramTip(p.name, texts[p.name], `${pct(p.value, 1)} of the importance`) },
    xAxis: { type: "value", max: (range) => Math.min(1, Math.ceil(range.max * 10 + 0.5) / 10),
      axisLabel: { formatter: (v) => pct(v, 0) } },
    yAxis: { type: "category", data: shares.map((s) => s.name), axisLabel: { interval: 0 } },
    series: [{ name: "Importance", type: "bar", data: shares.map((s) => s.value), barMaxWidth: 22,
      itemStyle: { color: "#7c3aed" },
      label: { show: true, position: "right", formatter: (p) => pct(p.value, 0) } }],
  };
}

// A parameter's tooltip (HTML, escaped): its title and name, `detail`, and what it is, in a
// box that wraps (hyperparameters.css; ECharts' tooltip does not).
function paramTip(name, text, detail) {
  if (!text) return `${escapeHtml(name)}: ${detail}`;
  return `<div class="param-tip"><strong>${escapeHtml(text.title)}</strong> (${escapeHtml(name)}): ${detail}`
    + `<br><span class="param-tip-what">${escapeHtml(text.what)}</span></div>`;
}
