// One job: state badge, cancel, summary tiles, the live trial gallery and the best model.

import { Analysis } from "./analysis.js";
import { ApiError, allTrials, api, urls } from "./api.js";
import { ArchitectureViews } from "./architecture_views.js";
import {
  $,
  HEALTH_LABELS,
  JOB_TERMINAL,
  PLOT_LABELS,
  PLOT_NAMES,
  statusLabel,
  TRIAL_ACTIVE,
  announce,
  clear,
  duration,
  h,
  int,
  num,
  pct,
  statusBadge,
} from "./dom.js";
import { Gallery, TrialDialog, trialFromResult } from "./gallery.js";
import { ArchitectureGraph, layerTable } from "./graph.js";
import { follow, POLL_MS } from "./live.js";
import { tabList } from "./tabs.js";
import { TensorBoardPanel } from "./tensorboard.js";
import { selection } from "./trial_selection.js";
import { budgetSummary, finishedText, splitText } from "./trialstate.js";

const WATCHDOG_MS = 10_000;
const CONNECTION_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  polling: `Live updates unavailable — refreshing every ${POLL_MS / 1000} s`,
};

export class JobView {
  // onClone(job, {continuing}): put the job in the form, as a copy or a continuation
  constructor({ form, onClone }) {
    this.form = form;
    this.onClone = onClone;
    this.job = null;
    this.live = null;
    this.progress = {};
    this.bestLoadedFor = null;
    this.refreshTimer = null;
    this.dialog = new TrialDialog($("#trial-dialog"));
    this.gallery = new Gallery($("#gallery"), $("#gallery-more"), {
      onDetails: (trial, button) => this.dialog.open(this.job.id, trial, button, this.trialContext(trial)),
      cardTools: (number) => selection.box(this.jobId, number),
    });
    this.analysis = new Analysis($("#analysis-section"), {
      onTrial: (number, opener) => this.openTrial(number, opener),
    });
    this.tensorboard = new TensorBoardPanel($("#tensorboard-section"));
    this.graph = new ArchitectureViews({
      graph: new ArchitectureGraph({
        container: $("#graph"), legend: $("#graph-legend"), caption: $("#graph-caption"),
      }),
      solid: $("#graph3d"), switches: [$("#view-2d"), $("#view-3d")],
      help: $("#graph3d-help"), message: $("#graph3d-message"),
    });
    $("#cancel-button").addEventListener("click", () => this.cancel());
    $("#reuse-button").addEventListener("click", () => this.job && this.onClone?.(this.job, { continuing: false }));
    $("#continue-button").addEventListener("click", () => this.job && this.onClone?.(this.job, { continuing: true }));
    $("#animate-forward").addEventListener("click", () => this.graph.animate("forward"));
    $("#animate-backward").addEventListener("click", () => this.graph.animate("backward"));
    $("#graph-png").addEventListener("click", () => this.downloadPng());
    $("#graph-fit").addEventListener("click", () => this.graph.fit());
  }

  get jobId() {
    return this.job?.id ?? this.openId ?? null;
  }

