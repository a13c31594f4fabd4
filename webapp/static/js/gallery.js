// The trial gallery: one card per trial, updated in place as events arrive, and the
// details dialog of a trial in any state (what its record holds so far).

import { urls } from "./api.js";
import {
  HEALTH_LABELS,
  PHASE_LABELS,
  PLOT_LABELS,
  PLOT_NAMES,
  TRIAL_ACTIVE,
  clear,
  duration,
  h,
  int,
  keepTabIn,
  label,
  num,
  pct,
  statusBadge,
  when,
} from "./dom.js";
import { disposeCharts, jobEvidence, paramsTable } from "./hyperparameters.js";
import { stopDetails, stopReason } from "./stopinfo.js";
import { atChance, beatBest, epochLabel } from "./trialstate.js";

const PAGE = 48;
const METRIC_KEYS = ["val_loss", "test_accuracy", "test_loss", "epochs_run", "param_count",
  "timings", "plots", "pruned_at_epoch", "prune_reason", "prune_evidence", "dataset"];
// Ended without finishing: the card shows the state, not the last training progress.
const STOPPED = new Set(["cancelled", "failed", "lost", "pruned"]);
export const ORIGINS = { warm_start: "Warm start", initial: "Your starting point", retry: "Re-run" };

// A trial record from a trial_finished event's `result` (the worker's summary).
export function trialFromResult(number, data) {
  const result = data.result || {};
  const metrics = {};
  for (const key of METRIC_KEYS) if (key in result) metrics[key] = result[key];
  const trial = { number, status: data.status || result.status, error: data.error || result.error };
  for (const key of ["params", "architecture_summary", "health", "health_score", "total_score",
    "val_accuracy", "worker", "holdout"]) {
    if (result[key] !== undefined) trial[key] = result[key];
  }
  if (Object.keys(metrics).length) trial.metrics = metrics;
  return trial;
}

export function paramValue(value) {
  if (typeof value !== "number" || Number.isInteger(value)) return String(value);
  return Math.abs(value) < 0.01 ? value.toExponential(2) : String(Number(value.toPrecision(3)));
}

function paramsLine(params) {
  if (!params) return "";
  return Object.entries(params)
    .slice(0, 8)
    .map(([k, v]) => `${k.replace(/_/g, " ")} ${paramValue(v)}`)
    .join(" · ");
}

export class Gallery {
  // cardTools(number): extra controls for a card (the Compare box), or null
  constructor(container, moreButton, { onDetails, cardTools = () => null }) {
    this.container = container;
    this.moreButton = moreButton;
    this.onDetails = onDetails;
    this.cardTools = cardTools;
    this.trials = new Map();
    this.progress = new Map();
    this.cards = new Map();
    this.best = null;
    this.limit = PAGE;
    this.jobId = null;
    this.chanceMargin = 0; // GET /scoring's chance_margin (app.js sets it)
    moreButton.addEventListener("click", () => {
      this.limit += PAGE;
      this.layout();
    });
  }

  reset(jobId) {
    this.jobId = jobId;
    this.trials.clear();
    this.progress.clear();
    this.cards.clear();
    this.best = null;
    this.limit = PAGE;
    this.loading = true;
    clear(this.container);
    this.layout();
  }

  // The first full list has arrived: an empty gallery now means "no trials yet".
  loaded() {
    if (!this.loading) return;
    this.loading = false;
    this.layout();
  }

  get size() {
    return this.trials.size;
  }

  // Merge a (possibly partial) trial record and redraw its card.
  upsert(trial) {
    const number = Number(trial.number);
    const merged = { ...(this.trials.get(number) || {}), ...trial, number };
    this.trials.set(number, merged);
    if (!TRIAL_ACTIVE.has(merged.status)) {
      const p = this.progress.get(number);
      if (p && merged.status === "completed") this.progress.set(number, { ...p, phase: "done", epoch_fraction: 1, fraction: 1 });
    }
    if (!this.cards.has(number)) this.layout();
    else this.draw(number);
  }

  setProgress(number, data) {
    this.progress.set(number, data);
    const trial = this.trials.get(number);
    if (!trial) {
      this.upsert({ number, status: "running" });
      return;
    }
    if (trial.status !== "running" && TRIAL_ACTIVE.has(trial.status)) {
      trial.status = "running";
      this.draw(number);
      return;
    }
    const card = this.cards.get(number);
    if (card) this.drawProgress(card, trial, data);
  }

  setBest(number) {
    if (this.best === number) return;
    const previous = this.best;
    this.best = number;
    for (const n of [previous, number]) if (n !== null && this.cards.has(n)) this.draw(n);
    // a pruned card says whether it scored above the best: that changed too
    for (const [n, trial] of this.trials) if (trial.status === "pruned" && this.cards.has(n)) this.draw(n);
  }

