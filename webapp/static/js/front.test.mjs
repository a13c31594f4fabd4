// Unit tests for the Pareto chart's option: `node --test webapp/static/js/front.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { DOMINATED_SERIES, FRONT_SERIES, frontOption } from "./front.js";

const FRONT = {
  objectives: ["val_accuracy", "health_score"],
  best_trial: 1,
  front: [
    { number: 0, val_accuracy: 0.9, health_score: 0.5, total_score: 0.78, params: {}, model_url: "/m0" },
    { number: 1, val_accuracy: 0.8, health_score: 0.8, total_score: 0.8, params: {}, model_url: "/m1" },
  ],
  dominated: [{ number: 2, val_accuracy: 0.7, health_score: 0.6, total_score: 0.67 }],
};

const series = (option, name) => option.series.find((s) => s.name === name);

test("front members and dominated trials are separate series, each point naming its trial", () => {
  const option = frontOption(FRONT);
  assert.deepEqual(series(option, FRONT_SERIES).data.map((p) => [p.number, p.value]),
    [[0, [0.9, 0.5]], [1, [0.8, 0.8]]]);
  assert.deepEqual(series(option, DOMINATED_SERIES).data.map((p) => [p.number, p.value]), [[2, [0.7, 0.6]]]);
});

test("the best member is marked and the front line runs from healthiest to most accurate", () => {
  const option = frontOption(FRONT);
  const [first, best] = series(option, FRONT_SERIES).data;
  assert.equal(best.symbol, "diamond");
  assert.equal(first.symbol, undefined);
  assert.deepEqual(series(option, "front line").data, [[0.8, 0.8], [0.9, 0.5]]);
});

test("the axes start below the lowest point and end at 1", () => {
  const option = frontOption(FRONT);
  assert.ok(option.xAxis.min <= 0.7 && option.xAxis.min >= 0.6, option.xAxis.min);
  assert.ok(option.yAxis.min <= 0.5 && option.yAxis.min >= 0.4, option.yAxis.min);
  assert.equal(option.xAxis.max, 1);
  const empty = frontOption({ front: [], dominated: [], best_trial: null });
  assert.equal(empty.xAxis.min, 0);
});
