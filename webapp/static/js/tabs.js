// An ARIA tab list (the WAI-ARIA Authoring Practices' tabs, activated on focus): one
// button per tab, only the selected one in the tab order; arrow keys, Home and End move
// among the tabs that are not hidden.

import { clear, h } from "./dom.js";

// tabs: [{id, label, controls, dataset?}]; onSelect(index, button) shows its panel.
// Returns {buttons, select(index, focus)}; nothing is selected until `select` is called.
export function tabList(list, tabs, onSelect) {
  const buttons = tabs.map((tab, i) => h("button", {
    type: "button", role: "tab", id: tab.id, class: "tab", "aria-selected": "false",
    "aria-controls": tab.controls, tabindex: "-1", dataset: tab.dataset,
    onclick: () => select(i),
  }, tab.label));
  const select = (i, focus = false) => {
    buttons.forEach((b, j) => {
      b.setAttribute("aria-selected", String(i === j));
      b.tabIndex = i === j ? 0 : -1;
    });
    if (focus) buttons[i].focus();
    onSelect(i, buttons[i]);
  };
  list.onkeydown = (event) => {
    const shown = buttons.filter((b) => !b.hidden);
    const i = shown.indexOf(document.activeElement);
    if (i < 0) return;
    const keys = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: shown.length - 1 };
    if (!(event.key in keys)) return;
    event.preventDefault();
    select(buttons.indexOf(shown[(keys[event.key] + shown.length) % shown.length]), true);
  };
  clear(list, buttons);
  return { buttons, select };
}
