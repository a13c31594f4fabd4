// Parallel coordinates: one axis per parameter the trials vary, then the score; one line
// per trial, completed ones coloured by score, pruned ones grey and dashed (their legend
// entry hides them). Trials without a score, or without a number a number axis needs,
// are left out and counted. On a narrow chart the axes are rows. Pure.

import { COLORS, NARROW, baseOption, escapeHtml, shortValue } from "./chart_kit.js";
import { axisValue, byOutcome } from "./param_axes.js";
import { COMPLETED_SERIES, PRUNED_SERIES } from "./study_charts.js";

const ROW_HEIGHT = 54;

// Each trial's line as {value: [axis values…, score], number}; null when it cannot be drawn.
export function parallelLine(row, axes) {
  const value = axes.map((axis) => axisValue(row, axis));
  return value.includes(null) ? null : { value: [...value, row.total_score], number: row.number };
}

// axes: paramAxes(rows); returns {option, height, left} (left: trials with no line)
export function parallelOption(rows, axes, { width, scoreLabel = "Total score" }) {
  const { completed, pruned, left } = byOutcome(rows);
  const lines = (list) => list.map((r) => parallelLine(r, axes)).filter(Boolean);
  const done = lines(completed);
  const stopped = lines(pruned);
  const narrow = width < NARROW;
  const scores = done.map((l) => l.value.at(-1));
  const dims = [...axes.map((axis) => axis.name), scoreLabel];
  const option = {
    ...baseOption(`Parallel coordinates of ${done.length} completed and ${stopped.length} pruned trials over `
      + `${axes.length} parameters and the ${scoreLabel.toLowerCase()}.`),
    legend: { top: 0, data: [COMPLETED_SERIES, PRUNED_SERIES] },
    tooltip: {
      trigger: "item",
      formatter: (p) => `Trial #${p.data.number}<br>${dims.map((d, i) => `${escapeHtml(d)}: ${escapeHtml(shortValue(p.value[i]))}`).join("<br>")}`,
    },
    parallel: narrow
      ? { layout: "vertical", left: 110, right: 24, top: 40, bottom: 76 }
      : { left: 40, right: 90, top: 84, bottom: 56 },
    parallelAxis: [
      ...axes.map((axis, dim) => ({ dim, name: axis.name, type: axis.kind, data: axis.categories, scale: true,
        minInterval: axis.integer ? 1 : undefined, nameLocation: narrow ? "start" : "end",
        nameRotate: narrow ? 0 : 25, nameTextStyle: { fontWeight: 600 },
        axisLabel: { hideOverlap: true, formatter: axis.kind === "category" ? undefined : shortValue } })),
      { dim: axes.length, name: scoreLabel, type: "value", scale: true, nameLocation: narrow ? "start" : "end",
        nameRotate: narrow ? 0 : 25,
        nameTextStyle: { fontWeight: 700 }, axisLabel: { formatter: shortValue } },
    ],
    visualMap: {
      type: "continuous", dimension: axes.length, seriesIndex: 0, calculable: false,
      min: scores.length ? Math.min(...scores) : 0, max: scores.length ? Math.max(...scores) : 1,
      orient: "horizontal", left: "center", bottom: 4, itemHeight: Math.min(200, width / 3),
      text: ["higher", "lower"], inRange: { color: ["#bfdbfe", "#1d4ed8", "#172554"] },
    },
    series: [
      { name: COMPLETED_SERIES, type: "parallel", data: done, lineStyle: { width: 1.2, opacity: 0.6 },
        emphasis: { lineStyle: { width: 3, opacity: 1 } }, progressive: 500 },
      { name: PRUNED_SERIES, type: "parallel", data: stopped, z: 1,
        lineStyle: { color: COLORS.pruned, type: "dashed", width: 1, opacity: 0.45 }, progressive: 500 },
    ],
  };
  const height = narrow ? 116 + ROW_HEIGHT * dims.length : 440;
  return { option, height, left: left + completed.length - done.length + pruned.length - stopped.length };
}
