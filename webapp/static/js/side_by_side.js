// Values side by side, as pure data (node --test checks it): two jobs' best models
// (compare_jobs.js) and two to four trials of a job (compare_trials_view.js) make the same
// rows, one per name, with the values as text and whether they differ.

import { paramValue } from "./gallery.js";
import { MISSING } from "./param_axes.js";

// {name, values: [text], differs}: a missing value reads MISSING; `differs` compares the
// values themselves, so two numbers that print alike but differ are still marked.
export function sideRow(name, values, format = String) {
  return {
    name,
    values: values.map((v) => (v === undefined || v === null ? MISSING : format(v))),
    differs: new Set(values.map((v) => JSON.stringify(v ?? null))).size > 1,
  };
}

// One row per parameter any of the sets has, by name (a set may be missing: no best yet).
export function paramDiff(paramSets) {
  const names = [...new Set(paramSets.flatMap((params) => Object.keys(params || {})))].sort();
  return names.map((name) => sideRow(name, paramSets.map((params) => params?.[name]), paramValue));
}
