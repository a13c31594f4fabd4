// The trials table of one job (#/jobs/<id>/trials): every parameter, metric and health
// component as a column. The server sorts, filters and pages (GET /jobs/<id>/trials with
// sort, status, min./max. and params. filters), so a job of thousands of trials costs one
// page per view; the CSV link carries the same query. Chosen columns are remembered.

import { api, urls } from "./api.js";
import { HEALTH_LABELS, clear, duration, h, int, num, pct, statusBadge } from "./dom.js";
import { MIN_COMPARED, compareHash } from "./trial_selection.js";

export const STORAGE_KEY = "onegin.trialsTable.columns";
export const PER_PAGE = 50;
const BASE_COLUMNS = ["number", "status", "total_score", "val_accuracy", "val_loss",
  "test_accuracy", "health_score", "duration"];
const LABELS = {
  number: "Trial", status: "Status", duration: "Duration", total_score: "Total score",
  val_accuracy: "Val accuracy", val_loss: "Val loss", test_accuracy: "Test accuracy",
  test_loss: "Test loss", holdout_accuracy: "Holdout accuracy", health_score: "Health score",
  epochs_run: "Epochs", param_count: "Parameters",
};
const PERCENT = new Set(["val_accuracy", "test_accuracy", "holdout_accuracy"]);
const PATHS = {
  val_loss: ["metrics", "val_loss"], test_accuracy: ["metrics", "test_accuracy"],
  test_loss: ["metrics", "test_loss"], epochs_run: ["metrics", "epochs_run"],
  param_count: ["metrics", "param_count"], holdout_accuracy: ["holdout", "accuracy"],
};

export function columnLabel(name) {
  if (LABELS[name]) return LABELS[name];
  if (name.startsWith("health.")) return HEALTH_LABELS[name.slice(7)] ?? name.slice(7);
  return name.startsWith("params.") ? name.slice(7) : name;
}

// A column's value in a trial from the list API (as the server's `column_value` reads it).
export function cellValue(trial, name) {
  if (name === "duration") {
    if (!trial.started_at || !trial.finished_at) return null;
    return (new Date(trial.finished_at) - new Date(trial.started_at)) / 1000;
  }
  const path = PATHS[name] ?? (name.includes(".") ? name.split(/\.(.*)/s, 2) : [name]);
  let value = trial;
  for (const key of path) value = value && typeof value === "object" ? value[key] : undefined;
  return value ?? null;
}

export function formatCell(name, value) {
  if (value === null || value === undefined) return "—";
  if (name === "duration") return duration(value);
  if (PERCENT.has(name)) return pct(value, 2);
  if (name === "number") return `#${value}`;
  if (name === "param_count" || name === "epochs_run") return int(value);
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    return Math.abs(value) < 0.001 ? value.toExponential(2) : num(value, 4);
  }
  return String(value);
}

// The list's query string (without the page) from the table's state.
export function queryString(state) {
  const params = new URLSearchParams();
  if (state.sort !== "number" || state.descending) params.set("sort", `${state.descending ? "-" : ""}${state.sort}`);
  if (state.statuses.length) params.set("status", state.statuses.join(","));
  for (const [name, { min, max }] of Object.entries(state.ranges)) {
    if (min !== null && min !== undefined && min !== "") params.set(`min.${name}`, String(min));
    if (max !== null && max !== undefined && max !== "") params.set(`max.${name}`, String(max));
  }
  for (const [name, values] of Object.entries(state.texts)) {
    if (values.length) params.set(name, values.join(","));
  }
  return params.toString();
}

// A click on a header: another column sorts ascending, the same column flips.
export function nextSort(state, name) {
  return state.sort === name ? { sort: name, descending: !state.descending } : { sort: name, descending: false };
}

export function ariaSort(state, name) {
  if (state.sort !== name) return "none";
  return state.descending ? "descending" : "ascending";
}

// The remembered column choice, kept to columns this job has; the default when none is.
// The trial column always leads: its button is the keyboard's way to a row's details.
export function chosenColumns(storage, available) {
  const names = new Set(available.map((c) => c.name));
  let saved = null;
  try {
    saved = JSON.parse(storage?.getItem(STORAGE_KEY) ?? "null");
  } catch {
    saved = null;
  }
  const kept = Array.isArray(saved) ? saved.filter((n) => names.has(n)) : [];
  if (kept.length) return kept.includes("number") ? kept : ["number", ...kept];
  return [...BASE_COLUMNS.filter((n) => names.has(n)), ...available.filter((c) => c.name.startsWith("params.")).map((c) => c.name)];
}

export function saveColumns(storage, names) {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(names));
  } catch {
    // storage full or disabled: the choice lasts for this page only
  }
}

export function emptyState() {
  return { sort: "number", descending: false, statuses: [], ranges: {}, texts: {}, page: 1 };
}

