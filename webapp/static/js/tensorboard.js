// The job's TensorBoard panel: the `onegin tensorboard` command for the whole job or the
// trials chosen (typed here, or handed over by another view through `setTrials`), a copy
// button, and the same trials' logs as a zip (GET /jobs/<id>/tensorboard.zip).

import { urls } from "./api.js";
import { clear, h } from "./dom.js";

// "1, 4 7" -> { numbers: [1, 4, 7] } (sorted, each once); "" -> every trial ({ numbers: [] });
// anything else, or a number the job has no trial for (trials are numbered 0..count-1),
// -> { error }.
export function parseTrialNumbers(text, count) {
  const words = text.split(/[\s,]+/).filter(Boolean);
  if (words.some((word) => !/^\d{1,10}$/.test(word))) {
    return { error: "Trial numbers are whole numbers, separated by commas or spaces." };
  }
  const numbers = [...new Set(words.map(Number))].sort((a, b) => a - b);
  const unknown = numbers.filter((n) => n >= count);
  if (unknown.length) {
    const has = count ? `its trials are 0–${count - 1}` : "it has no trials yet";
    return { error: `This job has no trial ${unknown.join(", ")} (${has}).` };
  }
  return { numbers };
}

export function tensorboardCommand(jobId, numbers) {
  return ["onegin", "tensorboard", jobId, ...numbers].join(" ");
}

// Trials that may have logs: a trial's logs are stored when it completes or is pruned.
function mayHaveLogs(counts) {
  return (counts?.completed ?? 0) + (counts?.pruned ?? 0) > 0;
}

export class TensorBoardPanel {
  constructor(section) {
    this.section = section;
    this.job = null;
    this.numbers = [];
    this.input = h("input", { id: "tensorboard-trials", type: "text", inputmode: "numeric",
      autocomplete: "off", placeholder: "all trials, or e.g. 1, 4, 7",
      "aria-describedby": "tensorboard-trials-error", oninput: () => this.render() });
    this.error = h("p", { class: "field-error", id: "tensorboard-trials-error" });
    this.command = h("code", { id: "tensorboard-command", class: "tensorboard-command" });
    this.copyButton = h("button", { type: "button", class: "button", id: "tensorboard-copy",
      onclick: () => this.copy() }, "Copy command");
    this.download = h("a", { class: "button", id: "tensorboard-zip" }, "Logs (.zip)");
    this.status = h("p", { class: "hint", id: "tensorboard-status", role: "status",
      "aria-live": "polite" });
    clear(section,
      h("div", { class: "section-head" }, h("h3", { id: "tensorboard-title" }, "TensorBoard")),
      h("p", { class: "hint" }, "Run this where the cluster's settings are (its database and "
        + "artifact store): it fetches the trials' logs into a cache and opens TensorBoard on "
        + "127.0.0.1, one run per trial."),
      h("div", { class: "field" }, h("label", { for: "tensorboard-trials" }, "Trials (optional)"),
        this.input, this.error),
      h("div", { class: "tensorboard-row" }, this.command, this.copyButton, this.download),
      this.status);
  }

  // The job as the view holds it (id, kind, counts); a comparison has no trials of its own.
  update(job) {
    if (!job?.id || job.kind === "compare") {
      this.hide();
      return;
    }
    if (job.id !== this.job?.id) {
      this.input.value = "";
      this.status.textContent = "";
    }
    this.job = job;
    this.section.hidden = false;
    this.render();
  }

  hide() {
    this.job = null;
    this.section.hidden = true;
  }

  // Show the command for these trials (another view's selection), as if typed here.
  setTrials(numbers) {
    this.input.value = numbers.join(", ");
    this.render();
  }

  render() {
    if (!this.job) return;
    const counts = this.job.counts || {};
    const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
    const parsed = parseTrialNumbers(this.input.value, total);
    this.error.textContent = parsed.error || "";
    this.input.setAttribute("aria-invalid", String(Boolean(parsed.error)));
    this.copyButton.disabled = Boolean(parsed.error);
    if (parsed.error) {
      this.download.removeAttribute("href");
      this.download.setAttribute("aria-disabled", "true");
      return;
    }
    this.numbers = parsed.numbers;
    this.command.textContent = tensorboardCommand(this.job.id, this.numbers);
    const ready = mayHaveLogs(counts);
    if (ready) {
      this.download.href = urls.tensorboardZip(this.job.id, this.numbers);
      this.download.setAttribute("download", `onegin-${this.job.id}-tensorboard.zip`);
    } else {
      this.download.removeAttribute("href");
    }
    this.download.setAttribute("aria-disabled", String(!ready));
    this.download.title = ready ? "" : "Logs are stored as trials complete";
  }

  // The clipboard needs a secure context (https or loopback); elsewhere the command is
  // selected for the keyboard's copy.
  async copy() {
    try {
      await navigator.clipboard.writeText(this.command.textContent);
      this.status.textContent = "Command copied.";
    } catch {
      window.getSelection().selectAllChildren(this.command);
      this.status.textContent = "The command is selected: press Ctrl+C (⌘C) to copy it.";
    }
  }
}