  open(id) {
    if (this.openId === id && this.live) return;
    this.close();
    this.openId = id;
    this.job = null;
    this.progress = {};
    this.bestLoadedFor = null;
    this.gallery.reset(id);
    $("#job-empty").hidden = true;
    $("#job-missing").hidden = true;
    $("#job-content").hidden = false;
    $("#best-section").hidden = true;
    $("#compare-section").hidden = true;
    this.analysis.open(id);
    $("#job-title").textContent = `Job ${id}`;
    clear($("#job-status"));
    $("#job-error").textContent = "";
    $("#continue-button").hidden = true; // the last job's, until this one's state is known
    this.renderTiles();
    // A first picture over REST; the socket's snapshot (or polling) follows and wins.
    Promise.all([api.job(id), allTrials(id)]).then(([job, trials]) => {
      if (this.openId !== id || this.job) return;
      this.onSnapshot({ job, trials });
    }).catch((error) => {
      if (this.openId !== id) return;
      if (error instanceof ApiError && error.status === 404) this.notFound(id);
      else $("#job-error").textContent = `Could not load job ${id}: ${error.message}`;
    });
    // Belt and braces: while the job is active, re-read its record now and then, so a
    // status change whose event was lost still shows (events are never essential).
    this.watchdog = setInterval(async () => {
      if (!this.job || JOB_TERMINAL.has(this.job.status)) return;
      try {
        const job = await api.job(id);
        if (this.openId === id && job.status !== this.job?.status) {
          this.setJob(job);
          this.scheduleRefresh(0);
        }
      } catch (error) {
        console.warn("job re-read failed", error);
      }
    }, WATCHDOG_MS);
    this.live = follow(id, {
      onSnapshot: (snapshot) => this.onSnapshot(snapshot),
      onEvent: (event) => this.onEvent(event),
      onConnection: (state) => {
        const el = $("#connection");
        el.textContent = CONNECTION_TEXT[state] || "";
        el.dataset.state = state;
      },
    });
  }

  // No such job (or not the caller's): say so, and follow nothing.
  notFound(id) {
    this.live?.stop();
    this.live = null;
    clearInterval(this.watchdog);
    const focused = $("#job-content").contains(document.activeElement);
    $("#job-content").hidden = true;
    $("#job-missing").hidden = false;
    if (focused) $("#job-missing-title").focus(); // the heading it had is gone
    $("#job-missing-text").textContent = `There is no job ${id}, or it is not yours to see.`;
    document.title = "Job not found — Onegin";
  }

  close() {
    clearTimeout(this.comparisonTimer);
    this.live?.stop();
    this.live = null;
    clearInterval(this.watchdog);
    this.openId = null;
    this.job = null;
    clearTimeout(this.refreshTimer);
    this.graph.destroy();
    this.analysis.close();
    this.tensorboard.hide();
    this.dialog.close();
    $("#job-empty").hidden = false;
    $("#job-missing").hidden = true;
    $("#job-content").hidden = true;
  }

  // ---- state ------------------------------------------------------------

  setJob(job) {
    this.job = { ...(this.job || {}), ...job };
    this.renderHead();
    if (this.job.kind === "compare") {
      this.analysis.setJob(this.job);
      this.loadComparison();
      return;
    }
    this.renderTiles();
    this.updateBest();
    this.analysis.setJob(this.job);
    if (JOB_TERMINAL.has(this.job.status)) this.loadBest();
  }

  // A comparison has no trials of its own: its runs (jobs) and, once stored, its report.
  // Its runs come and go without events of its own, so it is read again while active.
  async loadComparison() {
    const id = this.job.id;
    clearTimeout(this.comparisonTimer);
    let comparison;
    try {
      comparison = await api.comparison(id);
    } catch (error) {
      console.warn("comparison read failed", error);
      return;
    }
    if (this.openId !== id) return;
    if (!JOB_TERMINAL.has(comparison.job.status)) {
      this.comparisonTimer = setTimeout(() => this.openId === id && this.loadComparison(),
        WATCHDOG_MS / 2);
    }
    $("#compare-section").hidden = false;
    const links = comparison.report;
    for (const [key, selector] of [["html", "#compare-html"], ["pdf", "#compare-pdf"],
      ["summary", "#compare-summary"]]) {
      const link = $(selector);
      link.hidden = !links[key];
      if (links[key]) link.href = links[key];
    }
    $("#compare-note").textContent = links.html ? ""
      : "The report appears here once every run has ended.";
    clear($("#compare-runs"), ...comparison.runs.map((run) => h("li", {},
      h("a", { href: `#/jobs/${encodeURIComponent(run.id)}` },
        `${run.objective === "simple" ? "accuracy" : "health"} arm, `
        + `${run.data_seed === null ? `seed ${run.seed}` : `retrain on seed ${run.data_seed}`}`),
      " ", statusBadge(run.status),
      run.best_accuracy === null ? "" : ` best validation accuracy ${pct(run.best_accuracy)}`)));
  }