export class TrialsTable {
  // selection: the trials picked for a comparison (trial_selection.js), a box on each row
  constructor(root, { dialog, selection = null }) {
    this.root = root;
    this.dialog = dialog;
    this.selection = selection;
    selection?.subscribe((jobId, numbers) => jobId === this.jobId && this.selectionChanged(numbers));
    this.jobId = null;
    this.columns = [];
    this.shown = [];
    this.state = emptyState();
    this.seq = 0;
    this.trials = new Map();
  }

  async open(jobId) {
    if (this.jobId === jobId) return;
    this.jobId = jobId;
    this.state = emptyState();
    this.trials.clear();
    clear(this.root, h("p", { class: "muted", role: "status" }, "Loading trials…"));
    const seq = ++this.seq;
    const [columns, page] = await Promise.all([
      api.trialColumns(jobId), api.trialsQuery(jobId, this.pageQuery()),
    ]).catch((error) => {
      if (seq === this.seq) clear(this.root, h("p", { class: "form-error", role: "alert" }, `Could not load the trials: ${error.message}`));
      return [null, null];
    });
    if (seq !== this.seq || !columns) return;
    this.columns = columns.columns;
    this.shown = chosenColumns(globalThis.localStorage, this.columns);
    this.build();
    this.render(page);
  }

  close() {
    this.jobId = null;
    this.seq += 1;
  }

  pageQuery() {
    const query = queryString(this.state);
    return `${query ? `${query}&` : ""}page=${this.state.page}&per_page=${PER_PAGE}`;
  }

  csvUrl() {
    const query = queryString(this.state);
    return `${urls.trialsCsv(this.jobId)}?${query ? `${query}&` : ""}columns=${this.shown.map(encodeURIComponent).join(",")}`;
  }

  // ---- the fixed frame: title, column picker, filters, table, pager ---------------------

  build() {
    const id = this.jobId;
    this.table = h("table", { class: "trials-table", id: "trials-table-grid" });
    this.pageLabel = h("span", { id: "trials-table-page", "aria-live": "polite" });
    this.prev = h("button", { type: "button", class: "button button--quiet", id: "trials-table-prev", onclick: () => this.go(this.state.page - 1) }, "Previous");
    this.next = h("button", { type: "button", class: "button button--quiet", id: "trials-table-next", onclick: () => this.go(this.state.page + 1) }, "Next");
    this.csv = h("a", { class: "button", id: "trials-table-csv", download: `onegin-${id}-trials.csv` }, "Download CSV");
    this.chips = h("ul", { class: "filter-chips", id: "trials-table-filters", "aria-label": "Filters in use" });
    this.compareLink = this.selection && h("a", { class: "button", id: "trials-table-compare" });
    clear(this.root,
      h("div", { class: "section-head" },
        h("h2", { id: "trials-table-title" }, `Trials of job ${id}`),
        h("a", { class: "button button--quiet", href: `#/jobs/${encodeURIComponent(id)}` }, "Back to the job")),
      h("div", { class: "trials-toolbar", role: "group", "aria-label": "Table tools" },
        this.columnPicker(), this.filterForm(), this.csv, this.compareLink),
      this.chips,
      h("div", { class: "table-wrap" }, this.table),
      h("nav", { class: "pager", "aria-label": "Trial pages" }, this.prev, this.pageLabel, this.next));
  }

  columnPicker() {
    const boxes = this.columns.map((c) => h("li", {}, h("label", {},
      h("input", { type: "checkbox", value: c.name, checked: this.shown.includes(c.name),
        disabled: c.name === "number", onchange: () => pick() }),
      ` ${columnLabel(c.name)}`)));
    const list = h("ul", { class: "column-list" }, boxes);
    const pick = () => {
      const chosen = [...list.querySelectorAll("input:checked")].map((box) => box.value);
      this.shown = chosen; // the trial column's box is checked for good
      saveColumns(globalThis.localStorage, this.shown);
      this.render(this.lastPage);
    };
    return h("details", { class: "column-picker", id: "trials-table-columns" }, h("summary", {}, "Columns"), list);
  }

  filterForm() {
    const select = h("select", { id: "trials-filter-column", "aria-label": "Filter column" },
      this.columns.filter((c) => c.name !== "number").map((c) => h("option", { value: c.name }, columnLabel(c.name))));
    const low = h("input", { type: "number", step: "any", id: "trials-filter-min", "aria-label": "At least", placeholder: "min" });
    const high = h("input", { type: "number", step: "any", id: "trials-filter-max", "aria-label": "At most", placeholder: "max" });
    const choices = h("select", { multiple: true, id: "trials-filter-values", "aria-label": "Is one of" });
    const sync = () => {
      const c = this.columns.find((x) => x.name === select.value);
      const text = c?.kind === "text";
      low.hidden = text;
      high.hidden = text;
      choices.hidden = !text;
      clear(choices, (c?.values ?? []).map((v) => h("option", { value: v }, v)));
    };
    select.addEventListener("change", sync);
    sync();
    const form = h("form", { class: "trials-filter", id: "trials-filter-form", "aria-label": "Add a filter" },
      select, low, high, choices, h("button", { type: "submit", class: "button" }, "Add filter"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = select.value;
      const kind = this.columns.find((x) => x.name === name)?.kind;
      if (kind === "text") {
        const values = [...choices.selectedOptions].map((o) => o.value);
        if (!values.length) return;
        if (name === "status") this.state.statuses = values;
        else this.state.texts[name] = values;
      } else {
        if (low.value === "" && high.value === "") return;
        this.state.ranges[name] = { min: low.value, max: high.value };
      }
      low.value = "";
      high.value = "";
      this.state.page = 1;
      this.reload();
    });
    return form;
  }

