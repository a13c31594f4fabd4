// The job view's Analysis area: a tab per plot (history, importance, slices, parallel
// coordinates, learning curves, health radar, the Pareto front of a pareto job, and the
// comparison of picked trials). A panel reads its data when it is first shown, and again
// (one read at a time, at most every few seconds) once the job's counts have changed;
// learning curves also follow the job's live events. Only the shown panel is drawn.

import { api } from "./api.js";
import { ChartFrame, NARROW, trialWord } from "./chart_kit.js";
import { CompareTrialsView } from "./compare_trials_view.js";
import { CurveStore, curvesOption } from "./curves_chart.js";
import { JOB_TERMINAL, clear, h } from "./dom.js";
import { FrontChart } from "./front.js";
import { ParamLegend, hyperparameterTexts, jobEvidence } from "./hyperparameters.js";
import { parallelOption } from "./parallel_chart.js";
import { byOutcome, paramAxes } from "./param_axes.js";
import { DRAWN, OFFERED, healthiestFirst, radarOption } from "./radar_chart.js";
import { sliceOption } from "./slices_chart.js";
import { bestTrial, historyOption, importanceOption } from "./study_charts.js";
import { tabList } from "./tabs.js";
import { MIN_COMPARED, compareHash, selection } from "./trial_selection.js";

const READ_GAP_MS = 3000;
// key, tab label, the data it draws (it waits for the first; the others refine it)
const PANELS = [
  ["history", "History", ["analysis"]],
  ["importance", "Importance", ["study"]],
  ["slices", "Slices", ["analysis", "study"]],
  ["parallel", "Parallel coordinates", ["analysis", "study"]],
  ["curves", "Learning curves", ["analysis"]],
  ["radar", "Health radar", ["analysis"]],
  ["front", "Pareto front", ["front"]],
  ["compare", "Compare trials", []],
];
const panelOf = (key) => PANELS.find(([k]) => k === key);

// One kind of data: read one at a time, at most every READ_GAP_MS, again if asked meanwhile.
class Source {
  constructor(read, onData) {
    this.read = read;
    this.onData = onData;
    this.reset();
  }

  reset() {
    clearTimeout(this.timer);
    Object.assign(this, { data: null, error: null, stale: true, busy: false, again: false, timer: null,
      readAt: 0, generation: (this.generation ?? 0) + 1 });
  }

  need() {
    if (!this.stale || this.timer) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.timer = setTimeout(() => this.fetch(), Math.max(0, this.readAt + READ_GAP_MS - Date.now()));
  }

  async fetch() {
    const generation = this.generation;
    Object.assign(this, { timer: null, busy: true, stale: false, readAt: Date.now() });
    try {
      const data = await this.read();
      if (generation !== this.generation) return;
      Object.assign(this, { data, error: null });
    } catch (error) {
      if (generation !== this.generation) return;
      this.error = error;
    }
    this.busy = false;
    this.onData();
    if (this.again) {
      this.again = false;
      this.stale = true;
      this.need();
    }
  }
}

