// The best model's architecture as an interactive Cytoscape.js graph (top to bottom),
// with a legend of the layer types present, tensor shapes on edges, an animated
// forward/backward pass and a PNG export. Falls back to the layer table alone.

import { clear, h, int, shape } from "./dom.js";

// Layer families: colour and legend name.
const FAMILIES = [
  { name: "Input", color: "#64748b", match: /^InputLayer$/ },
  { name: "Convolution", color: "#2563eb", match: /^(Conv|SeparableConv|DepthwiseConv)/ },
  { name: "Pooling", color: "#0891b2", match: /Pooling/ },
  { name: "Recurrent", color: "#7c3aed", match: /^(LSTM|GRU|SimpleRNN|Bidirectional|RNN)$/ },
  { name: "Embedding", color: "#a16207", match: /^Embedding$/ },
  { name: "Dense", color: "#16a34a", match: /^Dense$/ },
  { name: "Normalization", color: "#db2777", match: /Normalization$/ },
  { name: "Dropout", color: "#9ca3af", match: /Dropout$/ },
  { name: "Reshape", color: "#ea580c", match: /^(Flatten|Reshape|Permute|RepeatVector)$/ },
  { name: "Activation", color: "#ca8a04", match: /^(Activation|ReLU|LeakyReLU|Softmax|ELU|PReLU)$/ },
  { name: "Merge", color: "#0d9488", match: /^(Add|Concatenate|Multiply|Average|Subtract)$/ },
];
const OTHER = { name: "Other", color: "#475569" };
const STEP_MS = 420;
const ROW = 84; // vertical distance between layer levels, px at 100% zoom
const COLUMN = 260;

// Top-to-bottom positions: a layer's level is one more than its deepest input; layers on
// one level sit side by side, centred.
export function layeredPositions(order, edges) {
  const level = {};
  for (const name of order) {
    const inputs = edges.filter((e) => e.target === name && e.source in level).map((e) => level[e.source]);
    level[name] = inputs.length ? Math.max(...inputs) + 1 : 0;
  }
  const rows = {};
  for (const name of order) (rows[level[name]] ||= []).push(name);
  const positions = {};
  for (const [depth, names] of Object.entries(rows)) {
    names.forEach((name, i) => {
      positions[name] = { x: (i - (names.length - 1) / 2) * COLUMN, y: Number(depth) * ROW };
    });
  }
  return positions;
}

export function familyOf(type) {
  return FAMILIES.find((f) => f.match.test(type || "")) || OTHER;
}

function detail(layer) {
  const bits = [];
  if (layer.filters) bits.push(`${layer.filters} filters`);
  if (layer.kernel_size) bits.push(`${[].concat(layer.kernel_size).join("×")} kernel`);
  if (layer.units) bits.push(`${layer.units} units`);
  if (layer.pool_size) bits.push(`pool ${[].concat(layer.pool_size).join("×")}`);
  if (layer.rate !== undefined) bits.push(`rate ${layer.rate}`);
  if (layer.output_dim) bits.push(`dim ${layer.output_dim}`);
  if (layer.activation && layer.activation !== "linear") bits.push(layer.activation);
  return bits.join(", ");
}

// Layers in an order where each comes after its inputs (Kahn; ties keep the given order).
export function topoOrder(layers, edges) {
  const names = layers.map((l) => l.name);
  const indegree = new Map(names.map((n) => [n, 0]));
  const next = new Map(names.map((n) => [n, []]));
  for (const e of edges) {
    if (!indegree.has(e.source) || !indegree.has(e.target)) continue;
    indegree.set(e.target, indegree.get(e.target) + 1);
    next.get(e.source).push(e.target);
  }
  const ready = names.filter((n) => indegree.get(n) === 0);
  const order = [];
  while (ready.length) {
    const n = ready.shift();
    order.push(n);
    for (const m of next.get(n)) {
      indegree.set(m, indegree.get(m) - 1);
      if (indegree.get(m) === 0) ready.push(m);
    }
  }
  for (const n of names) if (!order.includes(n)) order.push(n); // cycles: should not happen
  return order;
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
    this.timer = null;
    this.order = [];
  }

  async render(architecture) {
    this.destroy();
    const layers = architecture.layers || [];
    const edges = architecture.edges || [];
    this.order = topoOrder(layers, edges);
    const present = [];
    for (const layer of layers) {
      const family = familyOf(layer.type);
      if (!present.includes(family)) present.push(family);
    }
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
      ...edges
        .filter((e) => layers.some((l) => l.name === e.source) && layers.some((l) => l.name === e.target))
        .map((e, i) => ({ data: { id: `e${i}`, source: e.source, target: e.target, label: shape(e.shape) } })),
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
  animate(direction, onDone) {
    if (!this.cy) return;
    this.stop();
    const backward = direction === "backward";
    const order = backward ? [...this.order].reverse() : this.order;
    let i = 0;
    const step = () => {
      this.cy.elements().removeClass("active backward");
      if (i >= order.length) {
        this.cy.elements().removeClass("visited");
        this.caption.textContent = `${backward ? "Backward" : "Forward"} pass finished.`;
        this.timer = null;
        onDone?.();
        return;
      }
      const node = this.cy.getElementById(order[i]);
      const links = backward ? node.outgoers("edge") : node.incomers("edge");
      node.addClass("active visited");
      links.addClass("active");
      if (backward) node.union(links).addClass("backward");
      const what = backward ? "gradients flow back through" : "activations flow through";
      this.caption.textContent = `${backward ? "Backward" : "Forward"} pass, step ${i + 1} of ${order.length}: ${what} ${order[i]}.`;
      i += 1;
      this.timer = setTimeout(step, STEP_MS);
    };
    step();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.cy) this.cy.elements().removeClass("active backward visited");
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
