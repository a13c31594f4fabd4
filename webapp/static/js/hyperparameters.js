// What each hyperparameter is, for a learner: the texts of GET /hyperparameters (the one
// source, onegin/hyperparameters.py), read once, and the one component that shows them
// wherever a parameter appears: the job form, a trial's details and the importance chart.
// Where a job has enough scored trials, the explanation adds a slice of its own trials
// (the parameter against the score, drawn by slices_chart.js) so the learner sees the
// effect on this data, not only the rule of thumb. Nothing here names a parameter: the
// API's list is the list.

import { api } from "./api.js";
import { ChartFrame, shortValue, trialWord } from "./chart_kit.js";
import { clear, h } from "./dom.js";
import { byOutcome, paramAxes } from "./param_axes.js";
import { sliceOption } from "./slices_chart.js";

// A slice says something about a parameter once this many completed trials have a score
// and it took at least this many values among them; below that, noise reads as an effect.
export const MIN_SCORED = 8;
export const MIN_VALUES = 2;

let texts = null;

// parameter -> {title, what, effect, typical, searched: {modality: range}}; read once (a
// failed read is tried again next time).
export function hyperparameterTexts() {
  texts ??= api.hyperparameters().then((body) => body.hyperparameters || {}).catch((error) => {
    texts = null;
    throw error;
  });
  return texts;
}

// ---- pure logic ----------------------------------------------------------------------------

export const paramLabel = (name) => String(name).replace(/_/g, " ");

// [[name, text]] of the parameters the default space searches for `modality`, in the API's order.
export function forModality(all, modality) {
  return Object.entries(all || {}).filter(([, text]) => modality && text.searched?.[modality] !== undefined);
}

// What the default space searches: one modality's range, or every modality's, named.
export function searchedText(text, modality = null) {
  const searched = text?.searched || {};
  if (modality) return searched[modality] ?? null;
  const entries = Object.entries(searched);
  if (entries.length === 1) return entries[0][1];
  return entries.map(([m, range]) => `${m} ${range}`).join("; ") || null;
}

// How a job's `params` override sets one parameter (docs/api.md: a value, {low, high} or {choices}).
export function overrideText(spec) {
  if (spec && typeof spec === "object" && Array.isArray(spec.choices)) {
    return `limited to ${spec.choices.map(shortValue).join(", ")}`;
  }
  if (spec && typeof spec === "object" && ("low" in spec || "high" in spec)) {
    return `narrowed to ${shortValue(spec.low ?? "…")}–${shortValue(spec.high ?? "…")}`;
  }
  return `fixed to ${shortValue(spec)}`;
}

// Whether `rows` (GET /analysis trials) show `name`'s effect: `scored` completed trials with a
// score and a value of it, `values` distinct values among them, and the slice's axis when enough.
export function sliceEvidence(rows, name) {
  const { completed, pruned } = byOutcome(rows || []);
  const has = (r) => r.params?.[name] !== undefined && r.params?.[name] !== null;
  const scored = completed.filter(has);
  const values = new Set(scored.map((r) => String(r.params[name]))).size;
  const enough = scored.length >= MIN_SCORED && values >= MIN_VALUES;
  const drawn = [...scored, ...pruned.filter(has)];
  const axis = enough ? paramAxes(drawn).find((a) => a.name === name) ?? null : null;
  return { enough, scored: scored.length, values, axis, rows: drawn };
}

// The sentence under a slice, or in its place when the job has too few trials for one.
export function evidenceNote(evidence, name, { scoreLabel = "Total score", sampled = false } = {}) {
  const label = paramLabel(name);
  if (!evidence.enough) {
    return `Not enough of this job's trials yet to show what ${label} does here: a slice needs `
      + `${MIN_SCORED} completed trials with a score and at least ${MIN_VALUES} values of ${label} among them; `
      + `this job has ${trialWord(evidence.scored)} (${evidence.values} value${evidence.values === 1 ? "" : "s"}).`;
  }
  return `Each dot is one of this job's trials${sampled ? " (a sample, as in Analysis)" : ""}: its ${label} `
    + `against its ${scoreLabel.toLowerCase()}; hollow grey dots are pruned trials, at their score when stopped. `
    + `${trialWord(evidence.scored)} completed, so a trend is a hint, not proof.`;
}

// ---- the component -------------------------------------------------------------------------

