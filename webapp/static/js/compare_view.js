// Two jobs compared (#/compare/<a>/<b>): both best-so-far curves on one Apache ECharts
// chart (loaded on first use, as front.js does), and the two best models side by side:
// scores, health components, size and every hyperparameter, differences marked.

import { ApiError, allTrials, api } from "./api.js";
import { $, clear, h, statusBadge } from "./dom.js";
import {
  CURVE_METRICS,
  bestSoFar,
  curvesOption,
  defaultMetric,
  modelRows,
  paramRows,
} from "./compare_jobs.js";
import { LazyChart } from "./echart.js";
import { objectiveText } from "./jobs.js";

const jobLink = (job) => h("a", { href: `#/jobs/${encodeURIComponent(job.id)}` }, job.name || `Job ${job.id}`);

// A table of rows [label, a, b, differs] with a column per job; a differing row says so.
function sideBySide(rows, jobs, caption) {
  return h("table", { class: "data side-by-side" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, h("td", {}), // the corner: the rows name themselves
      jobs.map((job) => h("th", { scope: "col" }, job.name || `Job ${job.id}`)))),
    h("tbody", {}, rows.map(([label, a, b, differs]) => h("tr", { class: differs ? "differs" : "" },
      h("th", { scope: "row" }, label, differs ? h("span", { class: "sr-only" }, " (differs)") : null),
      h("td", { "data-label": jobs[0].name || jobs[0].id }, a),
      h("td", { "data-label": jobs[1].name || jobs[1].id }, b)))));
}

export class CompareView {
  constructor(root) {
    this.root = root;
    this.chart = new LazyChart($("#compare-chart"));
    this.ids = null;
    $("#compare-metric").addEventListener("change", () => this.drawCurves());
  }

  async open(a, b) {
    this.close();
    this.ids = [a, b];
    const ids = this.ids;
    $("#compare-view-title").textContent = "Comparing two jobs";
    clear($("#compare-jobs"));
    clear($("#compare-models"), h("p", { class: "muted" }, "Loading…"));
    $("#compare-error").textContent = "";
    let jobs;
    let trials;
    let bests;
    try {
      [jobs, trials, bests] = await Promise.all([
        Promise.all(ids.map((id) => api.job(id))),
        Promise.all(ids.map((id) => allTrials(id, 500, "status=completed"))),
        // no best model yet (404) is a state to show, not an error
        Promise.all(ids.map((id) => api.best(id).catch(() => null))),
      ]);
    } catch (error) {
      if (this.ids !== ids) return;
      $("#compare-error").textContent = error instanceof ApiError && error.status === 404
        ? "One of the two jobs does not exist, or is not yours to see." : `Could not load the jobs: ${error.message}`;
      clear($("#compare-models"));
      return;
    }
    if (this.ids !== ids) return;
    this.jobs = jobs;
    this.trials = trials;
    document.title = `${jobs.map((j) => j.name || j.id).join(" vs ")} — Onegin`;
    $("#compare-view-title").textContent = `${jobs[0].name || `Job ${jobs[0].id}`} vs ${jobs[1].name || `Job ${jobs[1].id}`}`;
    this.renderJobs(jobs);
    $("#compare-metric").value = defaultMetric(...jobs);
    await this.drawCurves();
    this.renderModels(jobs, bests);
  }

  renderJobs(jobs) {
    clear($("#compare-jobs"), jobs.map((job, i) => h("li", { class: `compare-job compare-job--${i ? "b" : "a"}` },
      h("span", { class: "compare-key", "aria-hidden": "true" }, i ? "- - -" : "——"), " ",
      jobLink(job), " ", statusBadge(job.status), " ",
      h("span", { class: "muted" }, [job.config?.dataset, objectiveText(job),
        `${job.config?.trials ?? "?"} trials`, `seed ${job.config?.seed ?? "—"}`].join(" · ")))));
  }

  async drawCurves() {
    if (!this.jobs) return;
    const metric = $("#compare-metric").value;
    const series = this.jobs.map((job, i) => ({ name: job.name || `Job ${job.id}`,
      points: bestSoFar(this.trials[i], metric) }));
    const container = $("#compare-chart");
    container.dataset.points = series.map((s) => s.points.length).join(",");
    $("#compare-chart-table").replaceChildren(this.curveTable(series, metric));
    if (series.every((s) => !s.points.length)) {
      this.chart.dispose("Neither job has a completed trial yet.");
      return;
    }
    await this.chart.draw(curvesOption(series, metric));
  }

  // The curves' points as a table, for screen readers and for reading exact values.
  curveTable(series, metric) {
    const { label, format } = CURVE_METRICS[metric];
    return h("details", { class: "curve-table" },
      h("summary", {}, "The curves as a table"),
      series.map(({ name, points }) => h("table", { class: "data" },
        h("caption", {}, `${name}: best ${label.toLowerCase()} so far`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Trial"), h("th", { scope: "col" }, "Best so far"))),
        h("tbody", {}, points.map(([n, v]) => h("tr", {}, h("th", { scope: "row" }, `#${n}`), h("td", { class: "num" }, format(v))))))));
  }

  renderModels(jobs, bests) {
    const missing = jobs.filter((_, i) => !bests[i]).map((job) => job.name || job.id);
    clear($("#compare-models"),
      missing.length ? h("p", { class: "muted" }, `No best model yet for ${missing.join(" and ")}.`) : null,
      h("div", { class: "table-wrap" }, sideBySide(modelRows(...bests), jobs, "Best models")),
      h("div", { class: "table-wrap" }, sideBySide(paramRows(bests[0]?.params, bests[1]?.params), jobs,
        "Hyperparameters of the best models (rows that differ are marked)")));
  }

  close() {
    this.ids = null;
    this.jobs = null;
    this.chart.dispose();
  }
}
