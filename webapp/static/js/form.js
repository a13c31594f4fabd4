// The configuration form: dataset and objective menus with their tooltips, budget
// fields, the self-balancing weight sliders, and field-by-field API errors.

import { ApiError, api } from "./api.js";
import { carriedSettings, describeCarried, jobRequest } from "./clone.js";
import { $, $$, HEALTH_LABELS, clear, h, label } from "./dom.js";
import { FormHyperparameters } from "./hyperparameters.js";
import { rebalance, sum, toFractions, toPercents } from "./weights.js";

// A group of range inputs whose integer percents always total 100.
export class WeightGroup {
  constructor(container, totalEl, labels, onChange) {
    this.container = container;
    this.totalEl = totalEl;
    this.labels = labels;
    this.onChange = onChange;
    this.values = {};
    this.base = {};
    this.inputs = {};
    this.outputs = {};
  }

  build(percents) {
    for (const row of $$(".slider-row", this.container)) row.remove();
    for (const name of Object.keys(percents)) {
      const id = `w-${name}`;
      const input = h("input", {
        type: "range", id, name: id, min: "0", max: "100", step: "1",
        dataset: { weight: name },
      });
      const output = h("output", { for: id, class: "slider-value" });
      input.addEventListener("input", () => this.move(name, input.valueAsNumber));
      input.addEventListener("change", () => {
        this.base = { ...this.values };
      });
      this.inputs[name] = input;
      this.outputs[name] = output;
      this.container.append(h("div", { class: "slider-row" },
        h("label", { for: id }, this.labels[name] || label(name)), input, output));
    }
    this.set(percents);
  }

  move(name, value) {
    this.values = rebalance(this.base, name, value);
    this.draw();
    this.onChange?.();
  }

  set(percents) {
    this.values = { ...percents };
    this.base = { ...percents };
    this.draw();
  }

  draw() {
    for (const [name, value] of Object.entries(this.values)) {
      this.inputs[name].value = String(value);
      this.inputs[name].setAttribute("aria-valuetext", `${value} percent`);
      this.outputs[name].value = `${value}%`;
      this.outputs[name].textContent = `${value}%`;
    }
    const total = sum(this.values);
    this.totalEl.textContent = `Total ${total}%`;
    this.totalEl.classList.toggle("total--bad", total !== 100);
  }
}

const NUMBER_FIELDS = ["trials", "epochs", "concurrency"];
// GET /session's limits, by the field each caps (webapp/limits.py LIMITED_FIELDS)
const LIMITS = { trials: "max_trials", epochs: "max_epochs", concurrency: "max_concurrency" };
const OPTIONAL_FIELDS = ["max_train_samples", "max_eval_samples"];
const FIELD_IDS = ["dataset", "objective", "plot_mode", "name", ...NUMBER_FIELDS, ...OPTIONAL_FIELDS];
const IN_DETAILS = new Set(["name", ...OPTIONAL_FIELDS]);

export class JobForm {
  constructor(form, { onCreated, onWeightsChange }) {
    this.form = form;
    this.onCreated = onCreated;
    this.onWeightsChange = onWeightsChange;
    this.datasets = [];
    this.scoring = null;
    this.carried = {}; // a cloned or continued job's settings the form has no field for
    this.continueFrom = null;
    this.hyperparameters = new FormHyperparameters($("#form-hyperparameters"));
    this.balance = new WeightGroup($("#balance-group"), $("#balance-total"),
      { accuracy: "Accuracy", health: "Health" }, () => this.onWeightsChange?.());
    this.health = new WeightGroup($("#health-group"), $("#health-total"), HEALTH_LABELS,
      () => this.onWeightsChange?.());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    $("#objective").addEventListener("change", () => this.syncObjective());
    $("#dataset").addEventListener("change", () => this.syncDataset());
    $("#form-origin-forget").addEventListener("click", () => {
      this.forget();
      $("#dataset").focus();
    });
  }

  // The caller's limits (GET /session) as each field's maximum, shown beside it; a default
  // above the limit comes down to it, so the first Start is not refused. Without limits
  // (the open local server) the page's own maxima (the server's defaults) stay.
  applyLimits(limits) {
    for (const [field, key] of Object.entries(LIMITS)) {
      const input = $(`#${field}`);
      const limit = Number(limits?.[key] ?? input.max);
      if (!Number.isInteger(limit) || limit < 1) continue;
      input.max = String(limit);
      if (Number(input.value) > limit) input.value = String(limit);
      $(`#limit-${field}`).textContent = `At most ${limit}.`;
    }
  }

