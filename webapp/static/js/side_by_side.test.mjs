// Unit tests for values side by side: `node --test webapp/static/js/side_by_side.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { paramDiff, sideRow } from "./side_by_side.js";

test("the parameter diff lists every parameter by name and marks those that differ", () => {
  const params = [{ units: 32, activation: "relu", lr: 0.0003 }, { units: 32, activation: "elu", batch_norm: true }];
  assert.deepEqual(paramDiff(params), [
    { name: "activation", values: ["relu", "elu"], differs: true },
    { name: "batch_norm", values: ["—", "true"], differs: true },
    { name: "lr", values: ["3.00e-4", "—"], differs: true },
    { name: "units", values: ["32", "32"], differs: false },
  ]);
  // a job without a best model yet has no parameters: its column reads missing
  assert.deepEqual(paramDiff([{ optimizer: "adam" }, undefined]),
    [{ name: "optimizer", values: ["adam", "—"], differs: true }]);
  assert.deepEqual(paramDiff([undefined, undefined]), []);
});

test("a row compares the values themselves, not their text", () => {
  assert.deepEqual(sideRow("lr", [0.00030001, 0.0003], (v) => v.toExponential(1)),
    { name: "lr", values: ["3.0e-4", "3.0e-4"], differs: true });
  assert.deepEqual(sideRow("gone", [null, undefined]), { name: "gone", values: ["—", "—"], differs: false });
});
