// Unit tests for the learning curves' live store and option: `node --test webapp/static/js/curves_chart.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CurveStore, curvePoints, curvesOption } from "./curves_chart.js";

const ANALYSIS = {
  trials: [{ number: 0, status: "completed", total_score: 0.8 }, { number: 1, status: "running", total_score: null }],
  curves: { 0: { 2: 0.8, 1: 0.5 }, 1: { 1: 0.3 } },
};
const progress = (trial, epoch, value, fraction = 1, phase = "training") => ({
  type: "trial_progress", trial,
  data: { phase, epoch, epochs: 3, epoch_fraction: fraction, fraction: epoch / 3, metrics: { val_accuracy: value } },
});

test("a curve grows by one point at each epoch's end, and only then", () => {
  const store = new CurveStore();
  store.load(ANALYSIS);
  assert.deepEqual(curvePoints(store.get(0).points), [[1, 0.5], [2, 0.8]]);
  assert.equal(store.apply(progress(1, 2, 0.6, 0.5)), false); // mid-epoch: no value yet
  assert.equal(store.apply(progress(1, 2, 0.6, 1, "evaluating")), false);
  assert.equal(store.apply(progress(1, 2, 0.6)), true);
  assert.equal(store.apply(progress(1, 2, 0.6)), false); // the same epoch again (a replay)
  assert.deepEqual(curvePoints(store.get(1).points), [[1, 0.3], [2, 0.6]]);
});

test("a new trial starts a curve; a finished one takes its status; a reload keeps live epochs", () => {
  const store = new CurveStore();
  store.load(ANALYSIS);
  assert.equal(store.apply({ type: "trial_started", trial: 5, data: { params: {}, worker: "w" } }), true);
  store.apply(progress(5, 1, 0.4));
  store.apply(progress(1, 2, 0.6));
  assert.equal(store.get(5).status, "running");
  store.apply({ type: "trial_finished", trial: 0, data: { status: "completed", result: { total_score: 0.9 } } });
  assert.equal(store.get(0).score, 0.9);
  store.load(ANALYSIS); // read before the events reached the records
  assert.deepEqual(curvePoints(store.get(1).points), [[1, 0.3], [2, 0.6]]);
  assert.deepEqual(curvePoints(store.get(5).points), [[1, 0.4]]);
  assert.equal(store.apply({ type: "job_progress", trial: null, data: {} }), false);
});

test("one line per trial with a point, coloured by state, the best gold, points naming their trial", () => {
  const store = new CurveStore();
  store.load(ANALYSIS);
  store.apply({ type: "trial_started", trial: 7, data: {} }); // no epoch yet: no line
  const option = curvesOption([...store.curves], { best: 0 });
  assert.deepEqual(option.series.map((s) => s.name), ["Trial #0", "Trial #1"]);
  assert.equal(option.series[0].lineStyle.color, "#ca8a04");
  assert.equal(option.series[1].lineStyle.color, "#ea580c");
  assert.deepEqual(option.series[0].data[1], { value: [2, 0.8], number: 0, status: "completed" });
  assert.equal(option.legend.show, false);
  const compared = curvesOption([...store.curves], { palette: true });
  assert.equal(compared.series[0].lineStyle.color, "#1d4ed8");
  assert.notEqual(compared.legend.show, false);
});
