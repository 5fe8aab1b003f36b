/**
 * The run table's logic, apart from the DOM: which columns exist, a cell's value, sorting, the text
 * filter, "differences only" and deltas against a pinned baseline run.
 */
import type { RunRow, Value } from "./protocol";

export type ColumnKind = "name" | "exp" | "state" | "start" | "duration" | "param" | "metric" | "last";

export interface Column {
  id: string;
  kind: ColumnKind;
  key: string;
  label: string;
  group: "run" | "param" | "metric" | "last";
}

const BASE: Column[] = [
  { id: "name", kind: "name", key: "", label: "run", group: "run" },
  { id: "exp", kind: "exp", key: "", label: "experiment", group: "run" },
  { id: "state", kind: "state", key: "", label: "state", group: "run" },
  { id: "start", kind: "start", key: "", label: "started", group: "run" },
  { id: "duration", kind: "duration", key: "", label: "duration", group: "run" },
];

/** Every column the runs call for: the run's own, then the last value of each series, summary metrics and
 * params, each group in order of first appearance. */
export function columnsFor(runs: Iterable<RunRow>, seriesKeys: string[] = []): Column[] {
  const params: string[] = [];
  const metrics: string[] = [];
  const last: string[] = [...seriesKeys];
  const seen = { p: new Set<string>(), m: new Set<string>(), l: new Set<string>(seriesKeys) };
  for (const r of runs) {
    for (const k of Object.keys(r.params)) if (!seen.p.has(k)) (seen.p.add(k), params.push(k));
    for (const k of Object.keys(r.metrics)) if (!seen.m.has(k)) (seen.m.add(k), metrics.push(k));
    for (const k of Object.keys(r.last)) if (!seen.l.has(k)) (seen.l.add(k), last.push(k));
  }
  // Results first (what a notebook's width shows), then the params that explain them.
  return [
    ...BASE,
    ...last.map((k): Column => ({ id: `s:${k}`, kind: "last", key: k, label: k, group: "last" })),
    ...metrics.map((k): Column => ({ id: `m:${k}`, kind: "metric", key: k, label: k, group: "metric" })),
    ...params.map((k): Column => ({ id: `p:${k}`, kind: "param", key: k, label: k, group: "param" })),
  ];
}

/** Seconds a run has lasted: to its end, or to `now` while it runs. */
export function durationOf(run: RunRow, now: number): number | null {
  const end = run.end ?? (run.state === "RUNNING" ? now : run.updated);
  return end >= run.start ? end - run.start : null;
}

/** The value a cell shows and sorts by (undefined when the run has none). */
export function cellValue(run: RunRow, col: Column, now: number): Value | undefined {
  switch (col.kind) {
    case "name":
      return run.name;
    case "exp":
      return run.exp;
    case "state":
      return run.state;
    case "start":
      return run.start;
    case "duration":
      return durationOf(run, now);
    case "param":
      return col.key in run.params ? run.params[col.key] : undefined;
    case "metric":
      return col.key in run.metrics ? run.metrics[col.key] : undefined;
    case "last":
      return col.key in run.last ? run.last[col.key][1] : undefined;
  }
}

const STATE_RANK: Record<string, number> = {
  RUNNING: 0, NEW: 1, FAILED: 2, CRASHED: 3, CANCELLED: 4, COMPLETE: 5,
};

function rankOf(v: Value): number {
  // numbers (NaN after them), then strings, then booleans: one total order for mixed columns
  if (typeof v === "number" || typeof v === "bigint") return Number.isNaN(v) ? 1 : 0;
  if (typeof v === "string") return 2;
  return 3;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** Order of two present values: numbers numerically, strings naturally ("run-2" < "run-10"). */
export function compareValues(a: Value, b: Value): number {
  const ra = rankOf(a);
  const rb = rankOf(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) {
    const x = typeof a === "bigint" ? Number(a) : (a as number);
    const y = typeof b === "bigint" ? Number(b) : (b as number);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ra === 2) return collator.compare(a as string, b as string);
  return Number(a) - Number(b);
}

/** Runs sorted by a column (stable; runs without a value always last, whichever the direction). */
export function sortRuns(runs: RunRow[], col: Column, desc: boolean, now: number): RunRow[] {
  const keyed = runs.map((r, i) => ({ r, i, v: cellValue(r, col, now) }));
  const sign = desc ? -1 : 1;
  keyed.sort((a, b) => {
    const ma = a.v === undefined || a.v === null;
    const mb = b.v === undefined || b.v === null;
    if (ma || mb) return ma === mb ? a.i - b.i : ma ? 1 : -1;
    let c: number;
    if (col.kind === "state") {
      c = (STATE_RANK[a.v as string] ?? 9) - (STATE_RANK[b.v as string] ?? 9);
      if (c === 0) c = compareValues(a.v as Value, b.v as Value);
    } else {
      c = compareValues(a.v as Value, b.v as Value);
    }
    return c !== 0 ? sign * c : a.i - b.i;
  });
  return keyed.map((k) => k.r);
}

/** The text the filter searches: name, experiment, state and every param as key=value. */
export function searchText(run: RunRow): string {
  const parts = [run.name, run.exp, run.state];
  for (const [k, v] of Object.entries(run.params)) parts.push(`${k}=${String(v)}`);
  return parts.join("\n").toLowerCase();
}

/** Whether a run matches a filter: every whitespace-separated term is a substring of its search text. */
export function matchesFilter(run: RunRow, filter: string, text = searchText(run)): boolean {
  const terms = filter.toLowerCase().split(/\s+/).filter(Boolean);
  return terms.every((t) => text.includes(t));
}

function same(a: Value | undefined, b: Value | undefined): boolean {
  if (typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b)) return true;
  return a === b;
}

/** The params whose value is not the same across these runs (a run without the param counts as differing). */
export function differingParams(runs: RunRow[], keys: string[]): Set<string> {
  const out = new Set<string>();
  if (runs.length < 2) return out;
  for (const k of keys) {
    const first = k in runs[0].params ? runs[0].params[k] : undefined;
    for (let i = 1; i < runs.length; i++) {
      const v = k in runs[i].params ? runs[i].params[k] : undefined;
      if (!same(first, v)) {
        out.add(k);
        break;
      }
    }
  }
  return out;
}

/** A run's value minus the baseline's, when both are finite numbers; else null. */
export function deltaOf(value: Value | undefined, base: Value | undefined): number | null {
  const a = typeof value === "bigint" ? Number(value) : value;
  const b = typeof base === "bigint" ? Number(base) : base;
  if (typeof a !== "number" || typeof b !== "number" || !Number.isFinite(a) || !Number.isFinite(b)) return null;
  return a - b;
}