  // Newest first; only the first `limit` trials are in the DOM.
  layout() {
    const numbers = [...this.trials.keys()].sort((a, b) => b - a);
    const shown = numbers.slice(0, this.limit);
    const keep = new Set(shown);
    for (const [n, card] of this.cards) {
      if (!keep.has(n)) {
        card.remove();
        this.cards.delete(n);
      }
    }
    let previous = null;
    for (const n of shown) {
      let card = this.cards.get(n);
      if (!card) {
        card = this.createCard(n);
        this.cards.set(n, card);
        this.draw(n);
      }
      const want = previous ? previous.nextSibling : this.container.firstChild;
      if (want !== card) this.container.insertBefore(card, want);
      previous = card;
    }
    this.moreButton.hidden = numbers.length <= this.limit;
    this.moreButton.textContent = `Show more trials (${numbers.length - shown.length} hidden)`;
    if (numbers.length === 0) {
      this.container.replaceChildren(h("p", { class: "muted empty-gallery", role: "status" },
        this.loading ? "Loading trials…" : "No trials yet."));
    } else {
      this.container.querySelector(".empty-gallery")?.remove();
    }
  }

  createCard(number) {
    const id = `trial-${number}-title`;
    const epochBar = h("progress", { class: "bar bar--epoch", max: 1, value: 0, "aria-label": `Trial ${number} epoch progress` });
    const overallBar = h("progress", { class: "bar bar--overall", max: 1, value: 0, "aria-label": `Trial ${number} overall progress` });
    const details = h("button", {
      type: "button",
      class: "button details",
      "aria-describedby": id,
      onclick: () => this.onDetails(this.trials.get(number), details),
    }, "View details");
    return h("article", { class: "card trial", "aria-labelledby": id, dataset: { number: String(number) } },
      h("header", { class: "card-head" },
        h("h4", { id }, `Trial #${number}`),
        h("span", { class: "best-flag", hidden: true }, "★ Best"),
        h("span", { class: "status-slot" })),
      h("div", { class: "progress" },
        h("div", { class: "progress-label" },
          h("span", { class: "phase" }, ""),
          h("span", { class: "epoch" }, "")),
        epochBar,
        overallBar),
      h("p", { class: "arch" }, ""),
      h("p", { class: "params muted" }, ""),
      h("dl", { class: "scores" }),
      h("ul", { class: "health-bars", "aria-label": "Health components" }),
      h("p", { class: "trial-error" }, ""),
      h("p", { class: "trial-note" }, ""),
      h("div", { class: "card-actions" }, details, this.cardTools(number)));
  }

  draw(number) {
    const card = this.cards.get(number);
    const trial = this.trials.get(number);
    if (!card || !trial) return;
    const status = trial.status || "queued";
    card.dataset.status = status;
    const isBest = this.best === number;
    card.classList.toggle("card--best", isBest);
    card.querySelector(".best-flag").hidden = !isBest;
    const slot = card.querySelector(".status-slot");
    if (slot.firstChild?.dataset?.status !== status) clear(slot, statusBadge(status));

    this.drawProgress(card, trial, this.progress.get(number));
    card.querySelector(".arch").textContent = trial.architecture_summary || "";
    const origin = ORIGINS[trial.origin];
    card.querySelector(".params").textContent = (origin ? `${origin} · ` : "") + paramsLine(trial.params);

    const scores = card.querySelector(".scores");
    const items = [];
    if (trial.val_accuracy !== null && trial.val_accuracy !== undefined) items.push(["Val accuracy", pct(trial.val_accuracy)]);
    if (trial.total_score !== null && trial.total_score !== undefined) items.push(["Total score", num(trial.total_score)]);
    if (trial.health_score !== null && trial.health_score !== undefined) items.push(["Health", num(trial.health_score)]);
    clear(scores, items.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));