  // ---- loading and rendering ------------------------------------------------------------

  go(page) {
    this.state.page = Math.max(1, page);
    this.reload();
  }

  async reload() {
    const seq = ++this.seq;
    const id = this.jobId;
    this.root.setAttribute("aria-busy", "true");
    try {
      const page = await api.trialsQuery(id, this.pageQuery());
      if (seq === this.seq) this.render(page);
    } catch (error) {
      if (seq === this.seq) this.pageLabel.textContent = `Could not load the trials: ${error.message}`;
    } finally {
      if (seq === this.seq) this.root.removeAttribute("aria-busy");
    }
  }

  render(page) {
    this.lastPage = page;
    this.trials = new Map(page.trials.map((t) => [t.number, t]));
    const head = h("tr", {}, this.selection && h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Compare")),
      this.shown.map((name) => h("th", { scope: "col", "aria-sort": ariaSort(this.state, name) },
      h("button", { type: "button", class: "sort", dataset: { column: name }, onclick: () => this.sortBy(name) }, columnLabel(name)))));
    const pick = (number) => this.selection && h("td", { class: "pick", onclick: (event) => event.stopPropagation() },
      this.selection.box(this.jobId, number));
    const rows = page.trials.map((trial) => h("tr", { dataset: { number: String(trial.number) }, onclick: (event) => this.details(trial.number, event) },
      pick(trial.number),
      this.shown.map((name) => (name === "number"
        ? h("th", { scope: "row" }, h("button", { type: "button", class: "linklike", "aria-label": `Trial ${trial.number} details` }, `#${trial.number}`))
        : h("td", { class: name === "status" ? "" : "num" }, name === "status" ? statusBadge(trial.status) : formatCell(name, cellValue(trial, name)))))));
    clear(this.table,
      h("caption", { class: "sr-only" }, `Trials of job ${this.jobId}, sorted by ${columnLabel(this.state.sort)}, ${this.state.descending ? "descending" : "ascending"}`),
      h("thead", {}, head),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: String(this.shown.length + (this.selection ? 1 : 0)), class: "muted" }, "No trial matches."))));
    const pages = Math.max(1, Math.ceil(page.total / PER_PAGE));
    this.pageLabel.textContent = `Page ${this.state.page} of ${pages} · ${page.total} trial${page.total === 1 ? "" : "s"}`;
    this.prev.disabled = this.state.page <= 1;
    this.next.disabled = this.state.page >= pages;
    this.csv.href = this.csvUrl();
    this.renderChips();
    if (this.selection) this.selectionChanged(this.selection.get(this.jobId));
    this.root.dataset.rendered = String(Number(this.root.dataset.rendered || 0) + 1);
    this.root.dispatchEvent(new CustomEvent("trials-table:rendered", { bubbles: true }));
  }

  // The rows' boxes and the link to the comparison follow the picked trials.
  selectionChanged(numbers) {
    this.selection.sync(this.jobId, this.table);
    this.compareLink.textContent = `Compare ${numbers.length} picked trials`;
    this.compareLink.href = compareHash(this.jobId, numbers);
    this.compareLink.hidden = numbers.length < MIN_COMPARED;
  }

  renderChips() {
    const chip = (text, remove) => h("li", {}, text, h("button", {
      type: "button", class: "chip-remove", "aria-label": `Remove filter ${text}`,
      onclick: () => { remove(); this.state.page = 1; this.reload(); },
    }, "×"));
    const s = this.state;
    clear(this.chips,
      s.statuses.length ? chip(`Status: ${s.statuses.join(", ")}`, () => { s.statuses = []; }) : null,
      Object.entries(s.ranges).map(([name, { min, max }]) => chip(
        `${columnLabel(name)}: ${min === "" ? "…" : min} to ${max === "" ? "…" : max}`, () => { delete s.ranges[name]; })),
      Object.entries(s.texts).map(([name, values]) => chip(
        `${columnLabel(name)}: ${values.join(", ")}`, () => { delete s.texts[name]; })));
  }

  sortBy(name) {
    Object.assign(this.state, nextSort(this.state, name), { page: 1 });
    this.reload().then(() => this.table.querySelector(`th button[data-column="${CSS.escape(name)}"]`)?.focus());
  }

  details(number, event) {
    const trial = this.trials.get(number);
    if (!trial) return;
    const opener = event.currentTarget.querySelector("button") ?? event.currentTarget;
    this.dialog.open(this.jobId, trial, opener);
  }
}
