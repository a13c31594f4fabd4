// One Apache ECharts chart in a container: the vendored module loaded on first draw (the
// dashboard's first screen needs none), resized with the window, disposed on demand.

import { clear, h } from "./dom.js";

export class LazyChart {
  // onInit(chart): once per chart made (click handlers)
  constructor(container, { onInit } = {}) {
    this.container = container;
    this.onInit = onInit;
    this.chart = null;
    this.resize = () => this.chart?.resize();
  }

  // Draw `option` (replacing the last); without the vendor files, a note in its place.
  async draw(option) {
    let echarts;
    try {
      echarts = await import("echarts");
    } catch (error) {
      console.warn("echarts is unavailable", error);
      clear(this.container, h("p", { class: "muted graph-missing" },
        "The chart needs the vendor files (run scripts/setup.sh); see the table."));
      return;
    }
    if (!this.chart || this.chart.isDisposed()) {
      clear(this.container);
      this.chart = echarts.init(this.container, null, { renderer: "canvas" });
      this.onInit?.(this.chart);
      window.addEventListener("resize", this.resize);
    }
    this.chart.setOption(option, true);
    this.container.dataset.rendered = "true";
  }

  // Gone, with `message` (if any) in its place. The role and label ECharts' aria gave the
  // container go too: an image's content is hidden from screen readers, and the message is
  // no image.
  dispose(message = null) {
    window.removeEventListener("resize", this.resize);
    this.chart?.dispose();
    this.chart = null;
    delete this.container.dataset.rendered;
    this.container.removeAttribute("role");
    this.container.removeAttribute("aria-label");
    if (message) clear(this.container, h("p", { class: "muted" }, message));
  }
}