    const bars = card.querySelector(".health-bars");
    clear(bars, trial.health ? healthBars(trial.health) : []);
    card.querySelector(".trial-error").textContent = trial.error || stopReason(trial);
    card.querySelector(".trial-note").textContent = this.note(trial);
  }

  // Why a card's numbers do not mean what they seem to: a model at chance, or a stopped
  // trial that scored above the best.
  note(trial) {
    if (atChance(trial, this.chanceMargin)) {
      return `At chance: no better than always answering the commonest class (${pct(trial.metrics.dataset.chance)} of the validation set).`;
    }
    const best = this.trials.get(this.best);
    if (beatBest(trial, best)) {
      return `Scored above the best (trial #${best.number}) before it was stopped, but a stopped `
        + "model never finished training and has no health score, so it cannot be the best.";
    }
    return "";
  }

  drawProgress(card, trial, data) {
    const status = trial.status || "queued";
    const phase = card.querySelector(".phase");
    const epoch = card.querySelector(".epoch");
    const epochBar = card.querySelector(".bar--epoch");
    const overallBar = card.querySelector(".bar--overall");
    const box = card.querySelector(".progress");
    let epochValue = 0;
    let overall = 0;
    let phaseText = "";
    let epochText = "";
    if (status === "completed") {
      epochValue = 1;
      overall = 1;
      phaseText = "Done";
      const run = trial.metrics?.epochs_run;
      epochText = run ? `${run} epoch${run === 1 ? "" : "s"}` : "";
    } else if (STOPPED.has(status)) {
      // where it stopped, in the stopped colour (app.css): never a full training bar
      overall = Number(data?.fraction) || 0;
      epochValue = overall;
      phaseText = label(status);
      const epoch = trial.metrics?.pruned_at_epoch ?? (data?.phase === "training" ? data.epoch : null);
      const epochs = data?.epochs;
      epochText = epoch ? `stopped in epoch ${epoch}${epochs ? `/${epochs}` : ""}` : "";
    } else if (data) {
      epochValue = data.phase === "training" ? Number(data.epoch_fraction) || 0 : (data.fraction >= 1 ? 1 : 0);
      overall = Number(data.fraction) || 0;
      phaseText = PHASE_LABELS[data.phase] || data.phase;
      epochText = epochLabel(data);
      const acc = data.metrics?.val_accuracy ?? data.metrics?.accuracy;
      if (acc !== undefined && acc !== null) epochText = [epochText, `acc ${pct(acc)}`].filter(Boolean).join(" · ");
    } else if (status === "queued") {
      phaseText = "Waiting for a worker";
    } else if (status === "running") {
      phaseText = "Starting";
    } else {
      phaseText = trial.status ? `${label(trial.status)}` : "";
    }
    box.dataset.phase = STOPPED.has(status) ? status : data?.phase || (status === "completed" ? "done" : status);
    phase.textContent = phaseText;
    epoch.textContent = epochText;
    epochBar.value = epochValue;
    overallBar.value = overall;
    epochBar.setAttribute("aria-valuetext", `${phaseText}${epochText ? `, ${epochText}` : ""}`);
    overallBar.setAttribute("aria-valuetext", `${Math.round(overall * 100)}% of training`);
  }
}

export function healthBars(health) {
  return Object.keys(HEALTH_LABELS)
    .filter((name) => health[name] !== undefined && health[name] !== null)
    .map((name) => {
      const value = Number(health[name]);
      return h("li", { class: "hbar" },
        h("span", { class: "hbar-name" }, HEALTH_LABELS[name]),
        h("span", { class: "hbar-track", "aria-hidden": "true" },
          h("span", { class: `hbar-fill ${value < 0.5 ? "hbar-fill--low" : ""}`, style: `width:${Math.round(Math.max(0, Math.min(1, value)) * 100)}%` })),
        h("span", { class: "hbar-value" }, num(value, 2)));
    });
}

// ---- details dialog ------------------------------------------------------

function seconds_(value) {
  const s = Number(value);
  if (!Number.isFinite(s)) return "—";
  return s < 60 ? `${s.toFixed(s < 10 ? 2 : 1)}s` : duration(s);
}

// The holdout report (docs/api.md, "Holdout report"): evidence only, never the score.
function holdoutTable(report) {
  return table([
    ["Accuracy", pct(report.accuracy, 2)],
    ["Worst class", pct(report.worst_class_accuracy, 2)],
    ["Calibration error (ECE)", num(report.ece, 4)],
    ["Brier score", num(report.brier, 4)],
    ...Object.entries(report.robustness || {}).map(([name, accs]) =>
      [`${label(name)} (severity 1 · 2 · 3)`, accs.map((a) => pct(a, 0)).join(" · ")]),
    ["Robustness (mean)", pct(report.robustness_mean, 2)],
    ["Latency per 256", `${num(report.latency_ms_per_256, 1)} ms`],
  ], `Holdout (${int(report.samples)} examples)`);
}

// Why and when it stopped (or where a running trial is now), in full width: its texts
// are sentences.
function stopTable(details) {
  if (!details) return null;
  return h("div", { class: "dialog-stop" }, table(details.rows, details.caption));
}

function table(rows, caption) {
  return h("table", { class: "kv" },
    caption ? h("caption", {}, caption) : null,
    h("tbody", {}, rows.map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, v)))));
}

