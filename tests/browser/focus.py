"""The keyboard's focus on a Playwright page: move it with Tab / Shift+Tab and check, at every
step, that the focused element shows a ring a person can see.

A ring is an outline (at least 2 px) or a box-shadow, of a colour with at least 3:1 contrast
against the background it is drawn on (WCAG 2.2's non-text contrast; the background is the
first opaque one behind the ring, semi-transparent layers blended in), and no ancestor that
hides its overflow cuts it off.
"""

from __future__ import annotations

from typing import Any

MIN_CONTRAST = 3.0

# What the focused element is, and what is wrong with its ring ("" when nothing). Every
# element reached is numbered once (data-kb) so that a walk can tell where it has been.
FOCUSED = """(minContrast) => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  if (el.dataset.kb === undefined) {
    window.__kb = (window.__kb ?? 0) + 1;
    el.dataset.kb = String(window.__kb);
  }
  // a heading or region given the focus by a script (tabindex -1) is no control to operate
  const text = (el.getAttribute("aria-label") || el.textContent || el.value || "").trim();
  const name = `${el.closest(".tip") ? "(in a tip) " : ""}${el.tagName.toLowerCase()}`
    + `${el.id ? "#" + el.id : ""}`
    + `${el.classList.length ? "." + [...el.classList].join(".") : ""} "${text.slice(0, 40)}"`;
  const rgba = (c) => {
    const m = c && c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a = "1"] = m[1].split(/[,\\s/]+/).filter(Boolean);
    return [Number(r), Number(g), Number(b), Number(a)];
  };
  const luminance = ([r, g, b]) => [r, g, b].map((v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  const ring = outline ? rgba(style.outlineColor)
    : style.boxShadow !== "none" ? rgba(style.boxShadow) : null;
  const result = {key: el.dataset.kb, name, problem: ""};
  if (el.tabIndex < 0) return result;
  if (!ring || ring[3] === 0) {
    result.problem = "no outline or box-shadow";
    return result;
  }
  // the background the ring lies on: behind the element for a ring outside it, the
  // element's own for one drawn inside (a negative outline-offset)
  const offset = outline ? parseFloat(style.outlineOffset) : 0;
  const layers = [];
  for (let node = offset < 0 ? el : el.parentElement; node; node = node.parentElement) {
    const colour = rgba(getComputedStyle(node).backgroundColor);
    if (colour && colour[3] > 0) layers.push(colour);
    if (colour && colour[3] >= 1) break;
  }
  let background = [255, 255, 255];
  for (const [r, g, b, a] of layers.reverse()) {
    background = [r, g, b].map((v, i) => v * a + background[i] * (1 - a));
  }
  const [hi, lo] = [luminance(ring), luminance(background)].sort((x, y) => y - x);
  const contrast = (hi + 0.05) / (lo + 0.05);
  if (contrast < minContrast) {
    result.problem = `ring ${style.outlineColor} has contrast ${contrast.toFixed(2)}:1 `
      + `against rgb(${background.map(Math.round).join(", ")})`;
    return result;
  }
  if (outline) {
    const reach = offset + parseFloat(style.outlineWidth) - 0.5;
    const box = el.getBoundingClientRect();
    for (let node = el.parentElement; node && node !== document.body; node = node.parentElement) {
      const clips = getComputedStyle(node);
      if (clips.overflowX === "visible" && clips.overflowY === "visible") continue;
      const frame = node.getBoundingClientRect();
      const left = frame.left + node.clientLeft, top = frame.top + node.clientTop;
      if (box.left - reach < left || box.top - reach < top
          || box.right + reach > left + node.clientWidth
          || box.bottom + reach > top + node.clientHeight) {
        result.problem = `ring cut off by ${node.tagName.toLowerCase()}`
          + `${node.id ? "#" + node.id : "." + [...node.classList].join(".")} (overflow hidden)`;
        return result;
      }
    }
  }
  return result;
}"""


class Keyboard:
    """Tab and Shift+Tab on ``page``, noting every focused element whose ring is not seen."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: dict[str, str] = {}  # element -> what is wrong with its ring

    def focused(self) -> dict[str, str] | None:
        """The focused element (None: the document itself), its ring checked."""
        found: dict[str, str] | None = self.page.evaluate(FOCUSED, MIN_CONTRAST)
        if found and found["problem"]:
            self.problems[found["name"]] = found["problem"]
        return found

    def press(self, key: str) -> dict[str, str] | None:
        self.page.keyboard.press(key)
        return self.focused()

    def tab_to(self, selector: str, *, back: bool = False, limit: int = 150) -> None:
        """Tab (Shift+Tab with ``back``) until the element ``selector`` has the focus."""
        key = "Shift+Tab" if back else "Tab"
        for _ in range(limit):
            self.press(key)
            if self.page.evaluate("(s) => document.activeElement?.matches(s)", selector):
                return
        raise AssertionError(f"{limit} presses of {key} never reached {selector}")

    def walk(self, key: str = "Tab") -> list[str]:
        """Press ``key`` until the focus comes back to where it started (the page's tab order
        wraps round); the names of the elements in between. Fails when a press leaves the
        focus where it was (a trap) or the walk never ends."""
        # where a mouse left the focus (its ring is not the keyboard's), else the first control
        start = self.page.evaluate(FOCUSED, MIN_CONTRAST) or self.press(key)
        assert start is not None, f"{key} reaches no control"
        seen: list[str] = []
        for _ in range(400):
            before = self.page.evaluate("() => document.activeElement?.dataset.kb ?? null")
            now = self.press(key)
            if now is not None and now["key"] == before:
                raise AssertionError(f"{key} left the focus on {now['name']}: a keyboard trap "
                                     f"(after {seen[-3:]})")
            if now is not None and now["key"] == start["key"]:
                return seen
            if now is not None:
                seen.append(now["name"])
        connected = self.page.evaluate(
            "(k) => document.querySelector(`[data-kb='${k}']`)?.isConnected ?? false", start["key"])
        raise AssertionError(f"400 presses of {key} never came back to {start} "
                             f"(still in the page: {connected}): {seen[-5:]}")

    def assert_visible(self) -> None:
        assert not self.problems, "focus not visible:\n" + "\n".join(
            f"  {name}: {problem}" for name, problem in self.problems.items())
