// "Your datasets": upload a zip of class folders or a labelled text file, see each
// upload's classes, sizes and preview, use one in the job form, delete one. The server
// checks every upload whole; a refusal lists every bad file or line it named.

import { ApiError, api } from "./api.js";
import { $, announce, clear, h } from "./dom.js";

// "12.3 kB": sizes as people read them.
export function formatBytes(bytes) {
  const units = ["B", "kB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

// The lines of a refused upload: "red/notes.txt: is not an image", one per problem.
export function problemLines(error) {
  const fields = error instanceof ApiError ? error.fields : {};
  const lines = Object.entries(fields).map(([where, reason]) => `${where}: ${reason}`);
  return lines.length ? lines : [error.message];
}

// "red 40 · blue 38": each class with its count.
export function classSummary(upload) {
  return upload.classes.map((c) => `${c.name} ${c.samples}`).join(" · ");
}

export class UploadsPanel {
  constructor({ onChange, onUse }) {
    this.onChange = onChange;
    this.onUse = onUse;
    this.uploads = [];
    $("#upload-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.upload();
    });
    $("#upload-file").addEventListener("change", () => {
      const file = $("#upload-file").files[0];
      if (file && !$("#upload-name").value) $("#upload-name").value = file.name;
    });
  }

  // The list is aria-busy (from the page's first paint) until the uploads have been read.
  async load() {
    const list = $("#uploads-list");
    list.setAttribute("aria-busy", "true");
    try {
      const data = await api.uploads();
      this.uploads = data.uploads || [];
      this.render(data.quota);
      this.onChange?.(this.uploads);
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  async upload() {
    const file = $("#upload-file").files[0];
    const errors = $("#upload-errors");
    clear(errors);
    if (!file) {
      clear(errors, h("li", {}, "Choose a .zip, .tsv, .txt or .csv file first."));
      return;
    }
    const button = $("#upload-button");
    button.disabled = true;
    $("#upload-status").textContent = `Uploading ${file.name}…`;
    try {
      const made = await api.uploadDataset(file, $("#upload-name").value.trim() || file.name);
      $("#upload-status").textContent = `${made.name} uploaded: ${made.num_classes} classes, `
        + `${made.samples} samples.`;
      announce(`Dataset ${made.name} uploaded.`);
      $("#upload-form").reset();
      await this.load();
    } catch (error) {
      $("#upload-status").textContent = "The upload was refused:";
      clear(errors, problemLines(error).map((line) => h("li", {}, line)));
    } finally {
      button.disabled = false;
    }
  }

  async remove(upload) {
    if (!window.confirm(`Delete the dataset ${upload.name}?`)) return;
    await api.deleteUpload(upload.id);
    announce(`Dataset ${upload.name} deleted.`);
    await this.load();
  }

  render(quota) {
    $("#upload-quota").textContent = quota
      ? `${formatBytes(quota.used)} of ${formatBytes(quota.bytes)} used` : "";
    clear($("#uploads-list"), this.uploads.length === 0
      ? h("li", { class: "muted" }, "No uploads yet.")
      : this.uploads.map((upload) => this.item(upload)));
  }

  item(upload) {
    const preview = upload.kind === "images"
      ? h("div", { class: "upload-thumbs" }, upload.preview.images.map((image) =>
        h("img", { src: image.url, alt: `${image.label} example`, width: 48, height: 48,
          loading: "lazy" })))
      : h("ul", { class: "upload-lines" }, upload.preview.lines.map((line) =>
        h("li", {}, h("strong", {}, line.label), " ", line.text)));
    return h("li", { class: "upload", dataset: { upload: upload.id } },
      h("div", { class: "upload-head" },
        h("strong", { class: "upload-name" }, upload.name),
        h("span", { class: "muted" }, ` ${upload.kind}, ${upload.num_classes} classes, `
          + `${upload.samples} samples, ${formatBytes(upload.bytes)}`)),
      h("p", { class: "hint upload-classes" }, classSummary(upload)),
      preview,
      h("div", { class: "upload-actions" },
        h("button", { type: "button", class: "button button--quiet",
          "aria-label": `Use ${upload.name} in the job form`,
          onclick: () => this.onUse?.(upload) }, "Use"),
        h("button", { type: "button", class: "button button--quiet",
          "aria-label": `Delete ${upload.name}`,
          onclick: () => this.remove(upload).catch((error) => {
            $("#upload-status").textContent = `Could not delete: ${error.message}`;
          }) }, "Delete")));
  }
}
