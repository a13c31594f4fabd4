// Two jobs compared (#/compare/<a>/<b>): both best-so-far curves on one Apache ECharts
// chart (chart_kit.js's frame, as every chart), and the two best models side by side:
// scores, health components, size and every hyperparameter, differences marked. Not to be
// confused with compare_trials_view.js (trials of one job) or a `kind: compare` job.

import { ApiError, allTrials, api } from "./api.js";
import { ChartFrame } from "./chart_kit.js";
import {
  CURVE_METRICS,
  bestSoFarOption,
  defaultMetric,
  jobBestSoFar,
  modelRows,
} from "./compare_jobs.js";
import { $, clear, h, statusBadge } from "./dom.js";
import { objectiveText } from "./jobs.js";
import { paramDiff } from "./side_by_side.js";

const jobLink = (job) => h("a", { href: `#/jobs/${encodeURIComponent(job.id)}` }, job.name || `Job ${job.id}`);

// A table of side_by_side.js's rows with a column per job; a differing row says so.
function sideBySide(rows, jobs, caption) {
  return h("table", { class: "data side-by-side" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, h("td", {}), // the corner: the rows name themselves
      jobs.map((job) => h("th", { scope: "col" }, job.name || `Job ${job.id}`)))),
    h("tbody", {}, rows.map(({ name, values, differs }) => h("tr", { class: differs ? "differs" : "" },
      h("th", { scope: "row" }, name, differs ? h("span", { class: "sr-only" }, " (differs)") : null),
      values.map((value, i) => h("td", { "data-label": jobs[i].name || jobs[i].id }, value))))));
}

export class CompareJobsView {
  constructor(root) {
    this.root = root;
    this.frame = new ChartFrame($("#compare-jobs-curves"), { id: "compare-jobs-chart",
      label: "Best so far of both jobs, by trial number" });
    this.ids = null;
    $("#compare-jobs-metric").addEventListener("change", () => this.drawCurves());
  }

  async open(a, b) {
    this.close();
    this.ids = [a, b];
    const ids = this.ids;
    $("#compare-jobs-title").textContent = "Comparing two jobs";
    clear($("#compare-jobs-list"));
    clear($("#compare-jobs-models"), h("p", { class: "muted" }, "Loading…"));
    $("#compare-jobs-error").textContent = "";
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
      $("#compare-jobs-error").textContent = error instanceof ApiError && error.status === 404
        ? "One of the two jobs does not exist, or is not yours to see." : `Could not load the jobs: ${error.message}`;
      clear($("#compare-jobs-models"));
      return;
    }
    if (this.ids !== ids) return;
    this.jobs = jobs;
    this.trials = trials;
    document.title = `${jobs.map((j) => j.name || j.id).join(" vs ")} — Onegin`;
    $("#compare-jobs-title").textContent = `${jobs[0].name || `Job ${jobs[0].id}`} vs ${jobs[1].name || `Job ${jobs[1].id}`}`;
    this.renderJobs(jobs);
    $("#compare-jobs-metric").value = defaultMetric(...jobs);
    await this.drawCurves();
    this.renderModels(jobs, bests);
  }

  renderJobs(jobs) {
    clear($("#compare-jobs-list"), jobs.map((job, i) => h("li", { class: `compare-job compare-job--${i ? "b" : "a"}` },
      h("span", { class: "compare-key", "aria-hidden": "true" }, i ? "- - -" : "——"), " ",
      jobLink(job), " ", statusBadge(job.status), " ",
      h("span", { class: "muted" }, [job.config?.dataset, objectiveText(job),
        `${job.config?.trials ?? "?"} trials`, `seed ${job.config?.seed ?? "—"}`].join(" · ")))));
  }

  async drawCurves() {
    if (!this.jobs) return;
    const metric = $("#compare-jobs-metric").value;
    const series = this.jobs.map((job, i) => ({ name: job.name || `Job ${job.id}`,
      points: jobBestSoFar(this.trials[i], metric) }));
    this.frame.box.dataset.points = series.map((s) => s.points.length).join(",");
    $("#compare-jobs-chart-table").replaceChildren(this.curveTable(series, metric));
    if (series.every((s) => !s.points.length)) {
      this.frame.message("Neither job has a completed trial yet.");
      return;
    }
    this.frame.note.textContent = "A point where a job found a better trial, and at its last completed trial; "
      + "pruned trials never count. The table below lists the same points.";
    await this.frame.draw(() => ({ option: bestSoFarOption(series, metric) }));
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
    clear($("#compare-jobs-models"),
      missing.length ? h("p", { class: "muted" }, `No best model yet for ${missing.join(" and ")}.`) : null,
      h("div", { class: "table-wrap" }, sideBySide(modelRows(bests), jobs, "Best models")),
      h("div", { class: "table-wrap" }, sideBySide(paramDiff(bests.map((best) => best?.params)), jobs,
        "Hyperparameters of the best models (rows that differ are marked)")));
  }

  close() {
    this.ids = null;
    this.jobs = null;
    this.frame.dispose();
  }
}