  // A trial's details from a chart: the gallery's copy, else read over REST.
  async openTrial(number, opener) {
    const id = this.job?.id;
    if (!id) return;
    const trial = this.gallery.trials.get(number) ?? await api.trial(id, number).catch(() => null);
    if (trial && this.openId === id) this.dialog.open(id, trial, opener, this.trialContext(trial));
  }

  // What a trial's details say beyond its record (stopinfo.js): a running trial's live
  // progress, the trials that re-ran its parameters, the job's epochs, and its dataset's
  // modality (for what the search tries; null for a dataset the form does not list).
  trialContext(trial) {
    const reruns = [...this.gallery.trials.values()]
      .filter((t) => t.retry_of === trial.number).map((t) => t.number);
    const dataset = this.form.datasets.find((d) => d.name === this.job?.config?.dataset);
    return { live: this.gallery.progress.get(trial.number) ?? null, reruns,
      epochs: this.job?.config?.epochs ?? null, scoreLabel: this.analysis.scoreLabel,
      modality: dataset?.modality ?? null };
  }

  onSnapshot({ job, trials }) {
    for (const trial of trials || []) this.gallery.upsert(trial);
    this.gallery.loaded();
    this.setJob(job);
  }

  onEvent(event) {
    const data = event.data || {};
    const n = event.trial;
    this.analysis.onEvent(event);
    switch (event.type) {
      case "job_status":
        this.setJob({
          status: data.status,
          error: data.error ?? this.job?.error ?? null,
          ...("waiting" in data ? { waiting: data.waiting } : {}),
        });
        break;
      case "trial_started":
        this.gallery.upsert({ number: n, status: "running", params: data.params, worker: data.worker });
        this.gallery.setProgress(n, { phase: "loading_data", epoch: 0, epochs: 0, epoch_fraction: 0, fraction: 0, metrics: {} });
        break;
      case "trial_progress":
        this.gallery.setProgress(n, data);
        break;
      case "trial_finished":
        this.gallery.upsert(trialFromResult(n, data));
        announce(finishedText(this.gallery.trials.get(n)));
        this.updateBest();
        this.scheduleRefresh();
        break;
      case "job_progress":
        this.progress = data;
        if (this.job) {
          this.job.counts = data.counts;
          this.job.budget = data.budget;
          if (data.best_accuracy !== undefined) this.job.best_accuracy = data.best_accuracy;
          if (data.best_total_score !== undefined) this.job.best_score = data.best_total_score;
        }
        this.renderTiles();
        this.scheduleRefresh();
        break;
      case "job_finished":
        this.setJob({
          status: data.status,
          best_trial_number: data.best_trial,
          best_score: data.best_score,
          best_accuracy: data.best_accuracy,
        });
        this.scheduleRefresh(100);
        break;
      default:
        break;
    }
  }

  // Re-read the job and its trials after a burst of events: picks up queued trials and the
  // orchestrator's final word on each status, which events alone do not carry.
  scheduleRefresh(delay = 800) {
    clearTimeout(this.refreshTimer);
    const id = this.openId;
    this.refreshTimer = setTimeout(async () => {
      try {
        const [job, trials] = await Promise.all([api.job(id), this.recentTrials(id)]);
        if (this.openId !== id) return;
        for (const trial of trials) this.gallery.upsert(trial);
        this.gallery.loaded();
        this.setJob(job);
      } catch (error) {
        console.warn("refresh failed", error);
      }
    }, delay);
  }

