// Learning curves: each trial's validation accuracy by epoch, overlaid, kept up to date by
// the job's live events (each epoch's end arrives as a trial_progress event). The store and
// the options are pure, for node --test.

import { COLORS, PALETTE, baseOption, shortValue } from "./chart_kit.js";
import { pct } from "./dom.js";

const SYMBOLS_UP_TO = 12; // curves: fewer show a dot per epoch

// number -> {status, score, points: {epoch: accuracy}}, from GET /analysis and then events.
export class CurveStore {
  constructor() {
    this.curves = new Map();
    this.version = 0; // counts the changes, so a chart knows when to draw again
  }

  // analysis: {trials: [{number, status, total_score}], curves: {number: {epoch: value}}}
  load(analysis) {
    this.version += 1;
    const rows = new Map((analysis.trials || []).map((t) => [t.number, t]));
    const live = [...this.curves].filter(([, c]) => c.status === "running");
    this.curves = new Map(Object.entries(analysis.curves || {}).map(([n, points]) => {
      const row = rows.get(Number(n)) || {};
      return [Number(n), { status: row.status, score: row.total_score ?? null, points: { ...points } }];
    }));
    // a running trial's epochs since the read stay (the read may predate the last events)
    for (const [n, curve] of live) {
      const known = this.curves.get(n);
      if (!known) this.curves.set(n, curve);
      else if (known.status === "running") known.points = { ...known.points, ...curve.points };
    }
  }

  get size() {
    return this.curves.size;
  }

  get(number) {
    return this.curves.get(number);
  }

  // One job event; true when a curve changed (a new epoch, a new or ended trial).
  apply(event) {
    const changed = this.change(event);
    if (changed) this.version += 1;
    return changed;
  }

  change(event) {
    const n = event.trial;
    const data = event.data || {};
    if (n === null || n === undefined) return false;
    const curve = this.curves.get(n);
    if (event.type === "trial_started") {
      this.curves.set(n, { status: "running", score: null, points: curve?.points ?? {} });
      return true;
    }
    if (event.type === "trial_progress") {
      const value = data.metrics?.val_accuracy;
      if (data.phase !== "training" || data.epoch_fraction !== 1 || typeof value !== "number") return false;
      const entry = curve ?? { status: "running", score: null, points: {} };
      if (entry.points[String(data.epoch)] === value) return false;
      entry.points = { ...entry.points, [String(data.epoch)]: value };
      this.curves.set(n, entry);
      return true;
    }
    if (event.type === "trial_finished" && curve) {
      curve.status = data.status ?? curve.status;
      curve.score = data.result?.total_score ?? curve.score;
      return true;
    }
    return false;
  }
}

// A curve's points as [[epoch, accuracy]] by epoch.
export function curvePoints(points) {
  return Object.entries(points).map(([e, v]) => [Number(e), v]).sort((a, b) => a[0] - b[0]);
}

function lineStyleFor(curve, best) {
  if (best) return { color: COLORS.best, width: 3, opacity: 1 };
  if (curve.status === "running") return { color: COLORS.running, width: 2.5, opacity: 1 };
  if (curve.status === "pruned") return { color: COLORS.pruned, width: 1, type: "dashed", opacity: 0.7 };
  if (curve.status === "completed") return { color: COLORS.completed, width: 1.2, opacity: 0.45 };
  return { color: COLORS.median, width: 1, opacity: 0.5 };
}

// entries: [[number, curve]]; colours by state (the best trial gold), or `palette` colours
// in order and a legend (a comparison of a few trials).
export function curvesOption(entries, { best = null, palette = false } = {}) {
  const shown = entries.filter(([, c]) => Object.keys(c.points).length);
  const running = shown.filter(([, c]) => c.status === "running").length;
  return {
    ...baseOption(`Learning curves: validation accuracy by epoch of ${shown.length} trials`
      + `${running ? `, ${running} still training` : ""}.`),
    grid: { left: 52, right: 18, top: palette ? 52 : 34, bottom: 44 },
    legend: palette ? { top: 0, type: "scroll" } : { show: false },
    tooltip: {
      trigger: "item",
      formatter: (p) => `${p.seriesName}${p.data.status ? ` (${p.data.status})` : ""}, epoch ${p.value[0]}: `
        + `${pct(p.value[1], 2)} validation accuracy`,
    },
    xAxis: { type: "value", name: "Epoch", nameLocation: "middle", nameGap: 26, minInterval: 1, min: 1 },
    yAxis: { type: "value", name: "Validation accuracy", scale: true, axisLabel: { formatter: shortValue } },
    series: shown.map(([number, curve], i) => {
      const style = palette ? { color: PALETTE[i % PALETTE.length], width: 2.5 } : lineStyleFor(curve, number === best);
      return {
        id: `trial-${number}`, name: `Trial #${number}`, type: "line", cursor: "pointer",
        // a curve of one epoch is a dot, or it would not show at all
        showSymbol: shown.length <= SYMBOLS_UP_TO || Object.keys(curve.points).length === 1, symbolSize: 6,
        z: number === best || curve.status === "running" ? 3 : 2,
        lineStyle: style, itemStyle: { color: style.color },
        emphasis: { focus: "series", lineStyle: { width: 3.5, opacity: 1 } },
        data: curvePoints(curve.points).map((value) => ({ value, number, status: curve.status })),
      };
    }),
  };
}
