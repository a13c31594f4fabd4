// Two jobs side by side, as pure data (no DOM; node --test checks it): each job's
// best-so-far curve and the ECharts option that draws both on one chart, their best models'
// numbers row by row (their hyperparameters: side_by_side.js's paramDiff).

import { PALETTE, baseOption } from "./chart_kit.js";
import { HEALTH_LABELS, int, num, pct } from "./dom.js";
import { sideRow } from "./side_by_side.js";
import { bestSoFar } from "./study_charts.js";

// What the curves can follow: both are in every completed trial's record. Validation
// accuracy means the same in any two jobs; a total score only under the same objective.
export const CURVE_METRICS = {
  val_accuracy: { label: "Validation accuracy", format: (v) => pct(v, 1) },
  total_score: { label: "Total score", format: (v) => num(v, 4) },
};

// A job's curve from its trial records: the job view's history's best so far, so a pruned
// trial (stopped before it finished training) is never the best here either.
export function jobBestSoFar(trials, metric) {
  return bestSoFar(trials.map((t) => [t.number, t.status, t[metric]]));
}

// The metric to draw first: the total score when both jobs score alike, else accuracy.
export function defaultMetric(a, b) {
  const objective = (job) => job?.config?.objective;
  return objective(a) && objective(a) === objective(b) ? "total_score" : "val_accuracy";
}

// The ECharts option: one step line per job (the best so far holds until beaten), in the
// compared things' colours. series: [{name, points: [[trial number, best so far]]}]
export function bestSoFarOption(series, metric) {
  const { label, format } = CURVE_METRICS[metric];
  return {
    ...baseOption(`Best ${label.toLowerCase()} so far by trial number: ${series.map(({ name, points }) =>
      `${name} ${points.length ? format(points.at(-1)[1]) : "none yet"}`).join("; ")}.`),
    color: PALETTE,
    grid: { left: 64, right: 24, top: 40, bottom: 48 },
    legend: { top: 0, type: "scroll" },
    tooltip: { trigger: "axis", valueFormatter: format },
    xAxis: { type: "value", name: "Trial number", nameLocation: "middle", nameGap: 28,
      minInterval: 1 },
    yAxis: { type: "value", name: `Best ${label.toLowerCase()} so far`, nameLocation: "middle",
      nameGap: 48, scale: true, axisLabel: { formatter: format } },
    series: series.map(({ name, points }, i) => ({
      name, type: "line", step: "end", symbol: i ? "diamond" : "circle", symbolSize: 8,
      lineStyle: { width: 2.5, type: i ? "dashed" : "solid" }, data: points,
    })),
  };
}

// Rows comparing the best models (one may be missing: no best yet), as side_by_side.js's.
export function modelRows(bests) {
  const row = (name, read, format) => sideRow(name, bests.map((best) => (best ? read(best) : undefined)), format);
  return [
    row("Trial", (best) => best.trial, (v) => `#${v}`),
    row("Validation accuracy", (best) => best.val_accuracy, (v) => pct(v, 2)),
    row("Test accuracy", (best) => best.metrics?.test_accuracy, (v) => pct(v, 2)),
    row("Total score", (best) => best.total_score, (v) => num(v, 4)),
    row("Health score", (best) => best.health_score, (v) => num(v, 3)),
    ...Object.entries(HEALTH_LABELS).map(([key, label]) => row(label, (best) => best.health?.[key], (v) => num(v, 3))),
    row("Parameters", (best) => best.architecture?.total_params, int),
    row("Layers", (best) => best.architecture?.layers?.length),
  ];
}
