// Scoring weights as integer percents that always total exactly 100.
// Pure functions (no DOM): the sliders call them, weights.test.mjs tests them.

export const TOTAL = 100;

function clampPercent(value) {
  const number = Number(value);
  if (!Number.isFinite(number)) return 0;
  return Math.min(TOTAL, Math.max(0, Math.round(number)));
}

// Integers proportional to `shares` that sum to exactly `total` (largest remainder).
// Zero shares everywhere split `total` equally. Ties go to the earlier key.
export function apportion(shares, total) {
  const keys = Object.keys(shares);
  if (keys.length === 0) return {};
  const raw = keys.map((k) => Math.max(0, Number(shares[k]) || 0));
  const sum = raw.reduce((a, b) => a + b, 0);
  const exact = raw.map((v) => (sum > 0 ? (v * total) / sum : total / keys.length));
  const floors = exact.map(Math.floor);
  let left = total - floors.reduce((a, b) => a + b, 0);
  const order = exact
    .map((v, i) => ({ i, remainder: v - floors[i] }))
    .sort((a, b) => b.remainder - a.remainder || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i] += 1;
    left -= 1;
  }
  return Object.fromEntries(keys.map((k, i) => [k, floors[i]]));
}

// Fractions such as {a: 0.25, b: 0.75} (or any non-negative numbers) as percents summing to 100.
export function toPercents(fractions) {
  return apportion(fractions, TOTAL);
}

// Percents back to fractions for the API ({a: 25} -> {a: 0.25}); they sum to 1 within 1e-12.
export function toFractions(percents) {
  return Object.fromEntries(Object.entries(percents).map(([k, v]) => [k, v / TOTAL]));
}

// Set `name` to `value` and spread the difference over the other keys in proportion to
// their current values, so the result is integers totalling exactly 100. Rebalance from
// the values at the start of a drag (not from each intermediate step) so that small
// weights are not ground down to zero by repeated rounding.
export function rebalance(percents, name, value) {
  const keys = Object.keys(percents);
  if (!keys.includes(name)) throw new Error(`unknown weight ${name}`);
  if (keys.length === 1) return { [name]: TOTAL };
  const target = clampPercent(value);
  const others = Object.fromEntries(keys.filter((k) => k !== name).map((k) => [k, percents[k]]));
  const spread = apportion(others, TOTAL - target);
  return Object.fromEntries(keys.map((k) => [k, k === name ? target : spread[k]]));
}

export function sum(percents) {
  return Object.values(percents).reduce((a, b) => a + b, 0);
}
