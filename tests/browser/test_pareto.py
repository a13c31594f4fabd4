"""A pareto job in the dashboard: the front as an ECharts scatter plot, its members
highlighted, a point opening its trial's details (Debian's chromium, the real server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Dashboard, watch_errors
from tests.browser.test_dashboard import (
    JOB_TIMEOUT_MS,
    configure,
    job_id_from_url,
    new_page,
    open_dashboard,
)

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
TRIALS = 3

# Where the chart drew its first front member, and how it drew both series (ECharts'
# public API: the instance of the container, its option and its pixel conversion).
FRONT_POINT = """async () => {
  const echarts = await import("echarts");
  const container = document.querySelector("#front-chart");
  const chart = echarts.getInstanceByDom(container);
  const series = Object.fromEntries(chart.getOption().series.map((s) => [s.name, s]));
  const front = series["Pareto front"], dominated = series["Dominated trials"];
  const first = front.data[0];
  const [x, y] = chart.convertToPixel({ seriesName: "Pareto front" }, first.value);
  const box = container.getBoundingClientRect();
  return {
    x: box.left + x, y: box.top + y, number: first.number,
    front: front.data.map((p) => p.number), dominated: dominated.data.map((p) => p.number),
    colors: [front.itemStyle.color, dominated.itemStyle.color],
    sizes: [front.symbolSize, dominated.symbolSize],
  };
}"""


def test_the_front_is_a_scatter_plot_whose_points_open_their_trials(
        browser: Any, dashboard: Dashboard, screenshots: Path) -> None:
    page = new_page(browser, dashboard)
    errors = watch_errors(page)
    open_dashboard(page)
    configure(page, trials=TRIALS)
    page.select_option("#objective", "pareto")
    page.click("#start-button")
    job_id = job_id_from_url(page)
    page.wait_for_function(
        "() => document.querySelector('#job-status .badge')?.dataset.status === 'completed'",
        timeout=JOB_TIMEOUT_MS)
    page.wait_for_selector("#best-section:not([hidden])", timeout=60_000)
    front = page.request.get(f"/api/v1/jobs/{job_id}/front").json()
    members = [m["number"] for m in front["front"]]
    # the final front, and the trials it dominates, drawn
    page.wait_for_function(
        f"""() => {{ const c = document.querySelector('#front-chart');
                    return Number(c.dataset.rendered) > 0
                      && c.dataset.members === '{" ".join(map(str, members))}'
                      && c.dataset.dominated === '{len(front["dominated"])}'
                      && c.querySelector('canvas') !== null; }}""")
    page.locator("#front-chart").scroll_into_view_if_needed()  # clicks land in the viewport
    drawn = page.evaluate(FRONT_POINT)
    assert drawn["front"] == members
    assert drawn["dominated"] == [d["number"] for d in front["dominated"]]
    assert drawn["colors"][0] != drawn["colors"][1] and drawn["sizes"][0] > drawn["sizes"][1]
    rows = page.eval_on_selector_all("#front-table tbody tr",
                                     "rows => rows.map(r => r.dataset.number)")
    assert rows == [str(n) for n in members]
    page.screenshot(path=str(screenshots / "desktop-pareto-front.png"), full_page=True)

    page.mouse.click(drawn["x"], drawn["y"])
    page.wait_for_selector("#trial-dialog[open]")
    assert page.text_content("#trial-dialog-title") == f"Trial #{drawn['number']} details"
    page.click("#trial-dialog-close")
    model = page.request.get(front["front"][0]["model_url"])
    assert model.status == 200 and model.body()[:2] == b"PK"  # a .keras file is a zip
    page.context.close()
    assert not errors, "\n".join(errors)
