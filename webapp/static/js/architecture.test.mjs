// Unit tests for what the 2D graph and the 3D view share: `node --test webapp/static/js/architecture.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  blockLayout,
  blockSide,
  blockSize,
  familyOf,
  fitView,
  levelRows,
  presentFamilies,
  runPass,
  STEP_MS,
  topoOrder,
  viewPoints,
} from "./architecture.js";

const layer = (name, type, output_shape) => ({ name, type, output_shape, params: 0 });
const CNN = [
  layer("input", "InputLayer", [null, 28, 28, 1]),
  layer("conv", "Conv2D", [null, 28, 28, 32]),
  layer("flatten", "Flatten", [null, 25088]),
  layer("out", "Dense", [null, 10]),
];
const chain = (names) => names.slice(1).map((n, i) => ({ source: names[i], target: n }));

// input -> a -> add, input -> b -> add: a and b share a level
const BRANCHES = [layer("input", "InputLayer", [null, 4]), layer("a", "Dense", [null, 8]),
  layer("b", "Dense", [null, 8]), layer("add", "Add", [null, 8])];
const BRANCH_EDGES = [{ source: "input", target: "a" }, { source: "input", target: "b" },
  { source: "a", target: "add" }, { source: "b", target: "add" }];

test("families colour layers by type, unknown types fall to Other", () => {
  assert.equal(familyOf("Conv2D").name, "Convolution");
  assert.equal(familyOf("MaxPooling2D").name, "Pooling");
  assert.equal(familyOf("Mystery").name, "Other");
  assert.deepEqual(presentFamilies(CNN).map((f) => f.name), ["Input", "Convolution", "Reshape", "Dense"]);
});

test("the order puts every layer after its inputs, whatever order the file lists them in", () => {
  const shuffled = [BRANCHES[3], BRANCHES[1], BRANCHES[0], BRANCHES[2]];
  assert.deepEqual(topoOrder(shuffled, BRANCH_EDGES), ["input", "a", "b", "add"]);
  assert.deepEqual(levelRows(["input", "a", "b", "add"], BRANCH_EDGES), [["input"], ["a", "b"], ["add"]]);
});

test("block sides grow with log2 of height, width and channels; units set the height", () => {
  assert.equal(blockSide(1), 1);
  assert.equal(blockSide(32), 6);
  assert.equal(blockSide(null), 1);
  assert.deepEqual(blockSize([null, 28, 28, 32]), { height: blockSide(28), depth: blockSide(28), thickness: 6 });
  assert.deepEqual(blockSize([null, 10]), { height: blockSide(10), depth: 1, thickness: 1 });
  assert.deepEqual(blockSize([null, null, 64]), { height: 1, depth: 7, thickness: 1 }); // variable length
  assert.deepEqual(blockSize([null, 2, 2, 2, 8]), { height: 2, depth: 2, thickness: 5 }); // 2 × 8 channels
  assert.deepEqual(blockSize(undefined), { height: 1, depth: 1, thickness: 1 });
  // the compressed scale keeps a 10-unit layer visible beside a 28×28×32 map: within 2×
  const map = blockSize([null, 28, 28, 32]);
  assert.ok(map.height / blockSize([null, 10]).height < 2);
});

test("levels run along x with a gap; links join facing sides", () => {
  const names = CNN.map((l) => l.name);
  const { blocks, links } = blockLayout(CNN, chain(names));
  assert.deepEqual(blocks.map((b) => b.name), names);
  const xs = blocks.map((b) => b.centre[0]);
  for (let i = 1; i < blocks.length; i += 1) {
    const gap = (xs[i] - blocks[i].size.thickness / 2) - (xs[i - 1] + blocks[i - 1].size.thickness / 2);
    assert.ok(Math.abs(gap - 3) < 1e-9, `gap ${gap}`);
  }
  assert.deepEqual(links[0].from, [xs[0] + blocks[0].size.thickness / 2, 0, 0]);
  assert.deepEqual(links[0].to, [xs[1] - blocks[1].size.thickness / 2, 0, 0]);
});

