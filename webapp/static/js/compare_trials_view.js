// Two to four trials of a job side by side (#/jobs/<id>/compare/3,7; two jobs are
// compare_jobs_view.js): their parameters and scores in one table (the rows that differ
// marked), their learning curves overlaid and their health on one radar, each trial in the
// same colour everywhere. `scoreRows` is pure, for node --test.

import { api } from "./api.js";
import { ChartFrame, NARROW, PALETTE } from "./chart_kit.js";
import { curvesOption } from "./curves_chart.js";
import { clear, h, int, label, num, pct } from "./dom.js";
import { radarOption } from "./radar_chart.js";
import { paramDiff, sideRow } from "./side_by_side.js";
import { MIN_COMPARED, MAX_COMPARED, compareHash } from "./trial_selection.js";

// How the trials ended and scored, as rows like paramDiff's.
export function scoreRows(trials) {
  const rows = [
    ["Status", trials.map((t) => t.status), label],
    ["Validation accuracy", trials.map((t) => t.val_accuracy), (v) => pct(v, 2)],
    ["Total score", trials.map((t) => t.total_score), (v) => num(v, 4)],
    ["Health score", trials.map((t) => t.health_score), (v) => num(v, 3)],
    ["Epochs run", trials.map((t) => t.metrics?.epochs_run), int],
    ["Parameters (weights)", trials.map((t) => t.metrics?.param_count), int],
  ];
  return rows.map(([name, values, format]) => sideRow(name, values, format));
}

export class CompareTrialsView {
  // curves: the job's CurveStore (live epochs); onTrial(number, opener) opens the details;
  // onChange(numbers): the user removed a trial from the comparison
  constructor(panel, { curves, onTrial, onChange }) {
    this.panel = panel;
    this.store = curves;
    this.onTrial = onTrial;
    this.onChange = onChange;
    this.trials = [];
    this.body = h("div", { class: "compare-trials-body" });
    const charts = h("div", { class: "compare-trials-charts" });
    this.curves = new ChartFrame(charts, { id: "compare-trials-curves", label: "Learning curves of the compared trials",
      onPoint: (p) => p.data?.number !== undefined && this.onTrial(p.data.number, null) });
    this.radar = new ChartFrame(charts, { id: "compare-trials-radar", label: "Health of the compared trials" });
    this.charts = charts;
    panel.append(this.body, charts);
  }

  async show(jobId, numbers) {
    this.jobId = jobId;
    this.numbers = numbers;
    this.panel.dataset.trials = numbers.join(",");
    if (numbers.length < MIN_COMPARED) {
      this.trials = [];
      this.charts.hidden = true;
      clear(this.body, h("p", { class: "muted", id: "compare-trials-help" },
        `Pick ${MIN_COMPARED} to ${MAX_COMPARED} trials with the Compare box on their cards above, or on the `
        + "rows of the table of all trials, then choose Compare here.",
        numbers.length ? ` Picked so far: #${numbers[0]}.` : ""));
      return;
    }
    const found = await Promise.all(numbers.map((n) => api.trial(jobId, n).catch(() => null)));
    if (this.jobId !== jobId || this.numbers !== numbers) return;
    this.trials = found.filter(Boolean);
    const missing = numbers.filter((_, i) => !found[i]);
    this.renderTable(missing);
    this.charts.hidden = false;
    this.drawCharts();
  }

  renderTable(missing) {
    const trials = this.trials;
    const head = h("tr", {}, h("th", { scope: "col" }, "Trial"), trials.map((t, i) => h("th", { scope: "col" },
      h("span", { class: "swatch", "aria-hidden": "true", style: `background:${PALETTE[i % PALETTE.length]}` }),
      ` #${t.number} `,
      h("button", { type: "button", class: "button button--quiet", "aria-label": `Trial ${t.number} details`,
        onclick: (event) => this.onTrial(t.number, event.currentTarget) }, "Details"),
      h("button", { type: "button", class: "chip-remove", "aria-label": `Remove trial ${t.number} from the comparison`,
        onclick: () => this.onChange(this.numbers.filter((n) => n !== t.number)) }, "×"))));
    const body = (rows, group) => [
      h("tr", { class: "compare-trials-group" }, h("th", { scope: "rowgroup", colspan: String(trials.length + 1) }, group)),
      ...rows.map((r) => h("tr", { class: r.differs ? "differs" : "same", dataset: { name: r.name } },
        h("th", { scope: "row" }, r.name, r.differs ? h("span", { class: "differs-mark" }, " ≠", h("span", { class: "sr-only" }, " differs")) : ""),
        r.values.map((v) => h("td", {}, v)))),
    ];
    const only = h("input", { type: "checkbox", id: "compare-trials-only-differences",
      onchange: () => table.classList.toggle("only-differences", only.checked) });
    const params = paramDiff(trials.map((t) => t.params));
    const table = h("table", { class: "compare-trials-table", id: "compare-trials-table" },
      h("caption", {}, `Trials ${trials.map((t) => `#${t.number}`).join(", ")}: `
        + `${params.filter((r) => r.differs).length} of ${params.length} parameters differ (marked ≠)`),
      h("thead", {}, head),
      h("tbody", {}, body(scoreRows(trials), "Result"), body(params, "Parameters")));
    clear(this.body,
      missing.length ? h("p", { class: "form-error", role: "alert" }, `No trial ${missing.map((n) => `#${n}`).join(", ")} in this job.`) : null,
      h("p", { class: "compare-trials-tools" },
        h("label", {}, only, " Show only what differs"),
        " ",
        h("a", { class: "button button--quiet", href: compareHash(this.jobId, this.numbers) }, "Link to this comparison")),
      h("div", { class: "table-wrap" }, table));
  }

  // The curves: each trial's record, with the epochs live events brought since.
  drawCharts() {
    const entries = this.trials.map((t) => {
      const live = this.store.get(t.number);
      return [t.number, { status: live?.status ?? t.status, points: { ...t.intermediate, ...live?.points } }];
    });
    if (entries.some(([, c]) => Object.keys(c.points).length)) {
      this.curves.draw(() => ({ option: curvesOption(entries, { palette: true }) }), { keep: true });
    } else {
      this.curves.message("None of these trials has finished an epoch yet.");
    }
    if (this.trials.some((t) => t.health)) {
      this.radar.draw((width) => ({ option: radarOption(this.trials, { compared: true, narrow: width < NARROW }) }));
    } else {
      this.radar.message("No health yet: it is measured when a trial completes.");
    }
  }

  // A live event changed the curve of `number`: redraw if it is compared.
  changed(number) {
    if (this.trials.some((t) => t.number === number)) this.drawCharts();
  }

  dispose() {
    this.curves.dispose();
    this.radar.dispose();
    this.trials = [];
    this.numbers = [];
  }
}
