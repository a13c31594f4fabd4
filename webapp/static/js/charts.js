// Study charts drawn as plain SVG/HTML: optimization history and parameter importance.

import { clear, h, num } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function ticks(low, high, count) {
  if (high <= low) return [low];
  const raw = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((m) => m >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

// history: [{number, value, state}] with Optuna states (COMPLETE, PRUNED, FAIL, ...).
export function historyChart(container, history) {
  const points = (history || []).filter((p) => p.value !== null && p.value !== undefined && Number.isFinite(Number(p.value)));
  if (!points.length) {
    clear(container, h("p", { class: "muted" }, "No finished trials yet."));
    return;
  }
  const W = 560, H = 260, L = 48, R = 14, T = 14, B = 40;
  const xs = points.map((p) => p.number);
  const ys = points.map((p) => Number(p.value));
  const xMin = Math.min(...xs), xMax = Math.max(...xs, xMin + 1);
  let yMin = Math.min(...ys), yMax = Math.max(...ys);
  const pad = Math.max(0.02, (yMax - yMin) * 0.1);
  yMin = Math.max(Math.min(0, yMin), yMin - pad);
  yMax = Math.min(yMax <= 1 ? 1 : yMax + pad, yMax + pad);
  if (yMax - yMin < 1e-9) yMax = yMin + 1;
  const x = (v) => L + ((v - xMin) / (xMax - xMin)) * (W - L - R);
  const y = (v) => T + (1 - (v - yMin) / (yMax - yMin)) * (H - T - B);

  const grid = ticks(yMin, yMax, 5).map((t) => s("g", {},
    s("line", { x1: L, x2: W - R, y1: y(t), y2: y(t), class: "grid" }),
    s("text", { x: L - 6, y: y(t) + 4, "text-anchor": "end", class: "tick" }, String(Number(t.toFixed(4))))));
  const xt = ticks(xMin, xMax, Math.min(8, xMax - xMin)).filter(Number.isInteger).map((t) =>
    s("text", { x: x(t), y: H - B + 16, "text-anchor": "middle", class: "tick" }, String(t)));

  // Best so far (maximised), as a step line over completed trials.
  const complete = points.filter((p) => p.state === "COMPLETE" || p.state === undefined).sort((a, b) => a.number - b.number);
  let best = -Infinity;
  let path = "";
  for (const p of complete) {
    const v = Number(p.value);
    if (v > best) {
      path += path ? ` H${x(p.number)} V${y(v)}` : `M${x(p.number)} ${y(v)}`;
      best = v;
    }
  }
  if (path && complete.length) path += ` H${x(xMax)}`;

  const dots = points.map((p) => s("circle", {
    cx: x(p.number), cy: y(Number(p.value)), r: 5,
    class: p.state === "COMPLETE" || p.state === undefined ? "dot" : "dot dot--other",
  }, s("title", {}, `Trial ${p.number}: ${num(p.value, 4)} (${String(p.state || "").toLowerCase() || "complete"})`)));

  const bestValue = Number.isFinite(best) ? num(best, 4) : "—";
  const svg = s("svg", {
    viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "img",
    "aria-label": `Objective value of ${points.length} trials by trial number; best so far ${bestValue}.`,
  },
  grid,
  s("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }),
  s("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }),
  xt,
  s("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, "Trial number"),
  path ? s("path", { d: path, class: "best-line" }) : null,
  dots);
  clear(container, svg, h("ul", { class: "chart-legend" },
    h("li", {}, h("span", { class: "key key--dot", "aria-hidden": "true" }), "Trial objective value"),
    h("li", {}, h("span", { class: "key key--other", "aria-hidden": "true" }), "Pruned or other"),
    h("li", {}, h("span", { class: "key key--line", "aria-hidden": "true" }), "Best so far")));
}

// importances: {param: value}; values are relative (any scale), shown as shares.
export function importanceChart(container, importances) {
  const entries = Object.entries(importances || {}).filter(([, v]) => Number.isFinite(Number(v)));
  if (!entries.length) {
    clear(container, h("p", { class: "muted" }, "Importance needs a few completed trials."));
    return;
  }
  entries.sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((acc, [, v]) => acc + Math.max(0, v), 0) || 1;
  const max = Math.max(...entries.map(([, v]) => v)) || 1;
  clear(container, h("ul", { class: "importance", "aria-label": "Parameter importance, most important first" },
    entries.map(([name, value]) => h("li", {},
      h("span", { class: "imp-name" }, name.replace(/_/g, " ")),
      h("span", { class: "imp-track", "aria-hidden": "true" },
        h("span", { class: "imp-fill", style: `width:${(Math.max(0, value) / max) * 100}%` })),
      h("span", { class: "imp-value" }, `${((Math.max(0, value) / total) * 100).toFixed(0)}%`)))));
}