export class Analysis {
  // onTrial(number, opener): open that trial's details
  constructor(root, { onTrial }) {
    this.root = root;
    this.onTrial = onTrial;
    this.jobId = null;
    this.job = null;
    this.current = null;
    this.curves = new CurveStore();
    this.panels = Object.fromEntries(PANELS.map(([key]) => [key, h("div", {
      role: "tabpanel", id: `analysis-panel-${key}`, class: "analysis-panel", tabindex: "0",
      "aria-labelledby": `analysis-tab-${key}`, hidden: true, dataset: { panel: key } })]));
    const pick = (number) => Number.isInteger(number) && this.onTrial(number, null);
    const frame = (key, label, number) => new ChartFrame(this.panels[key], {
      id: `analysis-${key}`, label, onPoint: (p) => pick(number(p)) });
    this.frames = {
      history: frame("history", "Optimization history", (p) => p.value?.[0]),
      importance: frame("importance", "Parameter importance", () => null),
      slices: frame("slices", "Parameter-versus-score slices", (p) => p.value?.[2]),
      parallel: frame("parallel", "Parallel coordinates", (p) => p.data?.number),
      curves: frame("curves", "Learning curves", (p) => p.data?.number),
      radar: frame("radar", "Health radar", (p) => p.data?.number),
    };
    this.curveKeys = h("ul", { class: "chart-legend", "aria-label": "Curve colours" },
      [["key--completed", "Completed"], ["key--pruned", "Pruned"], ["key--running", "Training now"],
        ["key--best", "Best trial"]].map(([cls, text]) => h("li", {}, h("span", { class: `key ${cls}`, "aria-hidden": "true" }), text)));
    this.frames.curves.root.insertBefore(this.curveKeys, this.frames.curves.note);
    this.paramLegend = new ParamLegend(this.frames.importance.root, this.frames.importance.note);
    this.texts = {}; // GET /hyperparameters: the importance chart says what each parameter is
    hyperparameterTexts().then((texts) => {
      this.texts = texts;
      if (this.jobId && this.current === "importance") this.draw("importance");
    }, (error) => console.warn("no hyperparameter texts", error));
    this.front = new FrontChart(this.panels.front, { onTrial });
    this.compare = new CompareTrialsView(this.panels.compare, {
      curves: this.curves, onTrial,
      onChange: (numbers) => this.compareTrials(numbers),
    });
    this.sources = {
      analysis: new Source(() => api.analysis(this.jobId), () => {
        if (this.sources.analysis.data) this.curves.load(this.sources.analysis.data);
        this.sourceArrived("analysis");
      }),
      study: new Source(() => api.study(this.jobId), () => this.sourceArrived("study")),
      front: new Source(() => api.front(this.jobId), () => this.sourceArrived("front")),
    };
    this.summary = h("p", { class: "muted analysis-summary", id: "analysis-summary" });
    this.bar = h("div", { class: "compare-trials-bar", id: "compare-trials-bar", role: "group", "aria-label": "Trials picked for comparison" });
    const list = h("div", { class: "tabs analysis-tabs", role: "tablist", id: "analysis-tabs", "aria-labelledby": "analysis-title" });
    clear(root,
      h("div", { class: "section-head" }, h("h3", { id: "analysis-title" }, "Analysis"), this.summary),
      this.bar, list, Object.values(this.panels));
    this.tabs = tabList(list, PANELS.map(([key, label]) => ({
      id: `analysis-tab-${key}`, label, controls: `analysis-panel-${key}`, dataset: { panel: key } })),
    (i) => this.show(PANELS[i][0]));
    this.frontTab = this.tabs.buttons[PANELS.indexOf(panelOf("front"))];
    this.frontTab.hidden = true;
    this.drawers = {
      history: (d, f) => this.drawHistory(d, f), importance: (d, f) => this.drawImportance(d, f),
      slices: (d, f) => this.drawSlices(d, f), parallel: (d, f) => this.drawParallel(d, f),
      curves: (d, f) => this.drawCurves(d, f), radar: (d, f) => this.drawRadar(d, f),
      front: (d) => this.drawFront(d),
    };
    selection.subscribe((jobId) => jobId === this.jobId && this.selectionChanged());
  }

  get scoreLabel() {
    return this.job?.config?.objective === "simple" ? "Validation accuracy" : "Total score";
  }

  // ---- the job ---------------------------------------------------------------------------

  open(jobId) {
    this.close();
    this.jobId = jobId;
    this.root.hidden = false;
    this.renderBar();
    this.select("history");
  }

  close() {
    this.jobId = null;
    this.job = null;
    this.version = null;
    this.current = null;
    this.frontShown = false;
    this.comparing = null;
    Object.values(this.sources).forEach((s) => s.reset());
    Object.values(this.frames).forEach((f) => f.dispose());
    this.paramLegend.dispose();
    this.front.dispose();
    this.compare.dispose();
    this.curves = this.compare.store = new CurveStore();
    this.root.hidden = true;
  }

  // The job's record changed (a snapshot, a refresh, a status event).
  setJob(job) {
    if (!this.jobId || job.id !== this.jobId) return;
    this.job = job;
    if (job.kind === "compare") { // a comparison has no trials of its own
      this.root.hidden = true;
      return;
    }
    const pareto = job.config?.objective === "pareto";
    this.frontTab.hidden = !pareto;
    if (pareto && !this.frontShown) { // a pareto job's result is its front: shown first
      this.frontShown = true;
      if (this.current === "history") this.select("front");
    }
    const version = JSON.stringify([job.status, Object.entries(job.counts || {}).sort()]);
    if (version === this.version) return;
    this.version = version;
    Object.values(this.sources).forEach((s) => {
      s.stale = true;
    });
    this.need();
  }

  // A live event of the job: learning curves move at each epoch's end.
  onEvent(event) {
    if (!this.curves.apply(event)) return;
    if (this.current === "curves" && !this.redrawing) {
      this.redrawing = requestAnimationFrame(() => {
        this.redrawing = null;
        if (this.current === "curves") this.draw("curves");
      });
    }
    if (this.current === "compare") this.compare.changed(event.trial);
  }

  // ---- panels ----------------------------------------------------------------------------

