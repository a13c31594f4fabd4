// Small DOM and formatting helpers shared by the dashboard modules.

// h("p", {class: "x", onclick: fn}, "text", child) -> element. Text is never parsed as HTML.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      node.className = value;
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (key === "style") {
      node.style.cssText = value; // through CSSOM: the CSP refuses style attributes
    } else if (key in node && typeof value !== "string") {
      node[key] = value; // properties such as value, max, disabled
    } else {
      node.setAttribute(key, value === true ? "" : value);
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// Polite screen-reader announcement of a status change.
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  setTimeout(() => {
    region.textContent = text;
  }, 30);
}

export const HEALTH_LABELS = {
  neuron_utilization: "Neuron utilization",
  parameter_efficiency: "Parameter efficiency",
  training_stability: "Training stability",
  gradient_health: "Gradient health",
  convergence_quality: "Convergence quality",
  accuracy_consistency: "Accuracy consistency",
};

export const PHASE_LABELS = {
  loading_data: "Loading data",
  building: "Building model",
  training: "Training",
  evaluating: "Evaluating",
  computing_health: "Computing health",
  holdout: "Scoring holdout",
  plotting: "Plotting",
  saving: "Saving",
  uploading: "Uploading",
  done: "Done",
};

export const PLOT_LABELS = {
  history: "Training history",
  confusion_matrix: "Confusion matrix",
  gradient_flow: "Gradient flow",
  weights: "Weights & biases",
  activation_maps: "Activation maps",
  activation_progression: "Activation progression",
};
export const PLOT_NAMES = Object.keys(PLOT_LABELS);

// Filled once at boot from GET /api/v1/statuses (onegin/statuses.py), the one set of
// status words: a new status needs no change here.
export const JOB_TERMINAL = new Set();
export const TRIAL_ACTIVE = new Set();
export const JOB_STATUSES = []; // every job status, in lifecycle order

export function setStatuses({ job, trial }) {
  JOB_TERMINAL.clear();
  TRIAL_ACTIVE.clear();
  JOB_STATUSES.splice(0, JOB_STATUSES.length, ...job.statuses);
  job.terminal.forEach((s) => JOB_TERMINAL.add(s));
  trial.active.forEach((s) => TRIAL_ACTIVE.add(s));
}

export function statusLabel(status) {
  return status ? String(status).replace(/^./, (c) => c.toUpperCase()) : "Unknown";
}

export function label(name) {
  return HEALTH_LABELS[name] || String(name).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

export function statusBadge(status, extraClass = "") {
  return h(
    "span",
    { class: `badge badge--${status || "unknown"} ${extraClass}`.trim(), dataset: { status } },
    statusLabel(status),
  );
}

export function pct(value, digits = 1) {
  return value === null || value === undefined || !Number.isFinite(Number(value))
    ? "—"
    : `${(Number(value) * 100).toFixed(digits)}%`;
}

export function num(value, digits = 3) {
  return value === null || value === undefined || !Number.isFinite(Number(value))
    ? "—"
    : Number(value).toFixed(digits);
}

export function int(value) {
  return value === null || value === undefined ? "—" : Number(value).toLocaleString("en-US");
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return "—";
  const s = Math.max(0, Math.round(Number(seconds)));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

export function when(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

export function shape(dims) {
  if (!Array.isArray(dims)) return "";
  const rest = dims[0] === null ? dims.slice(1) : dims;
  return rest.map((d) => (d === null ? "?" : d)).join("×") || "scalar";
}

// Toggletips: a button (ⓘ) that shows a small panel on hover, focus or click; the panel may
// hold links. Escape or a click elsewhere closes it.
export function initToggletips(root = document) {
  for (const button of $$("[data-toggletip]", root)) {
    if (button.dataset.ready) continue;
    button.dataset.ready = "1";
    const tip = document.getElementById(button.getAttribute("aria-controls"));
    const set = (open) => {
      button.setAttribute("aria-expanded", String(open));
      tip.classList.toggle("open", open);
    };
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      set(button.getAttribute("aria-expanded") !== "true");
    });
    button.parentElement.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        event.stopPropagation();
        set(false);
        button.focus();
      }
    });
    document.addEventListener("click", (event) => {
      if (!button.parentElement.contains(event.target)) set(false);
    });
  }
}

function focusable(root) {
  return [...root.querySelectorAll(
    'a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"]), summary',
  )].filter((el) => el.offsetParent !== null || el === document.activeElement);
}

// A keydown handler's part for a layer over the page (a dialog, a chart laid over the window):
// Tab and Shift+Tab go round the controls inside `root`, never to the page it covers.
export function keepTabIn(root, event) {
  if (event.key !== "Tab") return;
  const items = focusable(root);
  const inside = root.contains(document.activeElement);
  if (items.length === 0 || (inside && items.length === 1)) {
    event.preventDefault();
    items[0]?.focus();
    return;
  }
  const first = items[0];
  const last = items[items.length - 1];
  if (!inside || (!event.shiftKey && document.activeElement === last)) {
    event.preventDefault();
    first.focus();
  } else if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  }
}
