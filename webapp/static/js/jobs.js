// The jobs page: past and running jobs, newest first, searched, filtered and paged by the
// server (GET /jobs?q&status&dataset&objective&kind); two searches can be picked and
// compared (#/compare/<a>/<b>).

import { api } from "./api.js";
import { $, JOB_STATUSES, clear, h, num, pct, statusBadge, statusLabel, when } from "./dom.js";
import { budgetSummary, splitText } from "./trialstate.js";

const PER_PAGE = 20;
const SEARCH_DELAY_MS = 300; // a search waits for a pause in typing, not every key
export const FILTERS = ["q", "status", "dataset", "objective", "kind"];
export const OBJECTIVE_LABELS = { simple: "Accuracy only", health: "Health-aware",
  pareto: "Pareto front" };

// The list's query string: the page and every filter that is set.
export function jobsQuery(filters, page = 1, perPage = PER_PAGE) {
  const query = new URLSearchParams({ page: String(page), per_page: String(perPage) });
  for (const name of FILTERS) {
    const value = (filters[name] ?? "").trim();
    if (value) query.set(name, value);
  }
  return query.toString();
}

// What the objective column says: a comparison has none of its own.
export function objectiveText(job) {
  if (job.kind === "compare") return "Comparison of both";
  return OBJECTIVE_LABELS[job.config?.objective] ?? job.config?.objective ?? "—";
}

export class JobsList {
  // datasets(): [{name, title}] for the dataset filter (the form's list, uploads included)
  constructor({ datasets }) {
    this.page = 1;
    this.total = 0;
    this.datasets = datasets;
    this.selected = new Map(); // id -> job, kept across pages; at most two
    this.searchTimer = null;
    $("#jobs-prev").addEventListener("click", () => this.load(this.page - 1));
    $("#jobs-next").addEventListener("click", () => this.load(this.page + 1));
    $("#jobs-refresh").addEventListener("click", () => this.load(this.page));
    const form = $("#jobs-filters");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.load(1);
    });
    form.addEventListener("change", (event) => {
      if (event.target.id !== "jobs-q") this.load(1);
    });
    $("#jobs-q").addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.load(1), SEARCH_DELAY_MS);
    });
    form.addEventListener("reset", () => setTimeout(() => this.load(1))); // after the reset
    $("#jobs-compare").addEventListener("click", () => {
      const [a, b] = [...this.selected.keys()];
      location.hash = `#/compare/${encodeURIComponent(a)}/${encodeURIComponent(b)}`;
    });
  }

  filters() {
    return Object.fromEntries(FILTERS.map((name) => [name, $(`#jobs-${name}`).value]));
  }

  // The filter menus' choices: statuses from the server, datasets from the form.
  fillMenus() {
    const menu = (select, options) => {
      const chosen = select.value;
      clear(select, h("option", { value: "" }, "Any"),
        options.map(([value, text]) => h("option", { value }, text)));
      if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
    };
    menu($("#jobs-status"), JOB_STATUSES.map((s) => [s, statusLabel(s)]));
    menu($("#jobs-dataset"), this.datasets().map((d) => [d.name, d.title || d.name]));
  }

  async load(page = 1) {
    clearTimeout(this.searchTimer);
    this.fillMenus();
    const list = $("#jobs-list");
    list.setAttribute("aria-busy", "true");
    $("#jobs-filter-error").textContent = "";
    try {
      const data = await api.jobsQuery(jobsQuery(this.filters(), Math.max(1, page)));
      this.page = data.page || page;
      this.total = data.total || 0;
      this.render(data.jobs || []);
    } catch (error) {
      const fields = Object.entries(error.fields || {}).map(([k, v]) => `${k}: ${v}`).join("; ");
      clear(list);
      $("#jobs-filter-error").textContent = `Could not load the jobs: ${fields || error.message}`;
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  filtered() {
    return FILTERS.some((name) => $(`#jobs-${name}`).value.trim());
  }

  render(jobs) {
    const list = $("#jobs-list");
    const pages = Math.max(1, Math.ceil(this.total / PER_PAGE));
    const found = this.filtered() ? " found" : "";
    $("#jobs-page").textContent = `Page ${this.page} of ${pages} · ${this.total} job${this.total === 1 ? "" : "s"}${found}`;
    $("#jobs-prev").disabled = this.page <= 1;
    $("#jobs-next").disabled = this.page >= pages;
    this.renderSelection();
    if (!jobs.length) {
      clear(list, h("p", { class: "muted" }, this.filtered()
        ? "No job matches the search and filters." : "No jobs yet. Start one from the dashboard."));
      return;
    }
    clear(list, h("table", { class: "data jobs-table" },
      h("caption", { class: "sr-only" }, "Jobs, newest first"),
      h("thead", {}, h("tr", {}, ["Compare", "Job", "Status", "Dataset", "Objective", "Trials",
        "Best accuracy", "Best score", "Created"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, jobs.map((job) => this.row(job)))));
  }

  row(job) {
    const summary = budgetSummary(job.counts || {}, job.budget ?? job.config?.trials ?? "?");
    const title = job.name || job.id;
    const pick = job.kind === "compare" ? h("span", { class: "muted" }, "—")
      : h("input", { type: "checkbox", class: "job-pick", "aria-label": `Compare ${title}`,
        checked: this.selected.has(job.id), dataset: { id: job.id },
        onchange: (event) => this.pick(job, event.target.checked) });
    return h("tr", { dataset: { id: job.id } },
      h("td", { "data-label": "Compare", class: "pick" }, pick),
      h("th", { scope: "row", "data-label": "Job" }, h("a", { href: `#/jobs/${encodeURIComponent(job.id)}`, class: job.name ? "" : "mono" }, title)),
      h("td", { "data-label": "Status" }, statusBadge(job.status)),
      h("td", { "data-label": "Dataset" }, job.config?.dataset || "—"),
      h("td", { "data-label": "Objective" }, objectiveText(job)),
      h("td", { "data-label": "Trials", class: "num" }, summary.text,
        h("span", { class: "trials-split" }, splitText(summary.split))),
      h("td", { "data-label": "Best accuracy", class: "num" }, pct(job.best_accuracy, 2)),
      h("td", { "data-label": "Best score", class: "num" }, num(job.best_score, 4)),
      h("td", { "data-label": "Created" }, when(job.created_at)));
  }

  pick(job, on) {
    if (on) this.selected.set(job.id, job);
    else this.selected.delete(job.id);
    this.renderSelection();
  }

  // Two picked: Compare goes; the other boxes wait until one is unpicked.
  renderSelection() {
    const full = this.selected.size >= 2;
    for (const box of document.querySelectorAll("#jobs-list .job-pick")) {
      box.disabled = full && !box.checked;
    }
    const names = [...this.selected.values()].map((job) => job.name || job.id);
    $("#jobs-selection").textContent = this.selected.size === 0
      ? "Pick two searches to compare them."
      : this.selected.size === 1 ? `${names[0]} picked: pick one more to compare.`
        : `${names.join(" and ")} picked.`;
    $("#jobs-compare").disabled = !full;
  }
}
