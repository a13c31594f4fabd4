// Unit tests for the slider rebalancing: `node --test webapp/static/js/weights.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { apportion, rebalance, sum, toFractions, toPercents } from "./weights.js";

const DEFAULTS = {
  neuron_utilization: 0.25,
  parameter_efficiency: 0.15,
  training_stability: 0.2,
  gradient_health: 0.15,
  convergence_quality: 0.15,
  accuracy_consistency: 0.1,
};

test("defaults become integer percents summing to 100", () => {
  const percents = toPercents(DEFAULTS);
  assert.deepEqual(percents, {
    neuron_utilization: 25,
    parameter_efficiency: 15,
    training_stability: 20,
    gradient_health: 15,
    convergence_quality: 15,
    accuracy_consistency: 10,
  });
  assert.equal(sum(percents), 100);
});

test("thirds are apportioned by largest remainder, ties to the earlier key", () => {
  assert.deepEqual(toPercents({ a: 1, b: 1, c: 1 }), { a: 34, b: 33, c: 33 });
  assert.deepEqual(apportion({ a: 0, b: 0 }, 7), { a: 4, b: 3 });
  assert.deepEqual(apportion({}, 100), {});
});

test("moving one weight redistributes the difference proportionally", () => {
  const moved = rebalance({ a: 50, b: 30, c: 20 }, "a", 80);
  assert.deepEqual(moved, { a: 80, b: 12, c: 8 });
  const down = rebalance({ a: 50, b: 30, c: 20 }, "a", 0);
  assert.deepEqual(down, { a: 0, b: 60, c: 40 });
});

test("two weights (accuracy vs health) mirror each other", () => {
  assert.deepEqual(rebalance({ accuracy: 70, health: 30 }, "accuracy", 55), {
    accuracy: 55,
    health: 45,
  });
  assert.deepEqual(rebalance({ accuracy: 70, health: 30 }, "health", 100), {
    accuracy: 0,
    health: 100,
  });
});

test("others at zero share an increase equally", () => {
  const moved = rebalance({ a: 100, b: 0, c: 0 }, "a", 40);
  assert.deepEqual(moved, { a: 40, b: 30, c: 30 });
});

test("values are clamped and rounded", () => {
  assert.deepEqual(rebalance({ a: 50, b: 50 }, "a", 140), { a: 100, b: 0 });
  assert.deepEqual(rebalance({ a: 50, b: 50 }, "a", -3), { a: 0, b: 100 });
  assert.deepEqual(rebalance({ a: 50, b: 50 }, "a", 33.6), { a: 34, b: 66 });
  assert.deepEqual(rebalance({ a: 50, b: 50 }, "a", "nonsense"), { a: 0, b: 100 });
});

test("a single weight is always 100", () => {
  assert.deepEqual(rebalance({ only: 100 }, "only", 20), { only: 100 });
});

test("unknown names are rejected", () => {
  assert.throws(() => rebalance({ a: 100 }, "b", 10), /unknown weight b/);
});

test("every move of every slider keeps integers totalling exactly 100", () => {
  let percents = toPercents(DEFAULTS);
  const names = Object.keys(percents);
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let step = 0; step < 2000; step += 1) {
    const name = names[Math.floor(random() * names.length)];
    percents = rebalance(percents, name, random() * 110 - 5);
    assert.equal(sum(percents), 100, JSON.stringify(percents));
    for (const value of Object.values(percents)) {
      assert.ok(Number.isInteger(value) && value >= 0 && value <= 100);
    }
  }
});

test("fractions for the API sum to 1", () => {
  const fractions = toFractions({ a: 33, b: 33, c: 34 });
  assert.ok(Math.abs(Object.values(fractions).reduce((x, y) => x + y, 0) - 1) < 1e-12);
  assert.equal(fractions.c, 0.34);
});
