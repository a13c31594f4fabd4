// The parameters a job's trials vary, as plot axes (slices and parallel coordinates). Pure.

const LOG_SPAN = 100; // positive numbers spanning two decades or more go on a log axis
export const MISSING = "—"; // a text parameter a trial does not have

// The trials the plots draw, by how they ended: completed ones with a score, pruned ones
// with the score they had when stopped; every other trial (failed, cancelled, lost,
// queued, running) has no score and is counted as left out.
export function byOutcome(rows) {
  const scored = (r) => r.total_score !== null && r.total_score !== undefined;
  const completed = rows.filter((r) => r.status === "completed" && scored(r));
  const pruned = rows.filter((r) => r.status === "pruned" && scored(r));
  return { completed, pruned, left: rows.length - completed.length - pruned.length };
}

// values: one parameter's values over the trials (undefined where a trial lacks it)
export function axisKind(values) {
  const present = values.filter((v) => v !== undefined && v !== null);
  if (!present.length || present.some((v) => typeof v !== "number")) return "category";
  const low = Math.min(...present);
  const high = Math.max(...present);
  return low > 0 && high / low >= LOG_SPAN ? "log" : "value";
}

// [{name, kind, categories?}] for every parameter with two values or more among `rows`
// (a fixed one says nothing about the score), ordered as `order` (e.g. by importance)
// and then by name. A category axis lists its values sorted, numbers before text.
export function paramAxes(rows, order = []) {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.params || {})))];
  const rank = (name) => {
    const i = order.indexOf(name);
    return i < 0 ? order.length : i;
  };
  names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const axes = [];
  for (const name of names) {
    const values = rows.map((r) => r.params?.[name]);
    const distinct = new Set(values.map((v) => (v === undefined || v === null ? MISSING : String(v))));
    if (distinct.size < 2) continue;
    const kind = axisKind(values);
    const axis = { name, kind };
    if (kind === "value" && values.every((v) => v === undefined || v === null || Number.isInteger(v))) {
      axis.integer = true; // ticks on whole numbers (layers, units)
    }
    if (kind === "category") {
      axis.categories = [...distinct].sort((a, b) => {
        const x = Number(a), y = Number(b);
        if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
        return Number.isFinite(x) ? -1 : Number.isFinite(y) ? 1 : a.localeCompare(b);
      });
    }
    axes.push(axis);
  }
  return axes;
}

// A trial's value on an axis: a category's text, a number, or null (not drawable).
export function axisValue(row, axis) {
  const value = row.params?.[axis.name];
  if (axis.kind === "category") return value === undefined || value === null ? MISSING : String(value);
  return typeof value === "number" && (axis.kind !== "log" || value > 0) ? value : null;
}