  // Trials from the oldest one still active onwards (numbers are dense and pages are in
  // number order), so a refresh costs a page or two even in a job of thousands of trials.
  async recentTrials(id) {
    const perPage = 100;
    const known = [...this.gallery.trials.values()];
    const active = known.filter((t) => TRIAL_ACTIVE.has(t.status)).map((t) => t.number);
    const from = active.length ? Math.min(...active)
      : known.length ? Math.max(...known.map((t) => t.number)) + 1 : 0;
    const trials = [];
    for (let page = Math.floor(from / perPage) + 1; page < 10_000; page += 1) {
      const data = await api.trials(id, page, perPage);
      if (data.per_page && data.per_page !== perPage) return allTrials(id); // server capped it
      trials.push(...(data.trials || []));
      if (!data.trials?.length || page * perPage >= (data.total ?? 0)) break;
    }
    return trials;
  }

  bestNumber() {
    if (this.job && JOB_TERMINAL.has(this.job.status) && this.job.best_trial_number !== null && this.job.best_trial_number !== undefined) {
      return this.job.best_trial_number;
    }
    let best = null;
    for (const trial of this.gallery.trials.values()) {
      if (trial.status !== "completed" || trial.total_score === null || trial.total_score === undefined) continue;
      if (!best || trial.total_score > best.total_score) best = trial;
    }
    return best ? best.number : this.job?.best_trial_number ?? null;
  }

  updateBest() {
    this.gallery.setBest(this.bestNumber());
    this.renderScoreTip();
  }

  // ---- rendering --------------------------------------------------------

  renderHead() {
    const job = this.job;
    $("#job-title").textContent = job.name ? `${job.name}` : `Job ${job.id}`;
    const slot = $("#job-status");
    if (slot.firstChild?.dataset?.status !== job.status) {
      clear(slot, h("span", { class: "sr-only" }, "Status: "), statusBadge(job.status, "badge--large"));
    }
    const c = job.config || {};
    const objective = { simple: "accuracy only", health: "health-aware", pareto: "Pareto front (accuracy vs health)" }[c.objective] ?? c.objective;
    $("#job-meta").textContent = [
      job.name ? `#${job.id}` : null,
      c.dataset,
      objective,
      c.trials !== undefined ? `${c.trials} trials` : null,
      c.epochs !== undefined ? `up to ${c.epochs} epoch${c.epochs === 1 ? "" : "s"} each` : null,
      c.concurrency !== undefined ? `${c.concurrency} at a time` : null,
      c.plot_mode ? `plots: ${c.plot_mode}` : null,
      c.space && c.space !== "default" ? `${c.space} space` : null,
      c.continue_from ? `continues job ${c.continue_from}` : null,
      c.seed !== undefined && c.seed !== null ? `seed ${c.seed}` : null,
    ].filter(Boolean).join(" · ");
    $("#job-error").textContent = job.status === "failed" && job.error ? `Failed: ${job.error}` : job.error && job.status !== "completed" ? job.error : "";
    const waiting = JOB_TERMINAL.has(job.status) ? null : job.waiting;
    const waitingLine = $("#job-waiting");
    waitingLine.hidden = !waiting;
    if (waiting) {
      const depth = waiting.gpu_queue_depth;
      const since = new Date(waiting.since).toLocaleTimeString();
      waitingLine.textContent = `Waiting for GPU workers since ${since}: no worker has started its trials`
        + (depth === null || depth === undefined ? "." : ` (${depth} trial${depth === 1 ? "" : "s"} in the GPU queue).`);
    }
    // a comparison's config is no job request; only a finished search can be continued
    $("#reuse-button").hidden = job.kind === "compare";
    $("#continue-button").hidden = job.kind === "compare" || !JOB_TERMINAL.has(job.status);
    const cancel = $("#cancel-button");
    cancel.disabled = JOB_TERMINAL.has(job.status) || job.status === "cancelling";
    cancel.textContent = job.status === "cancelling" ? "Cancelling…" : "Cancel job";
    document.title = `${job.name || `Job ${job.id}`} — ${statusLabel(job.status)} — Onegin`;
  }

