// The Pareto front as an Apache ECharts scatter plot: validation accuracy against health
// score, the front's members highlighted and joined, the default best marked, and every
// point opening its trial's details. A table beside it lists the members with their models.

import { ChartFrame, baseOption } from "./chart_kit.js";
import { clear, h, num, pct } from "./dom.js";

export const FRONT_SERIES = "Pareto front";
export const DOMINATED_SERIES = "Dominated trials";
const COLORS = { front: "#1d4ed8", dominated: "#94a3b8", best: "#ca8a04", line: "#93c5fd" };

function point(trial, extra = {}) {
  return { value: [trial.val_accuracy, trial.health_score], number: trial.number, ...extra };
}

// The chart's ECharts option from GET /jobs/<id>/front (pure: node --test checks it).
export function frontOption(front) {
  const members = front.front || [];
  const best = front.best_trial;
  // walking the front from the most accurate member to the healthiest
  const line = [...members].sort((a, b) => a.val_accuracy - b.val_accuracy || b.health_score - a.health_score);
  const all = [...members, ...(front.dominated || [])];
  // axes from a round tenth below the lowest point up to 1
  const low = (key) => Math.max(0, Math.floor((Math.min(...all.map((t) => t[key])) - 0.02) * 10) / 10);
  return {
    ...baseOption(`Pareto front: ${members.length} trials no other beats on both validation accuracy and `
      + `health, and ${(front.dominated || []).length} dominated trials.`),
    grid: { left: 56, right: 20, top: 36, bottom: 48 },
    legend: { top: 0, data: [FRONT_SERIES, DOMINATED_SERIES] },
    tooltip: {
      trigger: "item",
      formatter: (p) => (p.data && p.data.number !== undefined
        ? `Trial #${p.data.number}${p.data.number === best ? " (best)" : ""}<br>`
          + `accuracy ${pct(p.data.value[0], 2)} · health ${num(p.data.value[1], 3)}`
        : ""),
    },
    xAxis: { type: "value", name: "Validation accuracy", nameLocation: "middle", nameGap: 30,
      min: all.length ? low("val_accuracy") : 0, max: 1 },
    yAxis: { type: "value", name: "Health score", nameLocation: "middle", nameGap: 40,
      min: all.length ? low("health_score") : 0, max: 1 },
    series: [
      { name: DOMINATED_SERIES, type: "scatter", symbolSize: 9, itemStyle: { color: COLORS.dominated },
        data: (front.dominated || []).map((t) => point(t)), cursor: "pointer" },
      { name: FRONT_SERIES, type: "scatter", symbolSize: 14, z: 3, cursor: "pointer",
        itemStyle: { color: COLORS.front, borderColor: "#fff", borderWidth: 1.5 },
        data: members.map((t) => point(t, t.number === best
          ? { symbol: "diamond", symbolSize: 20, itemStyle: { color: COLORS.best } } : {})) },
      { name: "front line", type: "line", silent: true, symbol: "none", z: 2, tooltip: { show: false },
        lineStyle: { color: COLORS.line, width: 2 }, data: line.map((t) => [t.val_accuracy, t.health_score]) },
    ],
  };
}

export class FrontChart {
  // panel: where the chart and its table go; onTrial(number, opener) opens that trial
  constructor(panel, { onTrial }) {
    this.onTrial = onTrial;
    this.frame = new ChartFrame(panel, { id: "front-chart", label: "Pareto front: accuracy against health",
      onPoint: (params) => params.data?.number !== undefined && onTrial(params.data.number, null) });
    this.frame.box.classList.add("front-chart");
    this.table = h("div", { class: "table-wrap", id: "front-table" });
    panel.append(this.table);
  }

  render(jobId, front, modelName) {
    const box = this.frame.box;
    box.dataset.front = String((front.front || []).length);
    box.dataset.dominated = String((front.dominated || []).length);
    this.renderTable(jobId, front, modelName);
    if (!(front.front || []).length) {
      this.frame.message("No completed trial yet.");
      return;
    }
    this.frame.note.textContent = "◆ the best by this job's weights; choose a point for its trial.";
    this.frame.draw(() => {
      box.dataset.members = front.front.map((t) => t.number).join(" "); // what is drawn
      return { option: frontOption(front) };
    }, { keep: true });
  }

  renderTable(jobId, front, modelName) {
    const rows = (front.front || []).map((t) => h("tr", { dataset: { number: String(t.number) } },
      h("th", { scope: "row" }, `#${t.number}`, t.number === front.best_trial ? " (best)" : ""),
      h("td", { class: "num" }, pct(t.val_accuracy, 2)),
      h("td", { class: "num" }, num(t.health_score, 3)),
      h("td", { class: "num" }, num(t.total_score, 4)),
      h("td", {},
        h("button", { type: "button", class: "button button--quiet",
          onclick: (event) => this.onTrial(t.number, event.currentTarget) }, "Details"),
        " ",
        h("a", { class: "button button--quiet", href: t.model_url, download: modelName(t.number) }, "Model"))));
    clear(this.table, rows.length ? h("table", { class: "front-table" },
      h("caption", {}, "The front's members: no other trial is both more accurate and healthier"),
      h("thead", {}, h("tr", {}, ["Trial", "Accuracy", "Health", "Total score", "Open"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows)) : null);
  }

  dispose() {
    this.frame.dispose();
    clear(this.table);
  }
}
