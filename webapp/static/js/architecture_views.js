// The best model's architecture seen one of two ways, switched by two toggle buttons: the 2D
// graph (graph.js, shown first) or the 3D view (graph3d.js, built when first asked for). The
// toolbar's buttons (animate, reset view, PNG) act on the view shown. Where the 3D view cannot
// draw (no WebGL 2, no vendor files), the 2D graph stays and a message says why.

import { SIZE_RULE } from "./architecture.js";
import { ArchitectureView3D, Unavailable } from "./graph3d.js";

const HELP_3D = `${SIZE_RULE} Drag to orbit, scroll or pinch to zoom, right-drag or drag with two `
  + "fingers to pan (arrow keys pan, Shift with an arrow key orbits); point at a block, or tap "
  + "it, for its details.";

export class ArchitectureViews {
  // graph: the ArchitectureGraph; solid: the 3D view's container; switches: the "2D graph"
  // and "3D view" buttons (aria-pressed); help: the 3D view's legend; message: why not 3D.
  constructor({ graph, solid, switches: [flat, deep], help, message }) {
    this.graph = graph;
    this.view3d = new ArchitectureView3D({ container: solid, caption: graph.caption });
    this.panels = { "2d": graph.container, "3d": solid };
    this.switches = { "2d": flat, "3d": deep };
    this.help = help;
    this.message = message;
    this.mode = "2d";
    this.architecture = null;
    help.textContent = HELP_3D;
    flat.addEventListener("click", () => this.show("2d"));
    deep.addEventListener("click", () => this.show("3d"));
  }

  get active() {
    return this.mode === "3d" ? this.view3d : this.graph;
  }

  // The name of the PNG export, which says which view it shows.
  get pngName() {
    return this.mode === "3d" ? "architecture-3d" : "architecture";
  }

  render(architecture) {
    this.architecture = architecture;
    this.graph.render(architecture);
    if (this.mode === "3d") this.show("3d");
  }

  async show(mode) {
    this.active.stop();
    this.message.textContent = "";
    this.select(mode);
    if (mode === "2d" || !this.architecture) return;
    try {
      await this.view3d.show(this.architecture);
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      this.select("2d");
      this.message.textContent = error.message;
    }
  }

  select(mode) {
    this.mode = mode;
    for (const [key, panel] of Object.entries(this.panels)) panel.hidden = key !== mode;
    for (const [key, button] of Object.entries(this.switches)) button.setAttribute("aria-pressed", String(key === mode));
    this.help.hidden = mode !== "3d";
    if (mode === "2d") this.graph.refresh();
  }

  animate(direction) {
    this.active.animate(direction);
  }

  fit() {
    this.active.fit();
  }

  png() {
    return this.active.png();
  }

  // The job view closes: both views released, the next job starts on the 2D graph.
  destroy() {
    this.graph.destroy();
    this.view3d.destroy();
    this.architecture = null;
    this.select("2d");
  }
}
