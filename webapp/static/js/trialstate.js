// What a trial card and the summary tiles say about trial states, as pure functions
// (no DOM): the budget count split by state, the epoch label, the chance-level flag and
// why a pruned trial that scored higher is not the best.

import { pct } from "./dom.js";

// Trials that spend a job's budget (orchestrator/policy.py COUNTED): a failed trial is
// re-run and a cancelled one never finished, so neither counts towards "done".
export const BUDGET_STATES = ["completed", "pruned"];
// The split shown beside the count, in this order; lost trials are failures too.
const SPLIT = [
  ["completed", ["completed"]],
  ["pruned", ["pruned"]],
  ["failed", ["failed", "lost"]],
  ["cancelled", ["cancelled"]],
  ["running", ["running"]],
  ["queued", ["queued"]],
];

// counts: {status: n} from the API; budget: the job's trial budget (or undefined).
// -> {done, text: "5 / 6", split: [["completed", 3], ...] (only states with trials)}
export function budgetSummary(counts = {}, budget = undefined) {
  const n = (status) => Number(counts[status] || 0);
  const done = BUDGET_STATES.reduce((total, status) => total + n(status), 0);
  const split = SPLIT.map(([name, states]) => [name, states.reduce((t, s) => t + n(s), 0)])
    .filter(([, count]) => count > 0);
  const text = budget === undefined || budget === null ? String(done) : `${done} / ${budget}`;
  return { done, text, split };
}

export function splitText(split) {
  return split.map(([name, count]) => `${count} ${name}`).join(" · ");
}

// The epoch part of a card's progress line. Phases after training carry the epoch they
// ended on (gpu_worker/trainer.py); before the first epoch there is none to name.
export function epochLabel(data) {
  if (!data || !data.epochs) return "";
  const epoch = Number(data.epoch) || 0;
  if (data.phase === "training") {
    const within = Math.round((Number(data.epoch_fraction) || 0) * 100);
    return `Epoch ${Math.max(1, epoch)}/${data.epochs} · ${within}%`;
  }
  return epoch > 0 ? `Epoch ${epoch}/${data.epochs}` : "";
}

// A completed trial no better than always answering the majority class: its dataset
// summary carries that share (`chance`), `margin` is GET /scoring's `chance_margin`.
export function atChance(trial, margin) {
  const chance = trial?.metrics?.dataset?.chance;
  const accuracy = trial?.val_accuracy;
  if (trial?.status !== "completed" || !Number.isFinite(chance) || !Number.isFinite(accuracy)) {
    return false;
  }
  return accuracy <= chance + (Number(margin) || 0);
}

// A pruned trial whose score passed the best completed trial's: a score measured before
// it was stopped, of a model that never finished, so it cannot be the job's best.
export function beatBest(trial, best) {
  if (trial?.status !== "pruned" || !best || best.number === trial.number) return false;
  return Number.isFinite(trial.total_score) && Number.isFinite(best.total_score)
    && trial.total_score > best.total_score;
}

// What a screen reader hears as a trial ends (the job view's polite announcer).
export function finishedText(trial) {
  const accuracy = trial.status === "completed" && Number.isFinite(trial.val_accuracy)
    ? `, validation accuracy ${pct(trial.val_accuracy)}` : "";
  return `Trial #${trial.number} ${trial.status || "finished"}${accuracy}.`;
}
