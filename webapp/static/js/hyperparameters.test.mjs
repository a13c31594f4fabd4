// Unit tests for the hyperparameter explanations' logic: `node --test webapp/static/js/hyperparameters.test.mjs`.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  MIN_SCORED, MIN_VALUES, evidenceNote, forModality, overrideText, searchedText, sliceEvidence,
} from "./hyperparameters.js";
import { importanceOption } from "./study_charts.js";

// as GET /hyperparameters serves them (onegin/hyperparameters.py describe())
const TEXTS = {
  conv_layers: { title: "Convolution blocks", what: "How many blocks.", effect: "More see more.",
    typical: "2–3", searched: { image: "1–3" } },
  lstm_units: { title: "LSTM units", what: "Memory size.", effect: "More remember more.",
    typical: "32–128", searched: { text: "16–128" } },
  dropout: { title: "Dropout", what: "Units <off> at random.", effect: "Higher regularizes.",
    typical: "0.1–0.5", searched: { image: "0–0.5", text: "0–0.4" } },
  warmup: { title: "Warm-up", what: "Only in another space.", effect: "…", typical: "…", searched: {} },
};

const row = (number, status, score, params) => ({ number, status, total_score: score, params });
// n completed trials whose `name` cycles through `values`
const trials = (n, values, name = "dropout") =>
  Array.from({ length: n }, (_, i) => row(i, "completed", 0.5 + i / 100, { [name]: values[i % values.length], filters: 8 }));

test("a modality lists the parameters its default space searches, in the API's order", () => {
  assert.deepEqual(forModality(TEXTS, "image").map(([name]) => name), ["conv_layers", "dropout"]);
  assert.deepEqual(forModality(TEXTS, "text").map(([name]) => name), ["lstm_units", "dropout"]);
  assert.deepEqual(forModality(TEXTS, null), []); // no dataset chosen yet
  assert.deepEqual(forModality(null, "image"), []); // texts not loaded
});

test("a parameter added to the API is listed without a change here", () => {
  const texts = { ...TEXTS, lr_schedule: { title: "Schedule", what: "w", effect: "e", typical: "t",
    searched: { image: "constant, cosine", text: "constant" } } };
  assert.ok(forModality(texts, "text").some(([name]) => name === "lr_schedule"));
});

test("the searched range is the modality's, or every modality's by name", () => {
  assert.equal(searchedText(TEXTS.dropout, "text"), "0–0.4");
  assert.equal(searchedText(TEXTS.dropout), "image 0–0.5; text 0–0.4");
  assert.equal(searchedText(TEXTS.conv_layers), "1–3");
  assert.equal(searchedText(TEXTS.warmup), null);
  assert.equal(searchedText(TEXTS.conv_layers, "text"), null);
});

test("a job's override reads as what it does to the parameter", () => {
  assert.equal(overrideText(3), "fixed to 3");
  assert.equal(overrideText(true), "fixed to true");
  assert.equal(overrideText({ low: 0.1, high: 0.3 }), "narrowed to 0.1–0.3");
  assert.equal(overrideText({ choices: ["relu", "tanh"] }), "limited to relu, tanh");
});

test(`a slice needs ${MIN_SCORED} scored completed trials and ${MIN_VALUES} values`, () => {
  const enough = sliceEvidence(trials(MIN_SCORED, [0.1, 0.3]), "dropout");
  assert.equal(enough.enough, true);
  assert.equal(enough.scored, MIN_SCORED);
  assert.equal(enough.values, 2);
  assert.deepEqual(enough.axis, { name: "dropout", kind: "value" });

  const few = sliceEvidence(trials(MIN_SCORED - 1, [0.1, 0.3]), "dropout");
  assert.equal(few.enough, false);
  assert.equal(few.axis, null);

  const one = sliceEvidence(trials(MIN_SCORED + 4, [0.2]), "dropout");
  assert.equal(one.enough, false);
  assert.equal(one.values, 1);
});

test("only completed trials with a score and the parameter count; pruned ones are drawn", () => {
  const rows = [
    ...trials(MIN_SCORED - 1, [0.1, 0.3]),
    row(20, "pruned", 0.4, { dropout: 0.2 }),
    row(21, "failed", null, { dropout: 0.2 }),
    row(22, "completed", null, { dropout: 0.2 }),
    row(23, "completed", 0.9, { filters: 16 }), // another modality's trial: no dropout
  ];
  const found = sliceEvidence(rows, "dropout");
  assert.equal(found.scored, MIN_SCORED - 1);
  assert.equal(found.enough, false);
  const more = sliceEvidence([...rows, row(24, "completed", 0.8, { dropout: 0.3 })], "dropout");
  assert.equal(more.enough, true);
  assert.deepEqual(more.rows.map((r) => r.number).slice(-2), [24, 20]); // the pruned one too
});

test("a text parameter gets a category axis", () => {
  const found = sliceEvidence(trials(MIN_SCORED, ["relu", "tanh", "swish"], "activation"), "activation");
  assert.equal(found.axis.kind, "category");
  assert.deepEqual(found.axis.categories, ["relu", "swish", "tanh"]);
});

test("the note says the threshold and what the job has when it is not met", () => {
  const note = evidenceNote(sliceEvidence(trials(3, [0.1]), "dropout"), "dropout");
  assert.match(note, /^Not enough of this job's trials yet/);
  assert.match(note, new RegExp(`needs ${MIN_SCORED} completed trials with a score and at least ${MIN_VALUES} values of dropout`));
  assert.match(note, /this job has 3 trials \(1 value\)\.$/);
  const shown = evidenceNote(sliceEvidence(trials(10, [0.1, 0.3]), "dropout"), "dropout",
    { scoreLabel: "Validation accuracy", sampled: true });
  assert.match(shown, /its dropout against its validation accuracy/);
  assert.match(shown, /\(a sample, as in Analysis\)/);
});

test("an importance bar's tooltip names the parameter and says what it is, escaped", () => {
  const { tooltip } = importanceOption({ dropout: 0.75, filters: 0.25 }, TEXTS);
  assert.equal(tooltip.confine, true);
  const tip = tooltip.formatter({ name: "dropout", value: 0.75 });
  assert.match(tip, /^<div class="param-tip"><strong>Dropout<\/strong> \(dropout\): 75\.0% of the importance<br>/);
  assert.ok(tip.includes("Units &#60;off&#62; at random.") && !tip.includes("<off>"));
  assert.equal(tooltip.formatter({ name: "filters", value: 0.25 }), "filters: 25.0% of the importance");
  assert.equal(importanceOption({ dropout: 1 }).tooltip.formatter({ name: "dropout", value: 1 }),
    "dropout: 100.0% of the importance");
});
