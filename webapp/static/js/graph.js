// The best model's architecture as an interactive Cytoscape.js graph (top to bottom),
// with a legend of the layer types present, tensor shapes on edges, an animated
// forward/backward pass and a PNG export. Falls back to the layer table alone.

import { detail, familyOf, layerEdges, levelRows, presentFamilies, runPass, topoOrder } from "./architecture.js";
import { clear, h, int, shape } from "./dom.js";

const ROW = 84; // vertical distance between layer levels, px at 100% zoom
const COLUMN = 260;

// Top-to-bottom positions: each level one row down, its layers side by side, centred.
function layeredPositions(order, edges) {
  const positions = {};
  levelRows(order, edges).forEach((names, depth) => {
    names.forEach((name, i) => {
      positions[name] = { x: (i - (names.length - 1) / 2) * COLUMN, y: depth * ROW };
    });
  });
  return positions;
}

export function layerTable(architecture) {
  return h("table", { class: "data" },
    h("caption", { class: "sr-only" }, "Layers of the best model"),
    h("thead", {}, h("tr", {}, ["Layer", "Type", "Details", "Output shape", "Params"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, architecture.layers.map((l) => h("tr", {},
      h("th", { scope: "row" }, l.name), h("td", {}, l.type), h("td", {}, detail(l)),
      h("td", {}, shape(l.output_shape)), h("td", { class: "num" }, int(l.params))))));
}

export class ArchitectureGraph {
  constructor({ container, legend, caption }) {
    this.container = container;
    this.legend = legend;
    this.caption = caption;
    this.cy = null;
    this.stopPass = null;
    this.order = [];
  }

  async render(architecture) {
    this.destroy();
    const layers = architecture.layers || [];
    const edges = architecture.edges || [];
    this.order = topoOrder(layers, edges);
    const present = presentFamilies(layers);
    clear(this.legend, present.map((f) => h("li", {},
      h("span", { class: "swatch", style: `background:${f.color}`, "aria-hidden": "true" }), f.name)));

    const positions = layeredPositions(this.order, edges);
    const levels = Math.max(...Object.values(positions).map((p) => p.y / ROW), 0) + 1;
    this.container.style.height = `${Math.min(1400, Math.max(300, levels * ROW + 40))}px`;

    let cytoscape;
    try {
      cytoscape = (await import("cytoscape")).default;
    } catch (error) {
      console.warn("cytoscape is unavailable", error);
      clear(this.container, h("p", { class: "muted graph-missing" },
        "The interactive graph needs the vendor files (run scripts/setup.sh); see the layer table."));
      return;
    }
    clear(this.container);
    const elements = [
      ...layers.map((l) => ({
        data: {
          id: l.name,
          label: `${l.name}\n${l.type}${detail(l) ? ` · ${detail(l)}` : ""}\n→ ${shape(l.output_shape)}`,
          color: familyOf(l.type).color,
        },
      })),
      ...layerEdges(layers, edges).map((e, i) => ({ data: { id: `e${i}`, source: e.source, target: e.target, label: shape(e.shape) } })),
    ];
    // On touch screens a drag must scroll the page, not pan the graph.
    const touch = window.matchMedia("(pointer: coarse)").matches;
    this.cy = cytoscape({
      container: this.container,
      elements,
      userPanningEnabled: !touch,
      userZoomingEnabled: !touch,
      boxSelectionEnabled: false,
      minZoom: 0.2,
      maxZoom: 3,
      style: [
        {
          selector: "node",
          style: {
            shape: "round-rectangle",
            "background-color": "data(color)",
            label: "data(label)",
            color: "#ffffff",
            "font-size": 11,
            "font-family": "system-ui, sans-serif",
            "text-wrap": "wrap",
            "text-valign": "center",
            "text-halign": "center",
            width: 230,
            height: 50,
            "border-width": 2,
            "border-color": "#ffffff",
            "transition-property": "background-color, border-color, border-width",
            "transition-duration": "200ms",
          },
        },
        {
          selector: "edge",
          style: {
            width: 2,
            "line-color": "#94a3b8",
            "target-arrow-color": "#94a3b8",
            "target-arrow-shape": "triangle",
            "curve-style": "bezier",
            label: "data(label)",
            "font-size": 10,
            color: "#1e293b",
            "text-background-color": "#ffffff",
            "text-background-opacity": 1,
            "text-background-padding": 2,
            "text-margin-x": 0,
            "transition-property": "line-color, target-arrow-color, width",
            "transition-duration": "200ms",
          },
        },
        { selector: "node.visited", style: { "border-color": "#111827", "border-width": 3 } },
        { selector: "node.active", style: { "background-color": "#f59e0b", color: "#111827", "border-color": "#111827", "border-width": 4 } },
        { selector: "edge.active", style: { "line-color": "#f59e0b", "target-arrow-color": "#f59e0b", width: 5 } },
        { selector: "edge.active.backward", style: { "line-color": "#dc2626", "target-arrow-color": "#dc2626" } },
        { selector: "node.active.backward", style: { "background-color": "#fca5a5" } },
      ],
      layout: { name: "preset", positions: (node) => positions[node.id()], fit: false },
    });
    this.container.cy = this.cy; // for debugging and tests
    this.cy.ready(() => this.fit());
  }

  // Fit the whole model, but never zoom in past 100% (small models stay at natural size).
  fit() {
    if (!this.cy) return;
    this.cy.fit(undefined, 20);
    if (this.cy.zoom() > 1) {
      this.cy.zoom(1);
      this.cy.center();
    }
  }

  // Highlight layers one after another: inputs to outputs (forward) or back (backward).
  animate(direction) {
    if (!this.cy) return;
    this.stop();
    this.stopPass = runPass(this.order, direction, {
      onStep: (name, backward) => {
        this.cy.elements().removeClass("active backward");
        const node = this.cy.getElementById(name);
        const links = backward ? node.outgoers("edge") : node.incomers("edge");
        node.addClass("active visited");
        links.addClass("active");
        if (backward) node.union(links).addClass("backward");
      },
      onEnd: () => this.cy.elements().removeClass("active backward visited"),
      say: (text) => {
        this.caption.textContent = text;
      },
    });
  }

  stop() {
    this.stopPass?.();
    this.stopPass = null;
    if (this.cy) this.cy.elements().removeClass("active backward visited");
  }

  // After the graph was hidden (the 3D view was shown): take the container's size again.
  refresh() {
    if (!this.cy) return;
    this.cy.resize();
    this.fit();
  }

  png() {
    if (!this.cy) return null;
    return this.cy.png({ output: "blob", full: true, scale: 2, bg: "#ffffff" });
  }

  destroy() {
    this.stop();
    if (this.cy) this.cy.destroy();
    this.cy = null;
  }
}
