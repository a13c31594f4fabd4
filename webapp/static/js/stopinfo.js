// Why and when a trial stopped, or where a running one is, as rows for its details
// dialog. Pure (no DOM): it reads the trial's record — metrics.prune_evidence with the
// threshold the rule judged by, metrics.last_progress and metrics.failure (written by
// the orchestrator, docs/api.md "Trials") — and a running trial's live progress.

import { PHASE_LABELS, duration, num, pct, when } from "./dom.js";

// Why a trial stopped early (metrics.prune_reason); docs/search.md defines each rule.
export const PRUNE_REASONS = {
  pruner: "Stopped by the pruner: behind the trials before it",
  diverged: "Stopped: the loss diverged",
  chance: "Stopped: no better than always guessing the majority class",
  too_slow: "Stopped: far slower than the median trial",
};

export function stopReason(trial) {
  if (trial.status !== "pruned") return "";
  return PRUNE_REASONS[trial.metrics?.prune_reason] || PRUNE_REASONS.pruner;
}

const finite = (value) => value !== null && value !== undefined && Number.isFinite(Number(value));
const loss = (value) => (finite(value) ? num(value, 3) : String(value ?? "—"));
const seconds = (value) => (finite(value) ? `${num(value, 1)} s` : "—");

// "epoch 2 of 3, batch 4" / "epoch 2 of 3 (evaluating)" from a progress record.
export function placeText(progress, epochs) {
  if (!progress) return "";
  const total = progress.epochs || epochs;
  const phase = progress.phase && progress.phase !== "training"
    ? ` (${(PHASE_LABELS[progress.phase] || progress.phase).toLowerCase()})` : "";
  if (!progress.epoch) return phase ? `before training${phase}` : "before its first epoch";
  let text = `epoch ${progress.epoch}${total ? ` of ${total}` : ""}`;
  if (progress.batch) text += `, batch ${progress.batch}`;
  else if (progress.phase === "training" && finite(progress.epoch_fraction) && progress.epoch_fraction < 1) {
    text += `, ${Math.round(progress.epoch_fraction * 100)}% through it`;
  }
  return text + phase;
}

// The threshold line of a pruned trial: what it measured against what the rule needed.
export function thresholdText(reason, e = {}) {
  if (reason === "pruner") {
    if (!finite(e.threshold)) return "The pruner's threshold was not recorded.";
    if (e.rule === "median") {
      return `Best validation accuracy ${pct(e.value, 1)} up to epoch ${e.judged_epoch}, below `
        + `${pct(e.threshold, 1)}: the median of the ${e.peers} completed trial${e.peers === 1 ? "" : "s"} at that epoch.`;
    }
    const bracket = e.rule === "hyperband" ? `, Hyperband bracket ${e.bracket}` : "";
    return `Validation accuracy ${pct(e.value, 1)} at rung ${e.rung} (epoch ${e.judged_epoch}${bracket}), `
      + `below ${pct(e.threshold, 1)}: the lowest of the best 1/${e.reduction_factor} among `
      + `${e.peers + 1} trials at that rung.`;
  }
  if (reason === "diverged") {
    return finite(e.limit) ? `Training loss ${loss(e.loss)}, above the limit ${num(e.limit, 1)} (100 × ln of the class count).`
      : `Training loss ${loss(e.loss)}: not finite or far above a uniform guess.`;
  }
  if (reason === "chance") {
    const parts = [`Validation accuracy ${pct(e.val_accuracy, 1)}`
      + (finite(e.accuracy_limit) ? `, at most ${pct(e.accuracy_limit, 1)} (chance ${pct(e.chance, 1)} + 1 point)` : ` (chance ${pct(e.chance, 1)})`)];
    const losses = finite(e.loss) ? `validation loss ${loss(e.val_loss)} and training loss ${loss(e.loss)}`
      : `validation loss ${loss(e.val_loss)}`;
    parts.push(finite(e.loss_limit) ? `${losses}, at least ${num(e.loss_limit, 3)} (about the class-prior loss ${num(e.prior_loss, 3)})`
      : `${losses} (class-prior loss ${num(e.prior_loss, 3)})`);
    return `${parts.join("; ")}.`;
  }
  if (reason === "too_slow") {
    const limit = finite(e.limit_seconds) ? e.limit_seconds : (finite(e.median_seconds) ? e.factor * e.median_seconds : null);
    return `Predicted ${seconds(e.predicted_seconds)} in all (${pct(e.fraction_done, 0)} of training after `
      + `${seconds(e.elapsed_seconds)}), above ${seconds(limit)}: ${e.factor ?? 3} × the median completed trial's ${seconds(e.median_seconds)}.`;
  }
  return "";
}

