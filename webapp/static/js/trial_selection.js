// The trials picked for a comparison, per job: two to four, chosen with a "Compare" box on
// a gallery card or a row of the trials table, kept in sessionStorage so the choice
// survives moving between the table and the job view. The comparison's address is
// #/jobs/<id>/compare/<n>,<n>,…

import { h } from "./dom.js";

export const MAX_COMPARED = 4;
export const MIN_COMPARED = 2;
const STORAGE_PREFIX = "onegin.compare.";

// `list` with `number` added (at the end) or removed; unchanged when full.
export function toggled(list, number, max = MAX_COMPARED) {
  if (list.includes(number)) return list.filter((n) => n !== number);
  return list.length >= max ? list : [...list, number];
}

// "3,7,7,x" -> [3, 7]: distinct trial numbers, at most `max`.
export function parseNumbers(text, max = MAX_COMPARED) {
  const numbers = String(text || "").split(",").filter((t) => /^\d+$/.test(t)).map(Number);
  return [...new Set(numbers)].slice(0, max);
}

export function compareHash(jobId, numbers) {
  return `#/jobs/${encodeURIComponent(jobId)}/compare/${numbers.join(",")}`;
}

export class TrialSelection {
  constructor(storage) {
    this.storage = storage;
    this.listeners = new Set();
  }

  get(jobId) {
    try {
      return parseNumbers(JSON.parse(this.storage?.getItem(STORAGE_PREFIX + jobId) ?? "[]").join(","));
    } catch {
      return [];
    }
  }

  set(jobId, numbers) {
    try {
      this.storage?.setItem(STORAGE_PREFIX + jobId, JSON.stringify(numbers));
    } catch {
      // storage full or off: the choice is not kept, the page goes on
    }
    for (const listener of this.listeners) listener(jobId, numbers);
  }

  toggle(jobId, number) {
    this.set(jobId, toggled(this.get(jobId), number));
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // The "Compare" box of one trial (a card or a table row); `sync` keeps every box true.
  box(jobId, number) {
    const input = h("input", { type: "checkbox", dataset: { compareTrial: String(number) },
      onchange: () => this.toggle(jobId, number) });
    this.syncBox(input, this.get(jobId));
    return h("label", { class: "trial-pick", title: `Compare trial #${number} with others` },
      input, " Compare",
      h("span", { class: "sr-only" }, ` trial #${number}`));
  }

  syncBox(input, chosen) {
    input.checked = chosen.includes(Number(input.dataset.compareTrial));
    input.disabled = !input.checked && chosen.length >= MAX_COMPARED;
  }

  sync(jobId, root) {
    const chosen = this.get(jobId);
    for (const input of root.querySelectorAll("input[data-compare-trial]")) this.syncBox(input, chosen);
  }
}

export const selection = new TrialSelection(globalThis.sessionStorage);