export class TrialDialog {
  constructor(dialog) {
    this.dialog = dialog;
    this.body = dialog.querySelector("#trial-dialog-body");
    this.title = dialog.querySelector("#trial-dialog-title");
    this.opener = null;
    dialog.querySelector("#trial-dialog-close").addEventListener("click", () => this.close());
    dialog.addEventListener("close", () => {
      disposeCharts(this.body);
      this.body.replaceChildren();
      if (this.opener && document.contains(this.opener)) this.opener.focus();
      this.opener = null;
    });
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault(); // Escape: close through one path so focus is restored
      this.close();
    });
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) this.close(); // a click on the backdrop
    });
    dialog.addEventListener("keydown", (event) => keepTabIn(dialog, event));
  }

  // context: stopinfo's {live, reruns, epochs} for the "why and when it stopped" table, and
  // the score the job maximises (scoreLabel) for its parameters' slices
  open(jobId, trial, opener, context = {}) {
    this.opener = opener || document.activeElement;
    this.title.textContent = `Trial #${trial.number} details`;
    const m = trial.metrics || {};
    const started = trial.started_at ? new Date(trial.started_at) : null;
    const finished = trial.finished_at ? new Date(trial.finished_at) : null;
    const seconds = started && finished ? (finished - started) / 1000 : null;
    const sections = [
      h("div", { class: "dialog-status" }, statusBadge(trial.status),
        trial.architecture_summary ? h("p", { class: "arch" }, trial.architecture_summary) : null),
      h("div", { class: "dialog-grid" },
        table([
          ["Validation accuracy", pct(trial.val_accuracy, 2)],
          ["Total score", num(trial.total_score, 4)],
          ["Health score", num(trial.health_score, 4)],
          ["Validation loss", num(m.val_loss, 4)],
          ["Test accuracy", pct(m.test_accuracy, 2)],
          ["Test loss", num(m.test_loss, 4)],
          ["Epochs run", int(m.epochs_run)],
          ["Parameters", int(m.param_count)],
        ], "Scores"),
        table([
          ["Worker", trial.worker || "—"],
          ["Queued", when(trial.queued_at)],
          ["Started", when(trial.started_at)],
          ["Finished", when(trial.finished_at)],
          ["Duration", duration(seconds)],
          ...(trial.retry_of !== null && trial.retry_of !== undefined ? [["Retry of", `Trial #${trial.retry_of}`]] : []),
          ...(trial.error ? [["Error", trial.error]] : []),
          ...(ORIGINS[trial.origin] ? [["Origin", ORIGINS[trial.origin]]] : []),
        ], "Run")),
      stopTable(stopDetails(trial, context)),
      trial.holdout ? h("div", { class: "dialog-grid" }, holdoutTable(trial.holdout)) : null,
      trial.health ? h("section", {}, h("h3", {}, "Health components"),
        h("ul", { class: "health-bars health-bars--large" }, healthBars(trial.health))) : null,
      h("div", { class: "dialog-grid" },
        paramsTable(Object.entries(trial.params || {}).map(([k, v]) => [k, paramValue(v)]),
          jobEvidence(jobId, { scoreLabel: context.scoreLabel }), context.modality),
        m.timings ? table(Object.entries(m.timings).map(([k, v]) => [label(k), seconds_(v)]), "Time per phase") : null),
      this.plots(jobId, trial),
    ];
    clear(this.body, sections);
    this.dialog.showModal();
    this.body.scrollTop = 0;
    this.dialog.querySelector("#trial-dialog-close").focus();
  }

  plots(jobId, trial) {
    const listed = trial.metrics?.plots || [];
    const names = [...PLOT_NAMES.filter((n) => listed.includes(n)), ...listed.filter((n) => !PLOT_NAMES.includes(n))];
    if (!names.length) {
      return h("section", {}, h("h3", {}, "Plots"),
        h("p", { class: "muted" }, trial.status === "completed"
          ? "No plots were rendered for this trial (see the job's plot mode)."
          : `No plots: plots are rendered only for completed trials, and this one is ${trial.status || "queued"}.`));
    }
    return h("section", {}, h("h3", {}, "Plots"),
      h("div", { class: "plots" }, names.map((name) => {
        const src = urls.trialPlot(jobId, trial.number, name);
        return h("figure", { class: "plot" },
          h("a", { href: src, target: "_blank", rel: "noopener", title: "Open full size" },
            h("img", { src, alt: `${PLOT_LABELS[name] || name} of trial ${trial.number}`, loading: "lazy" })),
          h("figcaption", {}, PLOT_LABELS[name] || name, " ",
            h("a", { href: src, download: `trial-${trial.number}-${name}.png` }, "Download")));
      })));
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }
}