// Whose failure a failed or lost trial's was. Records written before metrics.failure
// existed still tell: a lost trial, or "lost N times", is the infrastructure's.
export function failureOf(trial) {
  const recorded = trial.metrics?.failure;
  if (recorded) return recorded;
  const error = trial.error || "";
  if (trial.status === "lost" || /^lost \d+ times/.test(error)) return { cause: "lost", infrastructure: true };
  const cause = error.includes(":") ? error.slice(0, error.indexOf(":")) : "error";
  return { cause, infrastructure: false };
}

function spanText(trial) {
  if (!trial.finished_at) return "—";
  const end = when(trial.finished_at);
  if (!trial.started_at) return end;
  const took = (new Date(trial.finished_at) - new Date(trial.started_at)) / 1000;
  return Number.isFinite(took) ? `${end}, ${duration(took)} after it started` : end;
}

// {caption, rows: [[label, text]]} for the dialog, or null when there is nothing to say
// (a completed trial that ran its every epoch). `live`: a running trial's last progress
// event; `reruns`: numbers of the trials that ran this one's parameters again (null: not
// known); `epochs`: the job's budget.
export function stopDetails(trial, { live = null, reruns = null, epochs = null } = {}) {
  const status = trial.status;
  const m = trial.metrics || {};
  if (status === "running") {
    return { caption: "Now", rows: [
      ["Phase", live ? PHASE_LABELS[live.phase] || live.phase : "Starting"],
      ["Where", live ? placeText(live, epochs) || "—" : "no progress yet"],
      ...(live?.metrics && finite(live.metrics.val_accuracy ?? live.metrics.accuracy)
        ? [[finite(live.metrics.val_accuracy) ? "Validation accuracy" : "Accuracy (this epoch)",
          pct(live.metrics.val_accuracy ?? live.metrics.accuracy, 1)]] : []),
      ["Running since", when(trial.started_at)],
    ] };
  }
  if (status === "queued") {
    return { caption: "Now", rows: [["Waiting for a worker since", when(trial.queued_at)]] };
  }
  if (status === "pruned") {
    const evidence = m.prune_evidence || {};
    const reason = m.prune_reason || "pruner";
    const where = evidence.epoch ? evidence : { epoch: m.pruned_at_epoch };
    return { caption: "Why and when it stopped", rows: [
      ["Stopped because", stopReason(trial)],
      ["Threshold", thresholdText(reason, evidence)],
      ["Stopped in", placeText(where, epochs) || "—"],
      ["Stopped at", spanText(trial)],
    ] };
  }
  if (status === "failed" || status === "lost") {
    const failure = failureOf(trial);
    const whose = failure.infrastructure
      ? "The infrastructure's: its worker was lost or could not reach a service, which says nothing about its parameters"
      : `Its own (${failure.cause}): the same parameters fail the same way`;
    const again = reruns?.length ? `Re-run as ${reruns.map((n) => `trial #${n}`).join(", ")}`
      : failure.rerun ? "Its parameters run again as a new trial"
        : failure.rerun === false || reruns ? "Not re-run" : "—";
    return { caption: "Why and when it stopped", rows: [
      ["Whose failure", whose],
      ["Re-runs", again],
      ["Stopped in", placeText(m.last_progress, epochs) || (trial.started_at ? "—" : "before it started")],
      ["Stopped at", spanText(trial)],
    ] };
  }
  if (status === "completed" && m.stopped_epoch) {
    return { caption: "Why it stopped early", rows: earlyStopRows(trial, epochs) };
  }
  if (status === "cancelled") {
    return { caption: "Why and when it stopped", rows: [
      ["Stopped because", "The job was cancelled"],
      ["Stopped in", placeText(m.last_progress, epochs) || (trial.started_at ? "—" : "before it started")],
      ["Stopped at", spanText(trial)],
    ] };
  }
  return null;
}

// Keras' EarlyStopping (gpu_worker/schedules.py) ends training `patience` epochs after
// the best one and restores that epoch's weights, whose metrics the trial reports.
function earlyStopRows(trial, epochs) {
  const m = trial.metrics;
  const patience = Number(trial.params?.early_stopping_patience);
  const known = Number.isInteger(patience) && patience > 0;
  const best = m.stopped_epoch - patience;
  return [
    ["Stopped because", known
      ? `Early stopping: validation accuracy had not improved for ${patience} epoch${patience === 1 ? "" : "s"}`
      : "Early stopping: validation accuracy had stopped improving"],
    ["Stopped in", placeText({ epoch: m.stopped_epoch }, epochs)],
    ["Weights kept", known && best >= 1
      ? `Epoch ${best}'s, the best (validation accuracy ${pct(trial.val_accuracy, 1)})`
      : `The best epoch's (validation accuracy ${pct(trial.val_accuracy, 1)})`],
    ["Stopped at", spanText(trial)],
  ];
}