  select(key, focus = false) {
    this.tabs.select(PANELS.indexOf(panelOf(key)), focus);
  }

  show(key) {
    if (this.current === "compare" && key !== "compare" && this.jobId && location.hash.includes("/compare/")) {
      history.replaceState(null, "", `#/jobs/${encodeURIComponent(this.jobId)}`);
    }
    this.current = key;
    for (const [k, panel] of Object.entries(this.panels)) panel.hidden = k !== key;
    if (!this.jobId) return;
    this.need();
    this.draw(key);
  }

  need() {
    const [, , sources] = panelOf(this.current) ?? [];
    for (const name of sources ?? []) this.sources[name].need();
  }

  sourceArrived(name) {
    const [, , sources] = panelOf(this.current) ?? [];
    if (sources?.includes(name)) this.draw(this.current);
    this.renderSummary();
  }

  // What the shown panel draws (a sentence while its data is on its way, or missing).
  draw(key) {
    if (key === "compare") {
      this.compare.show(this.jobId, this.comparing ?? selection.get(this.jobId));
      return;
    }
    const [, , [first]] = panelOf(key);
    const source = this.sources[first];
    const frame = this.frames[key];
    if (!source.data) {
      const text = source.error ? `Could not read the ${first === "study" ? "study" : "trials"}: ${source.error.message}` : "Loading…";
      if (key === "front") this.front.frame.note.textContent = text;
      else frame.message(text);
      return;
    }
    this.drawers[key](source.data, frame);
  }

  drawHistory(data, frame) {
    const { completed, pruned } = byOutcome(data.history.map(([number, status, total_score]) => ({ number, status, total_score })));
    if (!completed.length && !pruned.length) {
      frame.message("No trial has a score yet.");
      return;
    }
    const left = data.history.length - completed.length - pruned.length;
    frame.note.textContent = `Each dot is a trial's ${this.scoreLabel.toLowerCase()}, hollow grey for a pruned trial `
      + "(its score when stopped); the line is the best completed trial so far (a pruned trial never finished "
      + "training, so it is never the best)."
      + `${left ? ` ${trialWord(left)} without a score (failed, cancelled or not finished) are not shown.` : ""}`
      + " Drag or pinch to zoom; choose a dot for its trial.";
    frame.draw((width) => ({ option: historyOption(data.history, { scoreLabel: this.scoreLabel, narrow: width < NARROW }) }),
      { keep: true, inputs: [data, this.scoreLabel] });
  }

  drawImportance(study, frame) {
    const count = Object.keys(study.importances || {}).length;
    if (!count) {
      this.paramLegend.dispose();
      frame.message("Importance needs two completed trials or more.");
      return;
    }
    frame.note.textContent = `How much each parameter explains the score (fANOVA over ${trialWord(study.importance_trials)}`
      + `${this.job && !JOB_TERMINAL.has(this.job.status) ? "; refreshed as the job goes on" : ""}). `
      + "Choose a parameter above for what it is and how it played out in this job's trials.";
    frame.draw(() => ({ option: importanceOption(study.importances, this.texts), height: 48 + 30 * count }),
      { inputs: [study, this.texts] });
    this.paramLegend.render(this.byImportance(), this.texts, jobEvidence(this.jobId, {
      scoreLabel: this.scoreLabel,
      read: () => (this.sources.analysis.data ? Promise.resolve(this.sources.analysis.data) : api.analysis(this.jobId)),
      onTrial: (number) => this.onTrial(number, null),
      seeAll: () => this.select("slices", true),
    }));
  }

  // The parameters the study has ranked, the most important first.
  byImportance() {
    return Object.entries(this.sources.study.data?.importances || {}).sort((a, b) => b[1] - a[1]).map(([name]) => name);
  }

  // Parameters ordered by importance when the study has ranked them, else by name.
  axes(rows) {
    return paramAxes(rows, this.byImportance());
  }

  drawSlices(data, frame) {
    const axes = this.axes(data.trials);
    const { completed, pruned, left } = byOutcome(data.trials);
    if (!axes.length || !(completed.length + pruned.length)) {
      frame.message("Slices need scored trials whose parameters differ.");
      return;
    }
    frame.note.textContent = `${this.scoreLabel} against each parameter the trials vary, most important first. `
      + "Hollow grey dots: pruned trials, at the score they had when stopped (the legend hides them)."
      + `${left ? ` ${trialWord(left)} without a score are left out.` : ""}`;
    frame.draw((width) => sliceOption(data.trials, axes, { width, scoreLabel: this.scoreLabel }),
      { keep: true, inputs: [data, axes.map((a) => a.name).join(), this.scoreLabel] });
  }

