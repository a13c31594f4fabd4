// Unit tests for the trials' comparison's results and the picked trials: `node --test webapp/static/js/compare_trials_view.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { scoreRows } from "./compare_trials_view.js";
import { TrialSelection, compareHash, parseNumbers, toggled } from "./trial_selection.js";

const TRIALS = [
  { number: 3, status: "completed", val_accuracy: 0.91, total_score: 0.8, health_score: 0.6,
    metrics: { epochs_run: 3, param_count: 12000 } },
  { number: 7, status: "pruned", val_accuracy: 0.4, total_score: 0.4, health_score: null,
    metrics: { epochs_run: 1, param_count: 12000 } },
];

class MemoryStorage {
  constructor() { this.items = new Map(); }
  getItem(key) { return this.items.has(key) ? this.items.get(key) : null; }
  setItem(key, value) { this.items.set(key, String(value)); }
}

test("the result rows say how each trial ended and scored", () => {
  const rows = Object.fromEntries(scoreRows(TRIALS).map((r) => [r.name, r]));
  assert.deepEqual(rows.Status.values, ["Completed", "Pruned"]);
  assert.deepEqual(rows["Validation accuracy"].values, ["91.00%", "40.00%"]);
  assert.deepEqual(rows["Health score"].values, ["0.600", "—"]);
  assert.equal(rows["Parameters (weights)"].differs, false);
  assert.equal(rows["Epochs run"].differs, true);
});

test("two to four trials are picked; a fifth is refused; the address carries them", () => {
  assert.deepEqual(toggled([1, 2, 3, 4], 5), [1, 2, 3, 4]);
  assert.deepEqual(toggled([1, 2], 1), [2]);
  assert.deepEqual(parseNumbers("3,7,7,x,,9,10,11"), [3, 7, 9, 10]);
  assert.equal(compareHash("a b", [3, 7]), "#/jobs/a%20b/compare/3,7");
  const selection = new TrialSelection(new MemoryStorage());
  const heard = [];
  selection.subscribe((job, numbers) => heard.push([job, numbers]));
  selection.toggle("j1", 3);
  selection.toggle("j1", 7);
  selection.toggle("j2", 1);
  assert.deepEqual(selection.get("j1"), [3, 7]);
  assert.deepEqual(selection.get("j2"), [1]);
  assert.deepEqual(heard.at(-1), ["j2", [1]]);
  assert.deepEqual(new TrialSelection(undefined).get("j1"), []); // no storage: nothing kept
});
