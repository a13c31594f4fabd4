// What every dashboard chart shares: one lazy import of Apache ECharts (vendored from npm,
// fetched only when a chart is first drawn), a frame that sizes its chart to its box and
// redraws a layout that depends on the width, an "Enlarge" toggle, and the colours of
// trial states.

import { h, keepTabIn } from "./dom.js";

export const COLORS = {
  completed: "#1d4ed8",
  pruned: "#94a3b8",
  running: "#ea580c",
  best: "#ca8a04",
  median: "#475569",
};
export const NARROW = 600; // px: a chart narrower than this lays itself out for a phone
// the colours of things compared (trials of a job, two jobs), told apart without red-green;
// dark enough for text in them (jobs.css .compare-key)
export const PALETTE = ["#1d4ed8", "#c2410c", "#0f766e", "#9333ea"];

let loading = null;

// The ECharts module (one import for every chart); a failed import is tried again later.
export function loadECharts() {
  loading ??= import("echarts").catch((error) => {
    loading = null;
    throw error;
  });
  return loading;
}

// What every option starts with: no animation (live redraws), an accessible description.
export function baseOption(description) {
  return {
    animation: false,
    aria: { enabled: true, label: { description } },
    textStyle: { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif" },
  };
}

// Text for an ECharts tooltip (which is HTML): parameter values are the user's.
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// A parameter or score value on an axis or in a tooltip: short, exponents for tiny numbers.
export function shortValue(value) {
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) < 0.01 && value !== 0 ? value.toExponential(1) : String(Number(value.toPrecision(3)));
}

export function trialWord(count) {
  return `${count.toLocaleString("en-US")} trial${count === 1 ? "" : "s"}`;
}

// One chart in a <figure>: its box, a note under it, and an "Enlarge" toggle that lays the
// chart over the whole window (Escape closes it). `draw(build)` keeps `build(width)`, which
// returns `{option, height?}`, and calls it again whenever the box's width changes.
export class ChartFrame {
  // onPoint(params): a click on a point, line or bar (ECharts' event parameters);
  // enlarge: false for a small chart inside a dialog or a disclosure (no "Enlarge" toggle)
  constructor(host, { id, label, onPoint = null, enlarge = true }) {
    this.label = label;
    this.onPoint = onPoint;
    this.chart = null;
    this.build = null;
    this.width = 0;
    this.toggleButton = h("button", {
      type: "button", class: "button button--quiet chart-enlarge", "aria-pressed": "false",
      "aria-label": `Enlarge: ${label}`, onclick: () => this.setEnlarged(!this.enlarged),
    }, "Enlarge");
    this.box = h("div", { class: "chart-box", id });
    this.note = h("p", { class: "chart-note muted" });
    this.root = h("figure", { class: "chart-frame" },
      h("figcaption", { class: "chart-head" }, h("span", { class: "chart-title" }, label),
        enlarge ? this.toggleButton : null),
      this.box, this.note);
    // enlarged, it covers the page: the focus stays on it until Escape or its button
    this.onKey = (event) => {
      if (event.key === "Escape" && this.enlarged) {
        event.stopPropagation();
        this.setEnlarged(false);
        this.toggleButton.focus();
      }
      if (this.enlarged) keepTabIn(this.root, event);
    };
    host.append(this.root);
  }

  get enlarged() {
    return this.root.classList.contains("chart-frame--enlarged");
  }

  setEnlarged(on) {
    this.root.classList.toggle("chart-frame--enlarged", on);
    document.documentElement.classList.toggle("chart-enlarged-open", on);
    this.toggleButton.setAttribute("aria-pressed", String(on));
    this.toggleButton.textContent = on ? "Close enlarged view" : "Enlarge";
    this.toggleButton.setAttribute("aria-label", `${on ? "Close enlarged view" : "Enlarge"}: ${this.label}`);
    if (on) document.addEventListener("keydown", this.onKey);
    else document.removeEventListener("keydown", this.onKey);
  }

  // Draw (or redraw) with `build(width)`; `keep`: merge into the chart, keeping its zoom
  // and legend choices (live updates), rather than starting afresh. `inputs`: what the
  // option is made of; the same ones as last time (by identity) draw nothing.
  async draw(build, { keep = false, inputs = null } = {}) {
    if (inputs && this.chart && !this.chart.isDisposed() && this.inputs?.length === inputs.length
        && inputs.every((x, i) => x === this.inputs[i])) return;
    this.inputs = inputs;
    this.build = build;
    let echarts;
    try {
      echarts = await loadECharts();
    } catch (error) {
      console.warn("echarts is unavailable", error);
      this.message("The chart needs the vendor files (run scripts/setup.sh).");
      return;
    }
    if (this.build !== build) return; // a newer draw or a message came meanwhile
    this.box.hidden = false;
    if (!this.chart || this.chart.isDisposed()) {
      this.chart = echarts.init(this.box, null, { renderer: "canvas" });
      this.chart.on("click", (params) => this.onPoint?.(params));
      this.observer = new ResizeObserver(() => this.resized());
      this.observer.observe(this.box);
      keep = false;
    }
    this.render(keep);
  }

  // The box takes the layout's height first, so the chart is drawn once, at its size.
  render(keep) {
    this.width = this.box.clientWidth;
    const { option, height } = this.build(this.width);
    this.box.style.height = height ? `${height}px` : "";
    this.fit();
    this.chart.setOption(option, keep ? { replaceMerge: ["series"] } : { notMerge: true });
    this.box.dataset.rendered = String(Number(this.box.dataset.rendered || 0) + 1);
  }

  // Resize the chart to its box if they differ (a resize redraws everything).
  fit() {
    if (this.chart.getWidth() !== this.box.clientWidth || this.chart.getHeight() !== this.box.clientHeight) {
      this.chart.resize();
    }
  }

  resized() {
    if (!this.chart || this.chart.isDisposed() || !this.box.clientWidth) return;
    if (this.box.clientWidth !== this.width) this.render(true);
    else this.fit();
  }

  // No chart, a sentence instead (nothing to plot yet, or no vendor files).
  message(text) {
    this.dispose();
    this.box.hidden = true;
    this.note.textContent = text;
  }

  dispose() {
    this.build = null;
    this.inputs = null;
    this.observer?.disconnect();
    this.observer = null;
    this.chart?.dispose();
    this.chart = null;
    delete this.box.dataset.rendered;
    if (this.enlarged) this.setEnlarged(false);
  }
}
