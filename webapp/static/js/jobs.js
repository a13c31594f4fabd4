// The jobs page: past and running jobs, newest first, paged by the server.

import { api } from "./api.js";
import { $, clear, h, num, pct, statusBadge, when } from "./dom.js";
import { budgetSummary, splitText } from "./trialstate.js";

const PER_PAGE = 20;

export class JobsList {
  constructor() {
    this.page = 1;
    this.total = 0;
    $("#jobs-prev").addEventListener("click", () => this.load(this.page - 1));
    $("#jobs-next").addEventListener("click", () => this.load(this.page + 1));
    $("#jobs-refresh").addEventListener("click", () => this.load(this.page));
  }

  async load(page = 1) {
    const list = $("#jobs-list");
    list.setAttribute("aria-busy", "true");
    try {
      const data = await api.jobs(Math.max(1, page), PER_PAGE);
      this.page = data.page || page;
      this.total = data.total || 0;
      this.render(data.jobs || []);
    } catch (error) {
      clear(list, h("p", { class: "form-error" }, `Could not load the jobs: ${error.message}`));
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  render(jobs) {
    const list = $("#jobs-list");
    const pages = Math.max(1, Math.ceil(this.total / PER_PAGE));
    $("#jobs-page").textContent = `Page ${this.page} of ${pages} · ${this.total} job${this.total === 1 ? "" : "s"}`;
    $("#jobs-prev").disabled = this.page <= 1;
    $("#jobs-next").disabled = this.page >= pages;
    if (!jobs.length) {
      clear(list, h("p", { class: "muted" }, "No jobs yet. Start one from the dashboard."));
      return;
    }
    clear(list, h("table", { class: "data jobs-table" },
      h("caption", { class: "sr-only" }, "Jobs, newest first"),
      h("thead", {}, h("tr", {}, ["Job", "Status", "Dataset", "Objective", "Trials", "Best accuracy", "Best score", "Created"]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, jobs.map((job) => {
        const summary = budgetSummary(job.counts || {}, job.budget ?? job.config?.trials ?? "?");
        return h("tr", {},
          h("th", { scope: "row", "data-label": "Job" }, h("a", { href: `#/jobs/${encodeURIComponent(job.id)}`, class: job.name ? "" : "mono" }, job.name || job.id)),
          h("td", { "data-label": "Status" }, statusBadge(job.status)),
          h("td", { "data-label": "Dataset" }, job.config?.dataset || "—"),
          h("td", { "data-label": "Objective" }, job.config?.objective === "simple" ? "Accuracy only" : "Health-aware"),
          h("td", { "data-label": "Trials", class: "num" }, summary.text,
            h("span", { class: "trials-split" }, splitText(summary.split))),
          h("td", { "data-label": "Best accuracy", class: "num" }, pct(job.best_accuracy, 2)),
          h("td", { "data-label": "Best score", class: "num" }, num(job.best_score, 4)),
          h("td", { "data-label": "Created" }, when(job.created_at)));
      }))));
  }
}