  renderTiles() {
    const job = this.job || {};
    const counts = job.counts || this.progress.counts || {};
    const budget = job.budget ?? this.progress.budget ?? job.config?.trials;
    const summary = budgetSummary(counts, budget);
    $("#tile-done").textContent = summary.text;
    $("#tile-split").textContent = splitText(summary.split);
    $("#tile-accuracy").textContent = pct(job.best_accuracy, 2);
    $("#tile-score").textContent = num(job.best_score, 4);
    $("#tile-avg").textContent = duration(this.progress.avg_trial_seconds ?? this.averageSeconds());
    $("#tile-eta").textContent = JOB_TERMINAL.has(job.status) ? "Done" : duration(this.progress.eta_seconds);
    this.renderScoreTip();
    this.tensorboard.update(this.job);
  }

  // Mean wall time of finished trials, from their records (before any job_progress event).
  averageSeconds() {
    const spans = [];
    for (const t of this.gallery.trials.values()) {
      if (t.status !== "completed" || !t.started_at || !t.finished_at) continue;
      const seconds = (new Date(t.finished_at) - new Date(t.started_at)) / 1000;
      if (Number.isFinite(seconds) && seconds >= 0) spans.push(seconds);
    }
    return spans.length ? spans.reduce((a, b) => a + b, 0) / spans.length : null;
  }

  // The formula with this job's weights and the best trial's numbers, plus what the same
  // trial would score with the weights now set in the form.
  renderScoreTip() {
    const tip = $("#score-tip");
    const job = this.job;
    if (!job) return;
    const config = job.config || {};
    const best = this.gallery.trials.get(this.bestNumber());
    if (config.objective === "simple") {
      clear(tip, h("p", { class: "tip-title" }, "Accuracy only"),
        h("p", {}, "Total score = validation accuracy", best ? ` = ${num(best.val_accuracy, 4)}` : "", "."));
      return;
    }
    const weights = config.weights || this.form.weights();
    const lines = formula(weights, best);
    const title = config.objective === "pareto"
      ? "Picks the best from the Pareto front (this job's weights)" : "Health-aware score (this job's weights)";
    const parts = [h("p", { class: "tip-title" }, title), ...lines];
    const now = this.form.weights();
    if (best?.health && !sameWeights(now, weights) && this.form.objective() !== "simple") {
      const score = totalScore(now, best);
      parts.push(h("p", { class: "tip-whatif" },
        `With the weights now set in the form, trial #${best.number} would score ${num(score, 4)}.`));
    }
    clear(tip, parts);
  }

  // ---- actions ----------------------------------------------------------

  async cancel() {
    if (!this.job) return;
    const button = $("#cancel-button");
    button.disabled = true;
    try {
      const job = await api.cancelJob(this.job.id);
      if (job && job.id) this.setJob(job);
      else this.setJob({ status: "cancelling" });
    } catch (error) {
      $("#job-error").textContent = `Could not cancel: ${error.message}`;
      button.disabled = false;
    }
  }

  async loadBest(attempt = 0) {
    const id = this.job.id;
    if (this.bestLoadedFor === id) return;
    this.bestLoadedFor = id;
    let best;
    try {
      best = await api.best(id);
    } catch (error) {
      this.bestLoadedFor = null;
      if (error instanceof ApiError && error.status === 404 && this.job?.status === "completed" && attempt < 4) {
        setTimeout(() => this.openId === id && this.loadBest(attempt + 1), 1500);
      }
      return;
    }
    if (this.openId !== id) return;
    this.renderBest(id, best);
  }

  renderBest(id, best) {
    $("#best-section").hidden = false;
    $("#best-title").textContent = `Best model — trial #${best.trial}`;
    $("#download-model").href = urls.model(id);
    $("#download-model").setAttribute("download", `onegin-${id}-model.keras`);
    $("#download-yaml").href = urls.yaml(id);
    $("#download-yaml").setAttribute("download", `onegin-${id}-best_hyperparameters.yaml`);
    $("#download-bundle").href = urls.bundle(id);
    $("#download-bundle").setAttribute("download", `onegin-${id}-best.zip`);
    const arch = best.architecture || { layers: [], edges: [] };
    $("#best-summary").textContent = [
      `Validation accuracy ${pct(best.val_accuracy, 2)}`,
      `total score ${num(best.total_score, 4)}`,
      arch.total_params !== undefined ? `${int(arch.total_params)} parameters` : null,
      `${arch.layers.length} layers`,
    ].filter(Boolean).join(" · ");
    clear($("#layer-table"), layerTable(arch));
    this.graph.render(arch);
    this.renderTabs(id, best);
  }