  drawParallel(data, frame) {
    const axes = this.axes(data.trials);
    if (!axes.length) {
      frame.message("Parallel coordinates need trials whose parameters differ.");
      return;
    }
    let left = 0;
    frame.draw((width) => {
      const result = parallelOption(data.trials, axes, { width, scoreLabel: this.scoreLabel });
      left = result.left;
      return result;
    }, { keep: true, inputs: [data, axes.map((a) => a.name).join(), this.scoreLabel] }).then(() => {
      frame.note.textContent = "One line per trial, coloured by score; grey dashed lines: pruned trials (the legend "
        + "hides them). Drag along an axis to keep a range."
        + `${left ? ` ${trialWord(left)} without a score or a value are left out.` : ""}`;
    });
  }

  drawCurves(data, frame) {
    const entries = [...this.curves.curves];
    if (!entries.length) {
      frame.message("No trial has finished an epoch yet.");
      return;
    }
    const sampled = data.trials.length < data.total || Object.keys(data.curves).length >= data.limits.curves;
    const shown = sampled ? ` (${entries.length} of ${trialWord(data.total)}: running ones, the best and a spread of the rest)` : "";
    frame.note.textContent = `Validation accuracy at the end of each epoch${shown}, updated live. Choose a curve for its trial.`;
    frame.draw(() => ({ option: curvesOption(entries, { best: bestTrial(data.history) }) }),
      { keep: true, inputs: [data, this.curves.version] });
  }

  drawRadar(data, frame) {
    const ranked = healthiestFirst(data.trials);
    if (!ranked.length) {
      frame.message("No completed trial has health components yet.");
      return;
    }
    frame.note.textContent = `The ${Math.min(OFFERED, ranked.length)} best-scored completed trials (the first ${DRAWN} drawn: `
      + `pick others in the legend) and, dashed, the median of all ${ranked.length} completed. To put any trials side by side, `
      + "use Compare trials.";
    frame.draw((width) => ({ option: radarOption(data.trials, { narrow: width < NARROW }),
      height: width < NARROW ? 380 : 420 }), { keep: true, inputs: [data] });
  }

  drawFront(front) {
    const id = this.jobId;
    this.front.render(id, front, (n) => `onegin-${id}-trial-${n}-model.keras`);
  }

  renderSummary() {
    const data = this.sources.analysis.data;
    if (!data) return;
    this.summary.textContent = data.trials.length < data.total
      ? `${trialWord(data.total)}; slices, parallel coordinates and the radar show ${data.trials.length.toLocaleString("en-US")} `
        + `of them: running ones, the ${Math.floor(data.limits.trials / 4)} best-scored and an even spread of the rest.`
      : `${trialWord(data.total)}.`;
  }

  // ---- comparison --------------------------------------------------------------------------

  // Compare these trials (the address #/jobs/<id>/compare/…, or the bar's button).
  showComparison(numbers) {
    this.compareTrials(numbers);
    if (this.current !== "compare") this.select("compare");
    this.root.scrollIntoView({ block: "start" });
  }

  // The comparison now holds these trials: the picked ones, and the address, follow.
  compareTrials(numbers) {
    this.comparing = numbers;
    history.replaceState(null, "", compareHash(this.jobId, numbers));
    selection.set(this.jobId, numbers);
    if (this.current === "compare") this.draw("compare");
  }

  selectionChanged() {
    selection.sync(this.jobId, document.getElementById("gallery"));
    this.renderBar();
    const numbers = selection.get(this.jobId);
    if (this.current === "compare" && String(numbers) !== String(this.comparing ?? "")) this.compareTrials(numbers);
  }

  renderBar() {
    const numbers = this.jobId ? selection.get(this.jobId) : [];
    this.bar.hidden = !numbers.length;
    clear(this.bar, h("span", {}, "Picked for comparison: "),
      numbers.map((n) => h("span", { class: "chip" }, `#${n}`, h("button", {
        type: "button", class: "chip-remove", "aria-label": `Unpick trial ${n}`,
        onclick: () => selection.toggle(this.jobId, n) }, "×"))),
      h("button", { type: "button", class: "button button--primary", id: "compare-trials-open",
        disabled: numbers.length < MIN_COMPARED, onclick: () => this.showComparison(numbers) },
      numbers.length >= MIN_COMPARED ? `Compare ${numbers.length} trials` : `Pick ${MIN_COMPARED - numbers.length} more to compare`),
      h("button", { type: "button", class: "button button--quiet", onclick: () => selection.set(this.jobId, []) }, "Clear"));
  }
}
