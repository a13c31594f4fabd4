// Unit tests for comparing two jobs: `node --test webapp/static/js/compare_jobs.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { bestSoFarOption, defaultMetric, jobBestSoFar, modelRows } from "./compare_jobs.js";

test("a job's curve is its history's best so far, by the metric asked for", () => {
  const trials = [
    { number: 2, status: "completed", total_score: 0.4, val_accuracy: 0.9 },
    { number: 0, status: "completed", total_score: 0.5, val_accuracy: 0.8 },
    { number: 1, status: "pruned", total_score: 0.9, val_accuracy: 0.95 }, // never the best
  ];
  assert.deepEqual(jobBestSoFar(trials, "total_score"), [[0, 0.5], [2, 0.5]]);
  assert.deepEqual(jobBestSoFar(trials, "val_accuracy"), [[0, 0.8], [2, 0.9]]);
  assert.deepEqual(jobBestSoFar([], "val_accuracy"), []);
});

test("curves follow the total score only when both jobs share the objective", () => {
  const job = (objective) => ({ config: { objective } });
  assert.equal(defaultMetric(job("health"), job("health")), "total_score");
  assert.equal(defaultMetric(job("simple"), job("health")), "val_accuracy");
  assert.equal(defaultMetric(job("health"), { config: {} }), "val_accuracy");
  const option = bestSoFarOption([{ name: "a", points: [[0, 0.5]] }, { name: "b", points: [] }],
    "val_accuracy");
  assert.deepEqual(option.series.map((s) => [s.name, s.step, s.lineStyle.type]),
    [["a", "end", "solid"], ["b", "end", "dashed"]]);
  assert.equal(option.yAxis.name, "Best validation accuracy so far");
  assert.equal(option.yAxis.axisLabel.formatter(0.5), "50.0%");
  assert.match(option.aria.label.description, /a 50\.0%; b none yet/);
});

test("best models line up row by row and their differences are marked", () => {
  const a = { trial: 4, val_accuracy: 0.95, total_score: 0.9, health_score: 0.8,
    metrics: { test_accuracy: 0.94 }, health: { neuron_utilization: 0.9 },
    architecture: { total_params: 12345, layers: [{}, {}] } };
  const b = { ...a, trial: 2, val_accuracy: 0.9, architecture: { total_params: 12345, layers: [{}] } };
  const byName = (rows) => Object.fromEntries(rows.map((r) => [r.name, [...r.values, r.differs]]));
  const rows = byName(modelRows([a, b]));
  assert.deepEqual(rows.Trial, ["#4", "#2", true]);
  assert.deepEqual(rows["Validation accuracy"], ["95.00%", "90.00%", true]);
  assert.deepEqual(rows.Parameters, ["12,345", "12,345", false]);
  assert.deepEqual(rows.Layers, ["2", "1", true]);
  assert.deepEqual(rows["Neuron utilization"], ["0.900", "0.900", false]);
  assert.deepEqual(rows["Gradient health"], ["—", "—", false]);
  const missing = byName(modelRows([a, null]));
  assert.deepEqual(missing["Total score"], ["0.9000", "—", true]);
});
