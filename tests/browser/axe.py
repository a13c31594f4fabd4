"""axe-core on a Playwright page: the page must have no serious or critical violation.

axe-core is a devDependency of ``webapp/frontend`` (a test tool, never served by the
dashboard): it is injected into the page under test from ``node_modules`` and run with the
WCAG 2.x A/AA rules plus axe's best practices. The page's Content-Security-Policy stays on:
the script tag loads axe from a same-origin address that the test answers itself, as an
inline script would be refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from tests.browser.conftest import ROOT, _missing

AXE = ROOT / "webapp" / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = frozenset({"serious", "critical"})
ADDRESS = "/__test__/axe.min.js"  # answered by the test's route, never by the server

# The violations of the whole document, each with the selectors of the nodes it found.
# axe places a `position: sticky` element where it is drawn at the moment, as though it were
# relative (axe-core issue #3720, open): whatever a sticky bar covers at this scroll position
# would fail target-size, which scrolling undoes. Sticky elements are therefore checked in
# their place in the flow (position: static for the run; the layout around them is the same).
RUN = """async ([tags, within]) => {
  const sticky = [...document.querySelectorAll("body *")]
    .filter((el) => getComputedStyle(el).position === "sticky")
    .map((el) => [el, el.style.getPropertyValue("position"),
                  el.style.getPropertyPriority("position")]);
  sticky.forEach(([el]) => el.style.setProperty("position", "static", "important"));
  let results;
  try {
    results = await axe.run(within ?? document, {runOnly: {type: "tag", values: tags}});
  } finally {
    sticky.forEach(([el, value, priority]) => el.style.setProperty("position", value, priority));
  }
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.map(String).join(" "),
                                summary: n.failureSummary}))}));
}"""


def axe_script() -> Path:
    if not AXE.is_file():
        _missing(f"no {AXE.relative_to(ROOT)}: run `npm ci` in webapp/frontend "
                 "(scripts/setup.sh does)")
    return AXE


def violations(page: Any, within: str | None = None) -> list[dict[str, Any]]:
    """Every axe violation on ``page`` now (in the element ``within`` selects, if given),
    of any impact."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        url = urljoin(page.url, ADDRESS)
        page.route(url, lambda route: route.fulfill(path=axe_script(),
                                                    content_type="text/javascript"))
        page.add_script_tag(url=url)
    return list(page.evaluate(RUN, [TAGS, within]))


def report(found: list[dict[str, Any]]) -> str:
    """One paragraph per violation: rule, impact, help text and every selector."""
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>\n"
        + "\n".join(f"    {node['target']}: {(node['summary'] or '').splitlines()[-1]}"
                    for node in v["nodes"])
        for v in found)


def assert_accessible(page: Any, where: str, within: str | None = None) -> None:
    """Fail, listing them, when ``page`` (or the part ``within`` selects) has a serious or
    critical violation."""
    blocking = [v for v in violations(page, within) if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {where}:\n{report(blocking)}"
