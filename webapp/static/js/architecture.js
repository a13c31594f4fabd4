// What the 2D graph (graph.js) and the 3D view (graph3d.js) share about one architecture.json:
// layer families and their colours, an order where each layer follows its inputs, levels (a
// layer sits one past its deepest input), the forward/backward pass's steps and captions, and
// the 3D blocks' sizes, places and camera distance. Pure (no DOM, no three.js): node --test
// checks it (architecture.test.mjs).

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

export function familyOf(type) {
  return FAMILIES.find((f) => f.match.test(type || "")) || OTHER;
}

// The families present, in the order their first layer appears (the legend's entries).
export function presentFamilies(layers) {
  const present = [];
  for (const layer of layers) {
    const family = familyOf(layer.type);
    if (!present.includes(family)) present.push(family);
  }
  return present;
}

// A layer's settings in a few words ("32 filters, 3×3 kernel, relu").
export function detail(layer) {
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

// Edges between two layers the architecture lists (an edge naming anything else is dropped).
export function layerEdges(layers, edges) {
  const names = new Set(layers.map((l) => l.name));
  return edges.filter((e) => names.has(e.source) && names.has(e.target));
}

// Layers in an order where each comes after its inputs (Kahn; ties keep the given order).
export function topoOrder(layers, edges) {
  const names = layers.map((l) => l.name);
  const indegree = new Map(names.map((n) => [n, 0]));
  const next = new Map(names.map((n) => [n, []]));
  for (const e of layerEdges(layers, edges)) {
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

// The layers level by level (in `order`): a layer's level is one more than its deepest input.
export function levelRows(order, edges) {
  const level = {};
  for (const name of order) {
    const inputs = edges.filter((e) => e.target === name && e.source in level).map((e) => level[e.source]);
    level[name] = inputs.length ? Math.max(...inputs) + 1 : 0;
  }
  const rows = [];
  for (const name of order) (rows[level[name]] ||= []).push(name);
  return rows;
}

// ---- the animated pass -------------------------------------------------------------------

export const STEP_MS = 420; // one layer's turn in the forward or backward pass, both views

// Step through `order` (reversed for "backward"), one layer every STEP_MS: onStep(name,
// backward) for each, then onEnd(); say(text) gets the caption of each step. Returns stop().
export function runPass(order, direction, { onStep, onEnd, say }) {
  const backward = direction === "backward";
  const steps = backward ? [...order].reverse() : order;
  const pass = backward ? "Backward" : "Forward";
  const what = backward ? "gradients flow back through" : "activations flow through";
  let i = 0;
  let timer = null;
  const step = () => {
    if (i >= steps.length) {
      timer = null;
      onEnd();
      say(`${pass} pass finished.`);
      return;
    }
    onStep(steps[i], backward);
    say(`${pass} pass, step ${i + 1} of ${steps.length}: ${what} ${steps[i]}.`);
    i += 1;
    timer = setTimeout(step, STEP_MS);
  };
  step();
  return () => clearTimeout(timer);
}

// ---- 3D blocks -----------------------------------------------------------------------------

// Block sizes in the 3D view. An output of shape [batch, d1, d2, d3, …] becomes a box whose
// height follows d1, depth d2 and thickness along the flow d3 (times any further sizes); a
// vector's units are its height. Each side is 1 + log2(size) scene units, a missing or unknown
// (null) size counting 1: the log keeps a 28×28×32 map (5.8 × 5.8 × 6) and a 10-unit dense
// layer (4.3 × 1 × 1) both in sight beside a 12,544-unit flatten (14.6 high).
export const SIZE_RULE = "Each block is a layer's output: its height, depth and thickness are "
  + "1 + log₂ of the output's height, width and channels (a vector's units set its height), so "
  + "small and large layers both show.";

export function blockSide(size) {
  return 1 + Math.log2(Number.isFinite(size) && size >= 1 ? size : 1);
}

export function blockSize(outputShape) {
  const dims = Array.isArray(outputShape) ? outputShape.slice(1) : [];
  const [first = 1, second = 1, ...rest] = dims.map((d) => (d === null ? 1 : d));
  const third = rest.reduce((a, b) => a * b, 1);
  return { height: blockSide(first), depth: blockSide(second), thickness: blockSide(third) };
}

export const LEVEL_GAP = 3; // scene units between one level's blocks and the next's
export const SIBLING_GAP = 2; // between two layers on one level

// Each layer's block: size and centre [x, y, z]. Levels run along +x (inputs first), layers
// sharing a level stand side by side along z (centred on z = 0), all centred on y = 0.
// Links join a block's +x face to its successor's −x face.
export function blockLayout(layers, edges) {
  const kept = layerEdges(layers, edges);
  const order = topoOrder(layers, kept);
  const byName = new Map(layers.map((l) => [l.name, l]));
  const sizes = new Map(layers.map((l) => [l.name, blockSize(l.output_shape)]));
  const centres = new Map();
  let x = 0;
  for (const names of levelRows(order, kept)) {
    const thickness = Math.max(...names.map((n) => sizes.get(n).thickness));
    const depths = names.map((n) => sizes.get(n).depth);
    const width = depths.reduce((a, b) => a + b, 0) + SIBLING_GAP * (names.length - 1);
    let z = -width / 2;
    names.forEach((name, i) => {
      centres.set(name, [x + thickness / 2, 0, z + depths[i] / 2]);
      z += depths[i] + SIBLING_GAP;
    });
    x += thickness + LEVEL_GAP;
  }
  const blocks = order.map((name) => ({
    name, layer: byName.get(name), size: sizes.get(name), centre: centres.get(name),
  }));
  const at = new Map(blocks.map((b) => [b.name, b]));
  const face = (block, sign) => [block.centre[0] + sign * block.size.thickness / 2, ...block.centre.slice(1)];
  const links = kept.map((e) => ({
    source: e.source, target: e.target, from: face(at.get(e.source), 1), to: face(at.get(e.target), -1),
  }));
  return { blocks, links };
}

// ---- the camera ----------------------------------------------------------------------------

const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const unit = (a) => a.map((v) => v / Math.hypot(...a));

// The points the camera keeps in view: every block's corners, and room for a label above
// and below each block.
export function viewPoints(blocks, labelRoom) {
  const points = [];
  for (const { centre: [x, y, z], size } of blocks) {
    const [dx, dy, dz] = [size.thickness / 2, size.height / 2, size.depth / 2];
    for (const sx of [-1, 1]) for (const sy of [-1, 1]) for (const sz of [-1, 1]) points.push([x + sx * dx, y + sy * dy, z + sz * dz]);
    points.push([x, y + dy + labelRoom, z], [x, y - dy - labelRoom, z]);
  }
  return points;
}

// Where a perspective camera looking back along `direction` (from what it looks at towards
// itself; y is up) must aim, and how far away it must stand, so that every point is inside
// `margin` of the picture (0.9: a tenth of each half kept free) and the picture is centred.
// fovDeg: the vertical field of view; aspect: width / height. Perspective draws near things
// larger, so the aim starts at the points' middle and moves until the picture is centred.
export function fitView(points, direction, fovDeg, aspect, margin = 0.9) {
  if (!points.length) return { target: [0, 0, 0], distance: 1 };
  const back = unit(direction); // the camera's +z
  const right = unit(cross([0, 1, 0], back));
  const up = cross(back, right);
  const axes = [right, up, back];
  const local = points.map((p) => axes.map((axis) => dot(p, axis)));
  const middle = (values) => (Math.min(...values) + Math.max(...values)) / 2;
  const aim = [0, 1, 2].map((k) => middle(local.map((p) => p[k])));
  const tan = [Math.tan((fovDeg * Math.PI) / 360) * aspect, Math.tan((fovDeg * Math.PI) / 360)];
  const fit = () => Math.max(...local.map(([x, y, z]) => (z - aim[2])
    + Math.max(Math.abs(x - aim[0]) / tan[0], Math.abs(y - aim[1]) / tan[1]) / margin));
  let distance = fit();
  for (let round = 0; round < 20; round += 1) {
    // where the points land across and up the picture, -1 to 1 at its edges
    const seen = local.map(([x, y, z]) => [0, 1].map((k) => (x * (1 - k) + y * k - aim[k])
      / ((distance - (z - aim[2])) * tan[k])));
    const off = [0, 1].map((k) => middle(seen.map((s) => s[k])));
    if (Math.abs(off[0]) + Math.abs(off[1]) < 1e-6) break;
    off.forEach((o, k) => {
      aim[k] += o * distance * tan[k];
    });
    distance = fit();
  }
  const target = [0, 1, 2].map((i) => axes.reduce((sum, axis, k) => sum + axis[i] * aim[k], 0));
  return { target, distance };
}
