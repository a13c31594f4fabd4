// Unit tests for comparing two jobs: `node --test webapp/static/js/compare_jobs.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  bestSoFar, curvesDescription, curvesOption, defaultMetric, modelRows, paramRows,
} from "./compare_jobs.js";

test("the best so far rises at each new best and holds otherwise, by trial number", () => {
  const trials = [
    { number: 3, status: "completed", total_score: 0.7 },
    { number: 0, status: "completed", total_score: 0.5 },
    { number: 1, status: "pruned", total_score: 0.9 }, // a stopped trial is never the best
    { number: 2, status: "completed", total_score: 0.4 },
    { number: 4, status: "failed", total_score: null },
    { number: 5, status: "completed", total_score: null },
    { number: 6, status: "completed", total_score: 0.8 },
  ];
  assert.deepEqual(bestSoFar(trials), [[0, 0.5], [2, 0.5], [3, 0.7], [6, 0.8]]);
  assert.deepEqual(bestSoFar(trials, "val_accuracy"), []);
  assert.deepEqual(bestSoFar([]), []);
});

test("curves follow the total score only when both jobs share the objective", () => {
  const job = (objective) => ({ config: { objective } });
  assert.equal(defaultMetric(job("health"), job("health")), "total_score");
  assert.equal(defaultMetric(job("simple"), job("health")), "val_accuracy");
  assert.equal(defaultMetric(job("health"), { config: {} }), "val_accuracy");
  const option = curvesOption([{ name: "a", points: [[0, 0.5]] }, { name: "b", points: [] }],
    "val_accuracy");
  assert.deepEqual(option.series.map((s) => [s.name, s.step, s.lineStyle.type]),
    [["a", "end", "solid"], ["b", "end", "dashed"]]);
  assert.equal(option.yAxis.name, "Best validation accuracy so far");
  assert.equal(option.yAxis.axisLabel.formatter(0.5), "50.0%");
});

test("the chart's description names each job's best so far and where it was reached", () => {
  const series = [{ name: "Night", points: [[0, 0.8], [2, 0.93], [5, 0.93]] },
    { name: "Day", points: [] }];
  const text = "Best validation accuracy so far by trial number. Night: 93.0%, reached at trial #2 "
    + "and held to trial #5. Day: no completed trial. The table below lists every point.";
  assert.equal(curvesDescription(series, "val_accuracy"), text);
  assert.equal(curvesOption(series, "val_accuracy").aria.label.description, text);
});

test("best models line up row by row and their differences are marked", () => {
  const a = { trial: 4, val_accuracy: 0.95, total_score: 0.9, health_score: 0.8,
    metrics: { test_accuracy: 0.94 }, health: { neuron_utilization: 0.9 },
    architecture: { total_params: 12345, layers: [{}, {}] } };
  const b = { ...a, trial: 2, val_accuracy: 0.9, architecture: { total_params: 12345, layers: [{}] } };
  const rows = Object.fromEntries(modelRows(a, b).map(([label, ...rest]) => [label, rest]));
  assert.deepEqual(rows.Trial, ["#4", "#2", true]);
  assert.deepEqual(rows["Validation accuracy"], ["95.00%", "90.00%", true]);
  assert.deepEqual(rows.Parameters, ["12,345", "12,345", false]);
  assert.deepEqual(rows.Layers, ["2", "1", true]);
  assert.deepEqual(rows["Neuron utilization"], ["0.900", "0.900", false]);
  assert.deepEqual(rows["Gradient health"], ["—", "—", false]);
  const missing = Object.fromEntries(modelRows(a, null).map(([label, ...rest]) => [label, rest]));
  assert.deepEqual(missing["Total score"], ["0.9000", "—", true]);
});

test("hyperparameters are listed by name, a name only one model has shown as missing", () => {
  assert.deepEqual(paramRows({ optimizer: "adam", learning_rate: 0.001, filters: 32 },
    { optimizer: "adam", learning_rate: 0.0025, dropout: 0.25 }), [
    ["dropout", "—", "0.25", true],
    ["filters", "32", "—", true],
    ["learning_rate", "1.00e-3", "2.50e-3", true],
    ["optimizer", "adam", "adam", false],
  ]);
});
