// Parameter-versus-score slices: one small scatter plot per parameter the trials vary,
// all on one score scale, laid out in as many columns as the width holds. Completed
// trials are filled dots, pruned ones hollow grey dots at the score they had when
// stopped (their legend entry hides them); trials without a score are left out. Pure.

import { COLORS, baseOption, escapeHtml, shortValue } from "./chart_kit.js";
import { axisValue, byOutcome } from "./param_axes.js";
import { PRUNED_SERIES, COMPLETED_SERIES } from "./study_charts.js";

const CELL_MIN_WIDTH = 260;
const CELL_HEIGHT = 210;
const LEGEND_HEIGHT = 34;

export function sliceLayout(count, width) {
  const columns = Math.max(1, Math.min(count, Math.floor(width / CELL_MIN_WIDTH)));
  const rows = Math.ceil(count / columns);
  return { columns, rows, cellWidth: width / columns, height: LEGEND_HEIGHT + rows * CELL_HEIGHT };
}

// [low, high] of the scores with a little room, so the dots never sit on the frame
export function scoreRange(scores) {
  if (!scores.length) return [0, 1];
  const low = Math.min(...scores);
  const high = Math.max(...scores);
  const pad = Math.max(0.01, (high - low) * 0.05);
  return [Math.max(0, Math.floor((low - pad) * 10) / 10), Math.ceil((high + pad) * 10) / 10];
}

// axes: paramAxes(rows); returns {option, height}
export function sliceOption(rows, axes, { width, scoreLabel = "Total score" }) {
  const { completed, pruned } = byOutcome(rows);
  const layout = sliceLayout(axes.length, width);
  const [low, high] = scoreRange([...completed, ...pruned].map((r) => r.total_score));
  const cell = (i) => ({ left: (i % layout.columns) * layout.cellWidth, top: LEGEND_HEIGHT + Math.floor(i / layout.columns) * CELL_HEIGHT });
  const points = (list, axis) => list.map((r) => [axisValue(r, axis), r.total_score, r.number])
    .filter(([x]) => x !== null);
  const option = {
    ...baseOption(`${scoreLabel} against each of ${axes.length} parameters: ${completed.length} completed `
      + `and ${pruned.length} pruned trials.`),
    legend: { top: 0, data: [COMPLETED_SERIES, PRUNED_SERIES] },
    tooltip: {
      trigger: "item",
      formatter: (p) => `Trial #${p.value[2]}: ${escapeHtml(axes[p.seriesIndex >> 1].name)} = `
        + `${escapeHtml(shortValue(p.value[0]))}<br>${scoreLabel.toLowerCase()} ${shortValue(p.value[1])}`,
    },
    title: axes.map((axis, i) => ({ text: axis.name, left: cell(i).left + 46, top: cell(i).top + 2,
      textStyle: { fontSize: 12, fontWeight: 600 } })),
    grid: axes.map((_, i) => ({ left: cell(i).left + 46, top: cell(i).top + 26,
      width: Math.max(40, layout.cellWidth - 62), height: CELL_HEIGHT - 62 })),
    xAxis: axes.map((axis, i) => ({
      gridIndex: i, type: axis.kind, scale: true, data: axis.categories, minInterval: axis.integer ? 1 : undefined,
      axisLabel: { hideOverlap: true, fontSize: 10, formatter: axis.kind === "category" ? undefined : shortValue },
    })),
    yAxis: axes.map((_, i) => ({ gridIndex: i, type: "value", min: low, max: high,
      axisLabel: { fontSize: 10, formatter: shortValue } })),
    series: axes.flatMap((axis, i) => [
      { name: COMPLETED_SERIES, type: "scatter", xAxisIndex: i, yAxisIndex: i, symbolSize: 6, cursor: "pointer",
        data: points(completed, axis), itemStyle: { color: COLORS.completed, opacity: 0.7 } },
      { name: PRUNED_SERIES, type: "scatter", xAxisIndex: i, yAxisIndex: i, symbol: "emptyCircle",
        symbolSize: 6, cursor: "pointer", data: points(pruned, axis), itemStyle: { color: COLORS.pruned } },
    ]),
  };
  return { option, height: layout.height };
}