test("layers on one level stand side by side along z, apart; an edge to no layer is dropped", () => {
  const edges = [...BRANCH_EDGES, { source: "mask", target: "a" }];
  const { blocks, links } = blockLayout(BRANCHES, edges);
  const at = Object.fromEntries(blocks.map((b) => [b.name, b]));
  assert.equal(at.a.centre[0], at.b.centre[0]);
  assert.equal(at.a.centre[2], -at.b.centre[2]);
  assert.ok(at.b.centre[2] - at.a.centre[2] >= at.a.size.depth / 2 + at.b.size.depth / 2);
  assert.equal(links.length, 4);
  assert.deepEqual(blockLayout([], []).blocks, []);
});

// Where a camera placed by fitView sees `point`: [x, y] in [-1, 1] across the picture.
function seen(point, { target, distance }, direction, fovDeg, aspect) {
  const len = Math.hypot(...direction);
  const back = direction.map((v) => v / len);
  const flat = Math.hypot(back[0], back[2]);
  const right = [back[2] / flat, 0, -back[0] / flat];
  const up = [back[1] * right[2] - back[2] * right[1], back[2] * right[0] - back[0] * right[2],
    back[0] * right[1] - back[1] * right[0]];
  const camera = target.map((t, k) => t + back[k] * distance);
  const offset = point.map((v, k) => v - camera[k]);
  const along = (axis) => axis.reduce((sum, a, k) => sum + a * offset[k], 0);
  const tan = Math.tan((fovDeg * Math.PI) / 360);
  const depth = -along(back);
  return [along(right) / (depth * tan * aspect), along(up) / (depth * tan)];
}

test("the camera keeps every block and label in the picture, centred, nearer for wider views", () => {
  const long = Array.from({ length: 12 }, (_, i) => layer(`conv${i}`, "Conv2D", [null, 28, 28, 32]));
  const { blocks } = blockLayout(long, chain(long.map((l) => l.name)));
  const points = viewPoints(blocks, 1.5);
  assert.equal(points.length, blocks.length * 10);
  const direction = [0.8, 0.55, 1];
  const phone = fitView(points, direction, 35, 390 / 420);
  const desktop = fitView(points, direction, 35, 1200 / 480);
  assert.ok(desktop.distance < phone.distance);
  for (const [view, aspect] of [[phone, 390 / 420], [desktop, 1200 / 480]]) {
    const xy = points.map((p) => seen(p, view, direction, 35, aspect));
    const widest = Math.max(...xy.map(([x, y]) => Math.max(Math.abs(x), Math.abs(y))));
    assert.ok(widest <= 0.9 + 1e-9 && widest > 0.89, `widest point at ${widest}`); // fits, no slack
    const xs = xy.map(([x]) => x);
    const ys = xy.map(([, y]) => y);
    assert.ok(Math.abs(Math.max(...xs) + Math.min(...xs)) < 0.01, "centred across");
    assert.ok(Math.abs(Math.max(...ys) + Math.min(...ys)) < 0.01, "centred up and down");
  }
});

test("a pass steps through the layers every STEP_MS, backward in reverse, and can be stopped", (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const seen = [];
  const said = [];
  let ended = 0;
  runPass(["input", "conv", "out"], "backward", {
    onStep: (name, backward) => seen.push([name, backward]),
    onEnd: () => { ended += 1; },
    say: (text) => said.push(text),
  });
  assert.deepEqual(seen, [["out", true]]);
  t.mock.timers.tick(STEP_MS);
  assert.deepEqual(seen.map(([n]) => n), ["out", "conv"]);
  t.mock.timers.tick(STEP_MS);
  assert.equal(ended, 0);
  t.mock.timers.tick(STEP_MS);
  assert.equal(ended, 1);
  assert.equal(said[0], "Backward pass, step 1 of 3: gradients flow back through out.");
  assert.equal(said.at(-1), "Backward pass finished.");

  const forward = [];
  const stop = runPass(["input", "out"], "forward", {
    onStep: (name) => forward.push(name), onEnd: () => forward.push("end"), say: () => {},
  });
  stop();
  t.mock.timers.tick(5 * STEP_MS);
  assert.deepEqual(forward, ["input"]);
});