  // Fields above their maximum, named as the API would name them (no request sent).
  overLimits() {
    const over = {};
    for (const field of Object.keys(LIMITS)) {
      const input = $(`#${field}`);
      const value = parseIntOrRaw(input.value);
      if (typeof value === "number" && input.max && value > Number(input.max)) {
        over[field] = `must be at most ${input.max}, your limit`;
      }
    }
    return over;
  }

  async load() {
    this.hyperparameters.load(); // says so itself if it fails: the form works without it
    const [datasets, scoring] = await Promise.all([api.datasets(), api.scoring()]);
    this.datasets = datasets.datasets || [];
    this.scoring = scoring;
    const select = $("#dataset");
    clear(select, this.datasets.map((d) => h("option", { value: d.name }, d.title || d.name)));
    if (this.datasets.some((d) => d.name === "digits")) select.value = "digits";
    clear($("#dataset-tip-list"), this.datasets.map((d) => h("li", {},
      h("a", { href: d.url, target: "_blank", rel: "noopener noreferrer" }, d.title || d.name),
      h("span", { class: "tip-meta" }, ` — ${d.modality}, ${d.num_classes} classes`),
      h("br"),
      h("span", { class: "tip-desc" }, d.description || ""))));
    const objective = $("#objective");
    for (const option of [...objective.options]) {
      if (scoring.objectives && !scoring.objectives.includes(option.value)) option.remove();
    }
    this.resetWeights();
    this.syncDataset();
    this.syncObjective();
  }

  resetWeights() {
    const defaults = this.scoring?.default_weights || {};
    const accuracy = defaults.accuracy ?? 0.7;
    this.balance.build(toPercents({ accuracy, health: 1 - accuracy }));
    const components = this.scoring?.components || Object.keys(HEALTH_LABELS);
    const health = defaults.health || {};
    this.health.build(toPercents(Object.fromEntries(components.map((c) => [c, health[c] ?? 1]))));
  }

  // The caller's uploads join the dataset menu in a group of their own (uploads.js).
  setUploads(uploads) {
    const select = $("#dataset");
    const chosen = select.value;
    select.querySelector("optgroup[data-uploads]")?.remove();
    const specs = uploads.map((u) => ({ name: u.dataset, title: u.name, modality: u.modality,
      num_classes: u.num_classes, input_shape: u.input_shape, description: u.description }));
    this.datasets = this.datasets.filter((d) => !d.name.startsWith("upload:")).concat(specs);
    if (specs.length) {
      select.append(h("optgroup", { label: "Your uploads", dataset: { uploads: "1" } },
        specs.map((d) => h("option", { value: d.name }, d.title))));
    }
    if ([...select.options].some((option) => option.value === chosen)) select.value = chosen;
    this.syncDataset();
  }

  syncDataset() {
    const spec = this.datasets.find((d) => d.name === $("#dataset").value);
    $("#dataset-desc").textContent = spec
      ? `${spec.description} (${spec.modality}, ${spec.num_classes} classes, input ${spec.input_shape.join("×")})`
      : "";
    this.hyperparameters.show(spec?.modality);
  }

  syncObjective() {
    const simple = $("#objective").value === "simple";
    const fieldset = $("#weights");
    fieldset.disabled = simple;
    fieldset.classList.toggle("is-disabled", simple);
    this.onWeightsChange?.();
  }

  // Weights as fractions, or null when the objective ignores them.
  weights() {
    return {
      accuracy: this.balance.values.accuracy / 100,
      health: toFractions(this.health.values),
    };
  }

  objective() {
    return $("#objective").value;
  }

  fill(config) {
    if (!config) return;
    for (const id of ["dataset", "objective", "plot_mode"]) {
      if (config[id] !== undefined && [...$(`#${id}`).options].some((o) => o.value === config[id])) {
        $(`#${id}`).value = config[id];
      }
    }
    for (const id of [...NUMBER_FIELDS, ...OPTIONAL_FIELDS, "name"]) {
      if (id in config) $(`#${id}`).value = config[id] === null ? "" : String(config[id]);
    }
    const w = config.weights;
    if (w && typeof w.accuracy === "number") {
      this.balance.set(toPercents({ accuracy: w.accuracy, health: 1 - w.accuracy }));
      if (w.health) this.health.set(toPercents(w.health));
    }
    this.syncDataset();
    this.syncObjective();
  }

