// Unit tests for the trial-state wording: `node --test webapp/static/js/trialstate.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  atChance, beatBest, budgetSummary, epochLabel, finishedText, splitText,
} from "./trialstate.js";

test("a replaced failed trial and a cancelled one do not count towards the budget", () => {
  const summary = budgetSummary({ completed: 3, pruned: 2, failed: 1, cancelled: 1 }, 6);
  assert.equal(summary.text, "5 / 6");
  assert.equal(splitText(summary.split), "3 completed · 2 pruned · 1 failed · 1 cancelled");
});

test("cancelled trials alone leave nothing done; lost trials are failures", () => {
  const summary = budgetSummary({ cancelled: 4, lost: 1, running: 1, queued: 2 }, 6);
  assert.equal(summary.text, "0 / 6");
  assert.equal(splitText(summary.split), "1 failed · 4 cancelled · 1 running · 2 queued");
  assert.equal(budgetSummary({}, undefined).text, "0");
});

test("the epoch label names the last epoch after training, without a percentage", () => {
  assert.equal(epochLabel({ phase: "training", epoch: 2, epochs: 2, epoch_fraction: 0.5 }),
    "Epoch 2/2 · 50%");
  for (const phase of ["evaluating", "computing_health", "holdout", "plotting", "saving", "uploading"]) {
    assert.equal(epochLabel({ phase, epoch: 2, epochs: 2, epoch_fraction: 1 }), "Epoch 2/2");
  }
  assert.equal(epochLabel({ phase: "building", epoch: 0, epochs: 2 }), "");
  assert.equal(epochLabel({ phase: "training", epoch: 0, epochs: 3, epoch_fraction: 0 }), "Epoch 1/3 · 0%");
});

test("a completed trial within the margin of its dataset's chance is flagged", () => {
  const trial = (status, val_accuracy) => ({ status, val_accuracy, metrics: { dataset: { chance: 0.11 } } });
  assert.equal(atChance(trial("completed", 0.115), 0.01), true);
  assert.equal(atChance(trial("completed", 0.13), 0.01), false);
  assert.equal(atChance(trial("pruned", 0.1), 0.01), false);
  assert.equal(atChance({ status: "completed", val_accuracy: 0.1, metrics: {} }, 0.01), false);
});

test("only a pruned trial that scored above the best completed one is explained", () => {
  const best = { number: 0, status: "completed", total_score: 0.8 };
  assert.equal(beatBest({ number: 4, status: "pruned", total_score: 0.9 }, best), true);
  assert.equal(beatBest({ number: 4, status: "pruned", total_score: 0.7 }, best), false);
  assert.equal(beatBest({ number: 4, status: "completed", total_score: 0.9 }, best), false);
  assert.equal(beatBest({ number: 4, status: "pruned", total_score: 0.9 }, null), false);
});

test("an ended trial is announced with its state, and its accuracy when it completed", () => {
  assert.equal(finishedText({ number: 3, status: "completed", val_accuracy: 0.931 }),
    "Trial #3 completed, validation accuracy 93.1%.");
  assert.equal(finishedText({ number: 4, status: "pruned", val_accuracy: 0.5 }), "Trial #4 pruned.");
  assert.equal(finishedText({ number: 5 }), "Trial #5 finished.");
});
