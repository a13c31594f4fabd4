"""The dashboard's Analysis area on a job of 5,000 trials: its request and each plot, in Chromium.

A job and its trials are written straight into the records (benchmarks/trials_table.py
`seed_job`: every state, digits parameters, health and learning curves), a real
``onegin web`` (no workers) serves them, and Debian's chromium opens the job. Timed:

- ``GET /jobs/<id>/analysis`` over HTTP, and its size (the history of every trial, a
  sample of `webapp.analysis.TRIALS_SHOWN` trials, `CURVES_SHOWN` curves);
- each plot in the page (``performance.now()``), from the click on its tab to the frame
  after its chart was set; the history from the route change to the job, which also
  reads its trials for the gallery meanwhile (so it has no target).

    .venv/bin/python benchmarks/analysis.py [--trials 5000] [--database postgresql]

Writes ``benchmarks/results/analysis_<database>.json`` and ``.md`` and prints the table.
"""

from __future__ import annotations

import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import environment, markdown, median, write
from benchmarks.trials_table import arguments, seeded_server

TARGET_API_MS = 1000
TARGET_PLOT_MS = 1000
PLOTS = ("slices", "parallel", "curves", "radar")
# From an action (a route change, a tab click) to the frame after the chart was set.
TIMED = """async ([key, action, arg]) => {
  const rendered = () => Number(document.querySelector(`#analysis-${key}`)?.dataset.rendered || 0);
  const before = rendered();
  const start = performance.now();
  if (action === "route") location.hash = arg;
  else document.querySelector(`#analysis-tab-${key}`).click();
  while (rendered() === before) await new Promise((r) => setTimeout(r, 2));
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  return performance.now() - start;
}"""


def fetch(url: str) -> tuple[float, int]:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        size = len(response.read())
    return (time.perf_counter() - start) * 1000, size


def measure(url: str, job_id: str, repeats: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    results: dict[str, Any] = {"api_ms": [], "plot_ms": {k: [] for k in ("history", *PLOTS)}}
    for _ in range(repeats * 3):
        ms, results["api_bytes"] = fetch(f"{url}/api/v1/jobs/{job_id}/analysis")
        results["api_ms"].append(ms)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(repeats):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(f"{url}/#/")
            page.wait_for_selector("#job-form")
            results["plot_ms"]["history"].append(
                page.evaluate(TIMED, ["history", "route", f"#/jobs/{job_id}"]))
            for key in PLOTS:
                results["plot_ms"][key].append(page.evaluate(TIMED, [key, "click", None]))
            context.close()
        browser.close()
    return results


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    with seeded_server(args.trials, args.database) as server:
        results = measure(server.url, server.job_id, args.repeats)
    summary = {"api_median_ms": median(results["api_ms"]), "api_kib": results["api_bytes"] / 1024,
               **{f"{k}_median_ms": median(v) for k, v in results["plot_ms"].items()}}
    # the first history shares its time with the job view's own first reads: no target
    slowest = max(summary[f"{k}_median_ms"] for k in PLOTS)
    passed = summary["api_median_ms"] <= TARGET_API_MS and slowest <= TARGET_PLOT_MS
    table = [
        ("trials / database", f"{args.trials} / {args.database}"),
        ("GET /analysis (median)", f"{summary['api_median_ms']:.0f} ms, "
                                   f"{summary['api_kib']:.0f} KiB"),
        ("history, from opening the job (no target)", f"{summary['history_median_ms']:.0f} ms"),
        *((f"{key}, from its tab", f"{summary[f'{key}_median_ms']:.0f} ms") for key in PLOTS),
        (f"targets (API ≤ {TARGET_API_MS} ms, each tab ≤ {TARGET_PLOT_MS} ms) met",
         "yes" if passed else "NO"),
    ]
    path = write(f"analysis_{args.database}", {
        "trials": args.trials, "database": args.database, "repeats": args.repeats,
        "targets": {"api_ms": TARGET_API_MS, "plot_ms": TARGET_PLOT_MS},
        "summary": summary, "passed": passed, "raw": results, "environment": environment(),
    }, table)
    path.with_suffix(".md").write_text(markdown(table))


if __name__ == "__main__":
    main()
