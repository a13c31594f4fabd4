// "Clone with edits" and "Continue this search": what of a job's config the job form
// shows in its fields, and what it carries along unseen (and says it does). Pure.

import { paramValue } from "./gallery.js";

// The config fields the form has inputs for (form.js); the rest are carried.
export const FORM_FIELDS = new Set(["dataset", "objective", "plot_mode", "trials", "epochs",
  "concurrency", "max_train_samples", "max_eval_samples", "name", "weights"]);

const empty = (value) => value === null || value === undefined || value === ""
  || (Array.isArray(value) && !value.length)
  || (typeof value === "object" && !Array.isArray(value) && !Object.keys(value).length);

// The settings a new job takes from `config` beyond the form's fields. A continuation
// searches on from the job (continue_from, set by the form) with a fresh seed, so it
// carries neither the job's seed nor the job it continued itself.
export function carriedSettings(config = {}, { continuing = false } = {}) {
  const skip = continuing ? new Set(["seed", "data_seed", "continue_from"]) : new Set();
  return Object.fromEntries(Object.entries(config)
    .filter(([key, value]) => !FORM_FIELDS.has(key) && !skip.has(key) && !empty(value)));
}

function shownValue(value) {
  if (typeof value === "boolean") return value ? "on" : "off";
  if (Array.isArray(value)) return `${value.length} configuration${value.length === 1 ? "" : "s"}`;
  if (value && typeof value === "object") {
    return Object.entries(value).map(([k, v]) => `${k} ${v && typeof v === "object"
      ? Object.entries(v).map(([a, b]) => `${a} ${Array.isArray(b) ? b.join("/") : paramValue(b)}`).join(" ")
      : paramValue(v)}`).join(", ");
  }
  return paramValue(value);
}

// "pruner median", "params conv_layers 2, …": each carried setting in words.
export function describeCarried(carried) {
  return Object.entries(carried).map(([key, value]) => `${key.replace(/_/g, " ")} ${shownValue(value)}`);
}

// The request body: the carried settings under what the form's fields say now.
export function jobRequest(fields, carried = {}, continueFrom = null) {
  return { ...carried, ...fields, ...(continueFrom ? { continue_from: continueFrom } : {}) };
}