  // "Clone with edits" (every setting of `job`, the hidden ones carried and listed) or,
  // `continuing`, "Continue this search": its finished trials seed the new job's study,
  // which must search the same dataset and space; the form sets the new budget.
  clone(job, { continuing = false } = {}) {
    this.fill(job.config);
    this.carried = carriedSettings(job.config, { continuing });
    this.continueFrom = continuing ? job.id : null;
    this.hyperparameters.setOverrides(this.carried.params);
    const title = job.name ? `${job.name} (#${job.id})` : `job ${job.id}`;
    $("#form-origin-text").textContent = continuing
      ? `Continues ${title}: its finished trials join the new search's study without running `
        + "again, and only the new trials spend the budget below. Dataset and space stay the job's."
      : `A copy of ${title}: edit any field; the settings below come along too.`;
    clear($("#form-origin-list"), describeCarried(this.carried).map((text) => h("li", {}, text)));
    $("#form-origin-forget").textContent = continuing ? "Start a fresh search instead" : "Forget these settings";
    $("#form-origin").hidden = false;
    $("#dataset").disabled = continuing;
  }

  forget() {
    this.carried = {};
    this.hyperparameters.setOverrides({});
    this.continueFrom = null;
    $("#form-origin").hidden = true;
    $("#dataset").disabled = false;
  }

  payload() {
    const body = {
      dataset: $("#dataset").value,
      objective: $("#objective").value,
      plot_mode: $("#plot_mode").value,
      weights: this.weights(),
    };
    for (const id of NUMBER_FIELDS) body[id] = parseIntOrRaw($(`#${id}`).value);
    for (const id of OPTIONAL_FIELDS) {
      const raw = $(`#${id}`).value.trim();
      if (raw !== "") body[id] = parseIntOrRaw(raw);
    }
    const name = $("#name").value.trim();
    if (name) body.name = name;
    return jobRequest(body, this.carried, this.continueFrom);
  }

  clearErrors() {
    for (const el of $$(".field-error", this.form)) el.textContent = "";
    for (const el of $$("[aria-invalid]", this.form)) el.removeAttribute("aria-invalid");
    $("#form-error").textContent = "";
  }

  showErrors(fields, message) {
    const leftovers = [];
    let first = null;
    for (const [field, reason] of Object.entries(fields || {})) {
      const root = field.split(".")[0];
      const target = FIELD_IDS.includes(root) ? root : root === "weights" ? "weights" : null;
      if (!target) {
        leftovers.push(`${field}: ${reason}`);
        continue;
      }
      const error = $(`#err-${target}`);
      const text = target === "weights" ? `${field.replace(/^weights\.?/, "") || "weights"}: ${reason}` : reason;
      error.textContent = error.textContent ? `${error.textContent}; ${text}` : text;
      const control = $(`#${target}`);
      control.setAttribute("aria-invalid", "true");
      if (IN_DETAILS.has(target)) {
        control.closest("details").open = true;
      }
      first ??= target === "weights" ? $("input", control) : control;
    }
    const summary = leftovers.length ? leftovers.join("; ") : "";
    $("#form-error").textContent = [message, summary].filter(Boolean).join(" — ");
    (first || $("#form-error")).focus?.();
  }

  async submit() {
    this.clearErrors();
    const over = this.overLimits();
    if (Object.keys(over).length) {
      this.showErrors(over, "Please fix the highlighted fields.");
      return;
    }
    const button = $("#start-button");
    button.disabled = true;
    button.textContent = "Starting…";
    try {
      const job = await api.createJob(this.payload());
      this.forget(); // the next job starts from the form alone
      this.onCreated(job);
    } catch (error) {
      if (error instanceof ApiError && error.status === 422) {
        this.showErrors(error.fields, "Please fix the highlighted fields.");
      } else {
        this.showErrors({}, error.message || "The job could not be started.");
      }
    } finally {
      button.disabled = false;
      button.textContent = "Start optimization";
    }
  }
}

function parseIntOrRaw(text) {
  const trimmed = String(text).trim();
  return /^-?\d+$/.test(trimmed) ? Number.parseInt(trimmed, 10) : trimmed;
}
