// Unit tests for why and when a trial stopped: `node --test webapp/static/js/stopinfo.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { failureOf, placeText, stopDetails, stopReason, thresholdText } from "./stopinfo.js";

const rows = (details) => Object.fromEntries(details.rows);
const TIMES = { started_at: "2025-01-01T10:00:00Z", finished_at: "2025-01-01T10:00:08Z" };

test("a pruned trial names its rule, the threshold it missed, where and when", () => {
  const trial = { status: "pruned", ...TIMES, metrics: { prune_reason: "pruner", pruned_at_epoch: 3,
    prune_evidence: { epoch: 3, batch: 2, rule: "median", judged_epoch: 2, value: 0.4,
      threshold: 0.71, peers: 5 } } };
  const details = stopDetails(trial, { epochs: 4 });
  assert.equal(details.caption, "Why and when it stopped");
  const r = rows(details);
  assert.equal(r["Stopped because"], stopReason(trial));
  assert.equal(r.Threshold, "Best validation accuracy 40.0% up to epoch 2, below 71.0%: "
    + "the median of the 5 completed trials at that epoch.");
  assert.equal(r["Stopped in"], "epoch 3 of 4, batch 2");
  assert.match(r["Stopped at"], /, 8s after it started$/);
});

test("each rule's threshold reads as the rule judged it", () => {
  assert.equal(thresholdText("pruner", { rule: "successive_halving", judged_epoch: 3, rung: 1,
    value: 0.5, threshold: 0.8, peers: 6, reduction_factor: 3 }),
  "Validation accuracy 50.0% at rung 1 (epoch 3), below 80.0%: the lowest of the best 1/3 among 7 trials at that rung.");
  assert.match(thresholdText("pruner", { rule: "hyperband", bracket: 2, judged_epoch: 9, rung: 0,
    value: 0.5, threshold: 0.8, peers: 2, reduction_factor: 3 }), /epoch 9, Hyperband bracket 2\)/);
  assert.equal(thresholdText("diverged", { loss: "nan", limit: 230.2585 }),
    "Training loss nan, above the limit 230.3 (100 × ln of the class count).");
  assert.equal(thresholdText("chance", { val_accuracy: 0.11, chance: 0.107, accuracy_limit: 0.117,
    val_loss: 2.31, loss: 2.3, prior_loss: 2.302, loss_limit: 2.233 }),
  "Validation accuracy 11.0%, at most 11.7% (chance 10.7% + 1 point); validation loss 2.310 "
    + "and training loss 2.300, at least 2.233 (about the class-prior loss 2.302).");
  assert.equal(thresholdText("too_slow", { elapsed_seconds: 24, fraction_done: 0.2,
    predicted_seconds: 120, median_seconds: 20, factor: 3, limit_seconds: 60 }),
  "Predicted 120.0 s in all (20% of training after 24.0 s), above 60.0 s: 3 × the median completed trial's 20.0 s.");
  assert.equal(thresholdText("pruner", { epoch: 2 }), "The pruner's threshold was not recorded.");
});

test("a failed trial says whose failure it was and what ran again", () => {
  const own = { status: "failed", ...TIMES, error: "out of memory: OOM when allocating",
    metrics: { failure: { cause: "out of memory", infrastructure: false, rerun: false },
      last_progress: { phase: "training", epoch: 2, epochs: 4, epoch_fraction: 0.5 } } };
  let r = rows(stopDetails(own));
  assert.match(r["Whose failure"], /^Its own \(out of memory\)/);
  assert.equal(r["Re-runs"], "Not re-run");
  assert.equal(r["Stopped in"], "epoch 2 of 4, 50% through it");
  const lost = { status: "lost", error: "no heartbeat from gpu-1 for over 30s", ...TIMES,
    metrics: { failure: { cause: "lost", infrastructure: true, rerun: true } } };
  r = rows(stopDetails(lost, { reruns: [7] }));
  assert.match(r["Whose failure"], /^The infrastructure's/);
  assert.equal(r["Re-runs"], "Re-run as trial #7");
  assert.equal(r["Stopped in"], "—");
  const older = { status: "failed", error: "lost 4 times, the last: x", ...TIMES };
  assert.equal(rows(stopDetails(older))["Re-runs"], "—"); // no record, no list: not known
  assert.equal(rows(stopDetails(older, { reruns: [] }))["Re-runs"], "Not re-run");
  // records from before metrics.failure: the error still tells
  assert.deepEqual(failureOf({ status: "failed", error: "lost 4 times, the last: x" }),
    { cause: "lost", infrastructure: true });
  assert.deepEqual(failureOf({ status: "failed", error: "bad data: no such file" }),
    { cause: "bad data", infrastructure: false });
});

test("a cancelled trial says where it was; one never started says so", () => {
  const r = rows(stopDetails({ status: "cancelled", ...TIMES,
    metrics: { last_progress: { phase: "evaluating", epoch: 3, epochs: 3, epoch_fraction: 1 } } }));
  assert.equal(r["Stopped because"], "The job was cancelled");
  assert.equal(r["Stopped in"], "epoch 3 of 3 (evaluating)");
  assert.equal(rows(stopDetails({ status: "cancelled", finished_at: TIMES.finished_at }))["Stopped in"],
    "before it started");
});

test("a running trial shows its phase and epoch now; a completed one has nothing to add", () => {
  const details = stopDetails({ status: "running", started_at: TIMES.started_at }, {
    live: { phase: "training", epoch: 2, epochs: 5, epoch_fraction: 0.25,
      metrics: { accuracy: 0.5 } } });
  assert.equal(details.caption, "Now");
  const r = rows(details);
  assert.equal(r.Phase, "Training");
  assert.equal(r.Where, "epoch 2 of 5, 25% through it");
  assert.equal(r["Accuracy (this epoch)"], "50.0%");
  assert.equal(rows(stopDetails({ status: "running" })).Where, "no progress yet");
  assert.equal(placeText({ phase: "building", epoch: 0, epochs: 3 }), "before training (building model)");
  assert.equal(stopDetails({ status: "completed" }), null);
});

test("a completed trial that early stopping ended says when, why and whose weights it kept", () => {
  const trial = { status: "completed", ...TIMES, params: { early_stopping_patience: 3 },
    val_accuracy: 0.912, metrics: { stopped_epoch: 9 } };
  const details = stopDetails(trial, { epochs: 20 });
  assert.equal(details.caption, "Why it stopped early");
  const r = rows(details);
  assert.equal(r["Stopped because"], "Early stopping: validation accuracy had not improved for 3 epochs");
  assert.equal(r["Stopped in"], "epoch 9 of 20");
  assert.equal(r["Weights kept"], "Epoch 6's, the best (validation accuracy 91.2%)");
  assert.match(r["Stopped at"], /, 8s after it started$/);
  const unknown = rows(stopDetails({ ...trial, params: {} }, { epochs: 20 }));
  assert.equal(unknown["Stopped because"], "Early stopping: validation accuracy had stopped improving");
  assert.equal(unknown["Weights kept"], "The best epoch's (validation accuracy 91.2%)");
  assert.equal(stopDetails({ status: "completed", metrics: { stopped_epoch: null } }), null);
});