let ids = 0;
const charts = new Map(); // a drawn slice's element -> its ChartFrame, to dispose with it

// One parameter explained: what it is, what raising or lowering it does, a typical range and
// what the default space searches (`modality`'s, or every modality's).
export function explanation(name, text, { modality = null } = {}) {
  if (!text) {
    return h("div", { class: "hp-explain", dataset: { param: name } },
      h("p", { class: "muted" }, "No explanation of ", h("code", {}, name), " yet."));
  }
  const searched = searchedText(text, modality);
  return h("div", { class: "hp-explain", dataset: { param: name } },
    h("p", { class: "hp-title" }, h("strong", {}, text.title), " ", h("code", {}, name)),
    h("p", { class: "hp-what" }, text.what),
    h("dl", { class: "hp-facts" },
      h("dt", {}, "Raising or lowering it"), h("dd", {}, text.effect),
      h("dt", {}, "Typical good range"), h("dd", {}, text.typical),
      searched ? [h("dt", {}, "The search tries"), h("dd", {}, searched)] : null));
}

// A job's trials for the explanations of one view: `read()` (GET /analysis, read at most once
// per provider), the score they plot, and what a slice's point or "See all slices" opens.
export function jobEvidence(jobId, { scoreLabel = "Total score", read = null, onTrial = null, seeAll = null } = {}) {
  let reading = null;
  return {
    scoreLabel, onTrial, seeAll,
    read: read ?? (() => {
      reading ??= api.analysis(jobId).catch((error) => {
        reading = null;
        throw error;
      });
      return reading;
    }),
  };
}

// The "In this job" part of an explanation: a slice of the job's own trials, or why not yet.
function evidenceSection(name, evidence) {
  const note = h("p", { class: "hp-evidence-note", role: "status" }, "Reading this job's trials…");
  const section = h("div", { class: "hp-evidence" }, h("p", { class: "hp-evidence-title" }, "In this job"), note);
  evidence.read().then((data) => {
    const found = sliceEvidence(data.trials, name);
    const sampled = data.trials.length < data.total;
    note.textContent = evidenceNote(found, name, { scoreLabel: evidence.scoreLabel, sampled });
    section.classList.toggle("hp-evidence--few", !found.enough);
    if (evidence.seeAll) {
      section.append(h("button", { type: "button", class: "button button--quiet hp-see-all",
        onclick: () => evidence.seeAll() }, "See all slices"));
    }
    if (!found.enough || !found.axis || !section.isConnected) return;
    const frame = new ChartFrame(section, {
      id: `hp-slice-${++ids}`, label: `${paramLabel(name)} against ${evidence.scoreLabel.toLowerCase()}`,
      enlarge: false, onPoint: (p) => Number.isInteger(p.value?.[2]) && evidence.onTrial?.(p.value[2]),
    });
    section.insertBefore(frame.root, note);
    charts.set(frame.root, frame);
    frame.draw((width) => sliceOption(found.rows, [found.axis], { width, scoreLabel: evidence.scoreLabel }));
  }, (error) => {
    note.textContent = `Could not read this job's trials: ${error.message}`;
  });
  return section;
}

// Dispose of the slices drawn inside `root` (a closed dialog, a collapsed explanation).
export function disposeCharts(root) {
  for (const [element, frame] of charts) {
    if (root.contains(element)) {
      frame.dispose();
      charts.delete(element);
    }
  }
}

// A button (its `content`) that opens `name`'s explanation (what the search tries for
// `modality`, or for every one; and, given `evidence`, the job's slice) in `panel`, shown with
// `shown` too (a table row holding it); the panel is filled afresh each time it opens and
// emptied (its chart disposed) when it closes.
export function disclosure(name, content, { evidence = null, shown = null, modality = null } = {}) {
  const panel = h("div", { class: "hp-panel", id: `hp-panel-${++ids}`, hidden: true });
  const button = h("button", {
    type: "button", class: "button button--quiet hp-toggle", "aria-expanded": "false",
    "aria-controls": panel.id, dataset: { param: name },
  }, content);
  button.addEventListener("click", async () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
    if (shown) shown.hidden = !open;
    disposeCharts(panel);
    if (!open) {
      clear(panel);
      return;
    }
    clear(panel, h("p", { class: "muted" }, "Loading the explanation…"));
    let all = {};
    try {
      all = await hyperparameterTexts();
    } catch (error) {
      clear(panel, h("p", { class: "form-error" }, `Could not load the explanation: ${error.message}`));
      return;
    }
    if (button.getAttribute("aria-expanded") !== "true") return; // closed meanwhile
    clear(panel, explanation(name, all[name], { modality }),
      evidence ? evidenceSection(name, evidence) : null);
  });
  return { button, panel };
}

