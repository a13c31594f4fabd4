// Unit tests for cloning and continuing a job: `node --test webapp/static/js/clone.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { carriedSettings, describeCarried, jobRequest } from "./clone.js";

const CONFIG = { dataset: "digits", trials: 8, concurrency: 2, epochs: 3, objective: "health",
  weights: { accuracy: 0.7 }, params: { conv_layers: 2, learning_rate: { low: 0.001, high: 0.01 } },
  space: "default", warm_start: false, initial_params: [], continue_from: "abc", hopeless_stop: true,
  pruner: "hyperband", seed: 42, data_seed: null, plot_mode: "best", max_train_samples: null,
  time_limit: null, name: "night" };

test("a clone carries every setting the form has no field for, empty ones left out", () => {
  assert.deepEqual(carriedSettings(CONFIG), { params: CONFIG.params, space: "default",
    warm_start: false, continue_from: "abc", hopeless_stop: true, pruner: "hyperband", seed: 42 });
  assert.deepEqual(describeCarried(carriedSettings(CONFIG)), ["params conv_layers 2, learning_rate low 1.00e-3 high 0.01",
    "space default", "warm start off", "continue from abc", "hopeless stop on", "pruner hyperband", "seed 42"]);
});

test("a continuation takes a fresh seed and continues only the job it comes from", () => {
  const carried = carriedSettings(CONFIG, { continuing: true });
  assert.equal("seed" in carried, false);
  assert.equal("continue_from" in carried, false);
  const body = jobRequest({ dataset: "digits", trials: 4 }, carried, "job1");
  assert.equal(body.continue_from, "job1");
  assert.equal(body.trials, 4);
  assert.equal(body.pruner, "hyperband");
  assert.deepEqual(jobRequest({ trials: 2 }, { trials: 9, pruner: "none" }), { trials: 2, pruner: "none" });
});
