// Unit tests for the trials table's pure parts: `node --test webapp/static/js/trials_table.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  STORAGE_KEY, ariaSort, cellValue, chosenColumns, emptyState, formatCell, nextSort, queryString, saveColumns,
} from "./trials_table.js";

// The Web Storage interface over a Map (node has no localStorage).
class MemoryStorage {
  constructor() { this.items = new Map(); }
  getItem(key) { return this.items.has(key) ? this.items.get(key) : null; }
  setItem(key, value) { this.items.set(key, String(value)); }
}

const TRIAL = {
  number: 7, status: "completed", val_accuracy: 0.9, total_score: 0.8, health_score: null,
  started_at: "2026-01-01T00:00:00+00:00", finished_at: "2026-01-01T00:01:30+00:00",
  params: { learning_rate: 0.0003, activation: "relu", "odd.name": 1 },
  metrics: { val_loss: 0.25 }, health: { gradient_health: 0.5 }, holdout: null,
};

test("the query string carries sort, statuses, ranges and text filters, and no defaults", () => {
  assert.equal(queryString(emptyState()), "");
  const state = {
    ...emptyState(), sort: "params.learning_rate", descending: true, statuses: ["completed", "pruned"],
    ranges: { val_accuracy: { min: "0.9", max: "" }, "params.dropout": { min: "", max: 0.3 } },
    texts: { "params.activation": ["relu", "tanh"] },
  };
  const params = new URLSearchParams(queryString(state));
  assert.deepEqual([...params], [
    ["sort", "-params.learning_rate"], ["status", "completed,pruned"], ["min.val_accuracy", "0.9"],
    ["max.params.dropout", "0.3"], ["params.activation", "relu,tanh"],
  ]);
});

test("a header click sorts another column ascending and flips the same one; aria-sort follows", () => {
  let state = { ...emptyState() };
  state = { ...state, ...nextSort(state, "total_score") };
  assert.deepEqual([state.sort, state.descending, ariaSort(state, "total_score"), ariaSort(state, "number")],
    ["total_score", false, "ascending", "none"]);
  state = { ...state, ...nextSort(state, "total_score") };
  assert.equal(ariaSort(state, "total_score"), "descending");
});

test("cell values come from the record fields, metrics, health, params and the times", () => {
  assert.equal(cellValue(TRIAL, "val_accuracy"), 0.9);
  assert.equal(cellValue(TRIAL, "val_loss"), 0.25);
  assert.equal(cellValue(TRIAL, "health.gradient_health"), 0.5);
  assert.equal(cellValue(TRIAL, "params.activation"), "relu");
  assert.equal(cellValue(TRIAL, "duration"), 90);
  assert.equal(cellValue(TRIAL, "holdout_accuracy"), null);
  assert.equal(cellValue(TRIAL, "health_score"), null);
  assert.equal(cellValue({ ...TRIAL, health: null }, "health.gradient_health"), null);
});

test("cells are formatted by column: percentages, durations, small numbers, blanks", () => {
  assert.equal(formatCell("val_accuracy", 0.9), "90.00%");
  assert.equal(formatCell("duration", 90), "1m 30s");
  assert.equal(formatCell("params.learning_rate", 0.0003), "3.00e-4");
  assert.equal(formatCell("params.units", 64), "64");
  assert.equal(formatCell("total_score", null), "—");
});

test("the column choice is remembered, kept to the job's columns, and defaults without one", () => {
  const storage = new MemoryStorage();
  const available = ["number", "status", "total_score", "val_accuracy", "duration", "params.units"]
    .map((name) => ({ name }));
  assert.deepEqual(chosenColumns(storage, available),
    ["number", "status", "total_score", "val_accuracy", "duration", "params.units"]);
  saveColumns(storage, ["params.units", "params.gone", "total_score"]);
  assert.equal(storage.getItem(STORAGE_KEY), JSON.stringify(["params.units", "params.gone", "total_score"]));
  // the trial column (its button opens a row's details) leads every choice
  assert.deepEqual(chosenColumns(storage, available), ["number", "params.units", "total_score"]);
  storage.setItem(STORAGE_KEY, "not json");
  assert.equal(chosenColumns(storage, available).length, 6);
});
