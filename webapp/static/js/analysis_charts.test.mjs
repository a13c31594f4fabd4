// Unit tests for the analysis plots' options: `node --test webapp/static/js/analysis_charts.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { parallelLine, parallelOption } from "./parallel_chart.js";
import { MISSING, axisKind, byOutcome, paramAxes } from "./param_axes.js";
import { DRAWN, OFFERED, median, radarOption } from "./radar_chart.js";
import { sliceLayout, sliceOption } from "./slices_chart.js";
import {
  BEST_SERIES, COMPLETED_SERIES, PRUNED_SERIES, bestSoFar, bestTrial, historyOption, importanceOption,
} from "./study_charts.js";

// [number, status, score] as GET /analysis sends the history
const HISTORY = [[0, "completed", 0.5], [1, "pruned", 0.9], [2, "completed", 0.4], [3, "failed", null],
  [4, "completed", 0.7], [5, "running", null]];

const HEALTH = (v) => ({ neuron_utilization: v, parameter_efficiency: v, training_stability: v,
  gradient_health: v, convergence_quality: v, accuracy_consistency: v });
const row = (number, status, score, params, health = null) => ({
  number, status, total_score: score, val_accuracy: score, health_score: null, params, health });
const ROWS = [
  row(0, "completed", 0.5, { lr: 0.0001, act: "relu", units: 32, fixed: 3 }, HEALTH(0.5)),
  row(1, "pruned", 0.9, { lr: 0.01, act: "elu", units: 64, fixed: 3 }),
  row(2, "completed", 0.8, { lr: 0.05, act: "relu", units: 16, fixed: 3 }, HEALTH(0.9)),
  row(3, "failed", null, { lr: 0.001, act: "tanh", units: 8, fixed: 3 }),
  row(4, "completed", 0.6, { lr: 0.002, act: "relu", fixed: 3 }, HEALTH(0.7)),
];
const series = (option, name) => option.series.filter((s) => s.name === name);

test("the best so far follows completed trials only and runs to the last trial", () => {
  assert.deepEqual(bestSoFar(HISTORY), [[0, 0.5], [4, 0.7], [5, 0.7]]);
  // unordered, a completed trial without a finite score, a pruned one above every other
  assert.deepEqual(bestSoFar([[3, "completed", 0.7], [0, "completed", 0.5], [1, "pruned", 0.9],
    [2, "completed", NaN], [4, "completed", null], [6, "completed", 0.6]]), [[0, 0.5], [3, 0.7], [6, 0.7]]);
  assert.equal(bestTrial(HISTORY), 4); // trial 1 scored more, but it was pruned
  assert.deepEqual(bestSoFar([]), []);
  assert.equal(bestTrial([[2, "completed", 0.5], [1, "completed", 0.5]]), 1);
});

test("the history draws completed and pruned trials apart, and the best-so-far line", () => {
  const option = historyOption(HISTORY);
  assert.deepEqual(series(option, COMPLETED_SERIES)[0].data, [[0, 0.5], [2, 0.4], [4, 0.7]]);
  assert.deepEqual(series(option, PRUNED_SERIES)[0].data, [[1, 0.9]]);
  assert.equal(series(option, BEST_SERIES)[0].step, "end");
  assert.match(option.aria.label.description, /best so far 0\.7/);
});

test("importance bars are shares of their sum, the most important on top", () => {
  const option = importanceOption({ a: 2, b: 6, c: 0 });
  assert.deepEqual(option.yAxis.data, ["c", "a", "b"]); // the category axis draws bottom-up
  assert.deepEqual(option.series[0].data, [0, 0.25, 0.75]);
});

test("axes: parameters that vary, numbers on a log axis over two decades, texts as categories", () => {
  assert.equal(axisKind([0.0001, 0.05]), "log");
  assert.equal(axisKind([8, 64]), "value");
  assert.equal(axisKind([true, false]), "category");
  const axes = paramAxes(ROWS, ["units"]);
  assert.deepEqual(axes.map((a) => [a.name, a.kind]), [["units", "value"], ["act", "category"], ["lr", "log"]]);
  assert.deepEqual(axes[1].categories, ["elu", "relu", "tanh"]);
  assert.deepEqual(paramAxes([row(0, "completed", 1, { b: true }), row(1, "completed", 1, {})])[0].categories,
    [MISSING, "true"]);
  assert.deepEqual(byOutcome(ROWS).left, 1);
});

test("slices: one grid per parameter, completed and pruned series in each, laid out by width", () => {
  assert.deepEqual(sliceLayout(5, 1200).columns, 4);
  assert.deepEqual(sliceLayout(5, 390).columns, 1);
  const axes = paramAxes(ROWS);
  const { option, height } = sliceOption(ROWS, axes, { width: 390 });
  assert.equal(option.grid.length, axes.length);
  assert.equal(option.series.length, 2 * axes.length);
  assert.equal(height, sliceLayout(axes.length, 390).height);
  const units = axes.findIndex((a) => a.name === "units");
  const completed = option.series[2 * units];
  assert.equal(completed.name, COMPLETED_SERIES);
  assert.deepEqual(completed.data, [[32, 0.5, 0], [16, 0.8, 2]]); // trial 4 has no units: no dot
  assert.deepEqual(option.series[2 * units + 1].data, [[64, 0.9, 1]]);
});

test("parallel coordinates: an axis per parameter and the score, lines by outcome, narrow is vertical", () => {
  const axes = paramAxes(ROWS);
  assert.equal(parallelLine(ROWS[4], axes), null); // no units: no line
  const wide = parallelOption(ROWS, axes, { width: 1200 });
  assert.equal(wide.option.parallelAxis.length, axes.length + 1);
  assert.equal(wide.option.parallelAxis.at(-1).name, "Total score");
  assert.deepEqual(series(wide.option, COMPLETED_SERIES)[0].data.map((l) => l.number), [0, 2]);
  assert.deepEqual(series(wide.option, PRUNED_SERIES)[0].data.map((l) => l.number), [1]);
  assert.equal(wide.left, 2); // the failed trial and the one without units
  assert.equal(wide.option.visualMap.dimension, axes.length);
  const narrow = parallelOption(ROWS, axes, { width: 390 });
  assert.equal(narrow.option.parallel.layout, "vertical");
  assert.ok(narrow.height > wide.height - 200);
});

test("the radar offers the best-scored completed trials, draws the first few, and the median", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([1, 2, 3, 4]), 2.5);
  const option = radarOption(ROWS);
  const [trials, med] = option.series;
  assert.deepEqual(trials.data.map((d) => d.number), [2, 4, 0]);
  assert.ok(trials.data.length <= OFFERED);
  assert.deepEqual(med.data[0].value, Array(6).fill(0.7));
  assert.equal(Object.values(option.legend.selected).filter(Boolean).length, Math.min(DRAWN, 3) + 1);
  const compared = radarOption([ROWS[1], ROWS[0]], { compared: true });
  assert.equal(compared.series.length, 1); // no median in a comparison
  assert.deepEqual(compared.series[0].data.map((d) => d.number), [0]); // the pruned trial has no health
  assert.equal(compared.series[0].data[0].lineStyle.color, "#c2410c"); // its place's colour: second
});