  renderTabs(id, best) {
    const available = best.metrics?.plots;
    const panel = $("#diag-panel");
    const tabs = PLOT_NAMES.map((name) => ({
      id: `tab-${name}`, label: PLOT_LABELS[name], controls: "diag-panel", dataset: { plot: name },
    }));
    tabList($("#diag-tabs"), tabs, (i, button) => {
      const name = PLOT_NAMES[i];
      panel.setAttribute("aria-labelledby", button.id);
      panel.dataset.plot = name;
      if (available && !available.includes(name)) {
        clear(panel, h("p", { class: "muted" }, `No ${PLOT_LABELS[name].toLowerCase()} plot was rendered for this model.`));
        return;
      }
      const src = urls.bestPlot(id, name);
      // a phone shrinks the plot to its width: a tap opens it full size (pinch to zoom)
      clear(panel,
        h("a", { class: "diag-link", href: src, target: "_blank", rel: "noopener", title: "Open full size" },
          h("img", { src, alt: `${PLOT_LABELS[name]} of the best model (opens full size)`, class: "diag-img" })),
        h("p", { class: "actions" },
          h("a", { class: "button", href: src, target: "_blank", rel: "noopener" }, "Open full size"),
          h("a", { class: "button", href: src, download: `onegin-${id}-${name}.png` }, `Download ${PLOT_LABELS[name].toLowerCase()} (PNG)`)));
    }).select(0);
  }

  async downloadPng() {
    const blob = await this.graph.png();
    if (!blob) return;
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: `onegin-${this.job?.id || "best"}-${this.graph.pngName}.png` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 5000);
  }
}

function sameWeights(a, b) {
  if (Math.abs((a.accuracy ?? 0) - (b.accuracy ?? 0)) > 0.005) return false;
  return Object.keys(HEALTH_LABELS).every((k) => Math.abs((a.health?.[k] ?? 0) - (b.health?.[k] ?? 0)) <= 0.005);
}

function healthOf(weights, trial) {
  return Object.keys(HEALTH_LABELS).reduce((acc, k) => acc + (weights.health?.[k] ?? 0) * Number(trial.health?.[k] ?? 0), 0);
}

function totalScore(weights, trial) {
  const a = weights.accuracy ?? 0.7;
  return a * Number(trial.val_accuracy ?? 0) + (1 - a) * healthOf(weights, trial);
}

function formula(weights, best) {
  const a = weights.accuracy ?? 0.7;
  const lines = [h("p", { class: "formula" },
    `total = ${num(a, 2)} × accuracy + ${num(1 - a, 2)} × health`)];
  const rows = Object.keys(HEALTH_LABELS).map((k) => h("tr", {},
    h("td", { class: "num" }, num(weights.health?.[k] ?? 0, 2)), h("td", {}, "×"),
    h("th", { scope: "row" }, HEALTH_LABELS[k]),
    h("td", { class: "num" }, best?.health ? num(best.health[k], 3) : "")));
  lines.push(h("table", { class: "formula-table" },
    h("caption", {}, best?.health ? `health = Σ weight × component (trial #${best.number})` : "health = Σ weight × component"),
    h("tbody", {}, rows)));
  if (best && best.val_accuracy !== undefined && best.val_accuracy !== null) {
    const health = best.health_score ?? (best.health ? healthOf(weights, best) : null);
    lines.push(h("p", { class: "formula" },
      `= ${num(a, 2)} × ${num(best.val_accuracy, 3)} + ${num(1 - a, 2)} × ${num(health, 3)} = ${num(best.total_score, 4)}`));
  }
  return lines;
}