// A trial's parameters ([[name, value as shown]]) as the details dialog's table: each row's
// value, with its explanation (the search's range for the job's `modality`, and the job's
// slice) a button away, in a full-width row below.
export function paramsTable(params, evidence, modality = null) {
  const rows = params.flatMap(([name, value]) => {
    const row = h("tr", { class: "hp-row", hidden: true });
    const { button, panel } = disclosure(name,
      ["About", h("span", { class: "sr-only" }, ` ${paramLabel(name)}`)],
      { evidence, shown: row, modality });
    row.append(h("td", { colspan: "2" }, panel));
    return [
      h("tr", { dataset: { param: name } }, h("th", { scope: "row" }, paramLabel(name)),
        h("td", {}, h("span", { class: "hp-value" }, value), " ", button)),
      row,
    ];
  });
  return h("table", { class: "kv hp-table" }, h("caption", {}, "Hyperparameters"), h("tbody", {}, rows));
}

// The importance chart's legend: each parameter (most important first) opens its explanation
// and this job's slice.
export class ParamLegend {
  constructor(host, before) {
    this.list = h("ul", { class: "hp-legend", "aria-label": "What each parameter is" });
    this.names = null;
    host.insertBefore(this.list, before);
  }

  render(names, all, evidence) {
    const key = JSON.stringify([names, Object.keys(all || {}).length]);
    if (key === this.names) return; // the same parameters: keep what the user opened
    this.names = key;
    disposeCharts(this.list);
    clear(this.list, names.map((name) => {
      const { button, panel } = disclosure(name,
        [all?.[name]?.title ?? paramLabel(name), " ", h("code", {}, name)], { evidence });
      return h("li", { dataset: { param: name } }, button, panel);
    }));
  }

  dispose() {
    disposeCharts(this.list);
    this.names = null;
    clear(this.list);
  }
}

// The job form's "Hyperparameters" disclosure: the parameters the search tunes for the chosen
// dataset's modality, each explained, and which of them a cloned job's settings fix or narrow.
export class FormHyperparameters {
  constructor(host) {
    this.modality = null;
    this.overrides = {};
    this.texts = null;
    this.error = "";
    this.summary = h("summary", {}, "Hyperparameters: what the search tunes");
    this.hint = h("p", { class: "hint" });
    // it scrolls inside its own box: the keyboard's arrows scroll it once it has the focus
    this.list = h("ul", { class: "hp-list", tabindex: "0", "aria-label": "What the search tunes" });
    this.root = h("details", { class: "advanced hp-form", id: "hp-form" }, this.summary, this.hint, this.list);
    host.append(this.root);
  }

  async load() {
    try {
      this.texts = await hyperparameterTexts();
      this.error = "";
    } catch (error) {
      this.error = `Could not load the explanations: ${error.message}`;
    }
    this.render();
  }

  show(modality) {
    this.modality = modality ?? null;
    this.render();
  }

  // `params`: the job's overrides the form carries (a clone's), parameter -> its setting
  setOverrides(params) {
    this.overrides = params && typeof params === "object" ? params : {};
    this.render();
  }

  render() {
    const listed = forModality(this.texts, this.modality);
    const set = listed.filter(([name]) => name in this.overrides).length;
    this.summary.textContent = `Hyperparameters: what the search tunes${set ? ` (${set} set by the copied job)` : ""}`;
    this.hint.textContent = this.error || (!this.texts ? "Loading the explanations…"
      : !listed.length ? "Choose a dataset to see the parameters its search tunes."
        : `For ${this.modality} datasets the search tunes these ${listed.length} parameters. "The search tries" `
          + "is the default space's range, which a job narrows further to fit its data and budget.");
    clear(this.list, listed.map(([name, text]) => h("li", { dataset: { param: name } },
      explanation(name, text, { modality: this.modality }),
      name in this.overrides ? h("p", { class: "hp-override" },
        `The copied job's settings: ${paramLabel(name)} ${overrideText(this.overrides[name])}.`) : null)));
  }
}
