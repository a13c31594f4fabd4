// Two jobs side by side, as pure data (no DOM; node --test checks it): each job's
// best-so-far curve, their best models' numbers and hyperparameters row by row, and the
// ECharts option that draws both curves on one chart.

import { HEALTH_LABELS, int, num, pct } from "./dom.js";
import { paramValue } from "./gallery.js";

// What the curves can follow: both are in every completed trial's record. Validation
// accuracy means the same in any two jobs; a total score only under the same objective.
export const CURVE_METRICS = {
  val_accuracy: { label: "Validation accuracy", format: (v) => pct(v, 1) },
  total_score: { label: "Total score", format: (v) => num(v, 4) },
};

// [[trial number, best value so far]] over the completed trials, in number order: one
// point per completed trial with a finite value (Optuna's optimization history).
export function bestSoFar(trials, key = "total_score") {
  const points = [];
  let best = -Infinity;
  const completed = trials
    .filter((t) => t.status === "completed" && Number.isFinite(Number(t[key])) && t[key] !== null)
    .sort((a, b) => a.number - b.number);
  for (const trial of completed) {
    best = Math.max(best, Number(trial[key]));
    points.push([trial.number, best]);
  }
  return points;
}

// The metric to draw first: the total score when both jobs score alike, else accuracy.
export function defaultMetric(a, b) {
  const objective = (job) => job?.config?.objective;
  return objective(a) && objective(a) === objective(b) ? "total_score" : "val_accuracy";
}

// The ECharts option: one step line per job (the best so far holds until beaten).
export const CURVE_COLORS = ["#1d4ed8", "#c2410c"]; // app.css .compare-key matches them

// What the chart says to a screen reader (ECharts' aria description on its role="img"):
// each job's last best and where it was reached; the table under the chart has every point.
export function curvesDescription(series, metric) {
  const { label, format } = CURVE_METRICS[metric];
  const ends = series.map(({ name, points }) => {
    if (!points.length) return `${name}: no completed trial.`;
    const [number, value] = points[points.length - 1];
    const first = points.findIndex(([, v]) => v === value);
    return `${name}: ${format(value)}, reached at trial #${points[first][0]}`
      + `${points[first][0] === number ? "" : ` and held to trial #${number}`}.`;
  });
  return [`Best ${label.toLowerCase()} so far by trial number.`, ...ends,
    "The table below lists every point."].join(" ");
}

export function curvesOption(series, metric) {
  const { label, format } = CURVE_METRICS[metric];
  return {
    animation: false,
    color: CURVE_COLORS,
    aria: { enabled: true, decal: { show: true },
      label: { description: curvesDescription(series, metric) } },
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

// Rows comparing the two best models: [label, text a, text b, differs].
export function modelRows(a, b) {
  const rows = [];
  const add = (label, read, format) => {
    const [x, y] = [a, b].map((best) => (best ? read(best) : undefined));
    rows.push([label, a ? format(x) : "—", b ? format(y) : "—", format(x) !== format(y)]);
  };
  add("Trial", (best) => best.trial, (v) => (v === undefined ? "—" : `#${v}`));
  add("Validation accuracy", (best) => best.val_accuracy, (v) => pct(v, 2));
  add("Test accuracy", (best) => best.metrics?.test_accuracy, (v) => pct(v, 2));
  add("Total score", (best) => best.total_score, (v) => num(v, 4));
  add("Health score", (best) => best.health_score, (v) => num(v, 3));
  for (const [key, label] of Object.entries(HEALTH_LABELS)) {
    add(label, (best) => best.health?.[key], (v) => num(v, 3));
  }
  add("Parameters", (best) => best.architecture?.total_params, int);
  add("Layers", (best) => best.architecture?.layers?.length, (v) => (v === undefined ? "—" : String(v)));
  return rows;
}

// Hyperparameter rows of both best models, every name either has: [name, a, b, differs].
export function paramRows(a = {}, b = {}) {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return names.map((name) => {
    const [x, y] = [a, b].map((params) => (name in params ? paramValue(params[name]) : "—"));
    return [name, x, y, x !== y];
  });
}
