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

/** Every column the runs call for: the run's name, experiment and state, then the results (the last value
 * of each series, then summary metrics), when it started and how long it took, then the params that explain
 * the results; each group in order of first appearance. Results come first so they fit a notebook's width. */
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
  return [
    ...BASE.slice(0, 3),
    ...last.map((k): Column => ({ id: `s:${k}`, kind: "last", key: k, label: k, group: "last" })),
    ...metrics.map((k): Column => ({ id: `m:${k}`, kind: "metric", key: k, label: k, group: "metric" })),
    ...BASE.slice(3),
    ...params.map((k): Column => ({ id: `p:${k}`, kind: "param", key: k, label: k, group: "param" })),
  ];
}

/** Columns hidden unless the user asks for them: the experiment while every run is in the same one. */
export function autoHidden(runs: Iterable<RunRow>): Set<string> {
  const exps = new Set<string>();
  for (const r of runs) {
    exps.add(r.exp);
    if (exps.size > 1) return new Set();
  }
  return new Set(["exp"]);
}

/** Whether a first click on a column's header sorts it descending: numbers and times biggest/newest first;
 * names A to Z; states running, failed and crashed before complete. */
export function sortsDescFirst(col: Column): boolean {
  return col.kind !== "name" && col.kind !== "exp" && col.kind !== "state";
}

/** Seconds a run has lasted: to its end, to `now` while it runs, else (crashed, never ended) to its last sign
 * of life: its last heartbeat or logged point (`seen`), or its last update. */
export function durationOf(run: RunRow, now: number): number | null {
  const end = run.end ?? (run.state === "RUNNING" ? now : Math.max(run.updated, run.seen ?? -Infinity));
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
      return has(run.params, col.key) ? run.params[col.key] : undefined;
    case "metric":
      return has(run.metrics, col.key) ? run.metrics[col.key] : undefined;
    case "last":
      return has(run.last, col.key) ? run.last[col.key][1] : undefined;
  }
}

// Ascending: what needs a look first (live, then broken), what is done last.
const STATE_RANK: Record<string, number> = {
  RUNNING: 0, FAILED: 1, CRASHED: 2, NEW: 3, CANCELLED: 4, CACHED: 5, COMPLETE: 6,
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

export type FilterOp = "=" | "!=" | ">" | "<" | ">=" | "<=" | "~";

/** One term of a filter: a bare word (substring of the search text) or `key op value`; `not` from a leading -. */
export interface FilterTerm {
  not: boolean;
  word?: string;
  key?: string;
  op?: FilterOp;
  value?: string;
}

const COMPARISON = /^([^\s<>=!~"]+)(>=|<=|!=|=|>|<|~)(.*)$/;

/** A filter's terms. Terms are separated by spaces; a value may be quoted ("my run"); a term that is not
 * complete yet (`lr>` while typing) is left out. */
export function parseFilter(filter: string): FilterTerm[] {
  const terms: FilterTerm[] = [];
  for (let raw of filter.match(/(?:[^\s"]+|"[^"]*"?)+/g) ?? []) {
    let not = false;
    if (raw.length > 1 && raw.startsWith("-")) {
      not = true;
      raw = raw.slice(1);
    }
    const m = COMPARISON.exec(raw);
    if (m) {
      const value = unquote(m[3]);
      if (value !== "") terms.push({ not, key: m[1], op: m[2] as FilterOp, value });
      continue;
    }
    const word = unquote(raw).toLowerCase();
    if (word !== "") terms.push({ not, word });
  }
  return terms;
}

function unquote(s: string): string {
  return s.replace(/"/g, "");
}

/** Whether `obj` holds `key` itself: keys come from the store, and `in` would also find "constructor". */
function has(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** The value a filter key names in a run: a param, else the last value of a series, else a summary metric,
 * else the run's name, experiment or state; exact key first, then ignoring case. */
export function filterValue(run: RunRow, key: string): Value | undefined {
  const own: Record<string, Value> = { name: run.name, exp: run.exp, experiment: run.exp, state: run.state };
  const lookups: ((k: string) => Value | undefined)[] = [
    (k) => (has(run.params, k) ? run.params[k] : undefined),
    (k) => (has(run.last, k) ? run.last[k][1] : undefined),
    (k) => (has(run.metrics, k) ? run.metrics[k] : undefined),
    (k) => (has(own, k) ? own[k] : undefined),
  ];
  for (const look of lookups) {
    const v = look(key);
    if (v !== undefined) return v;
  }
  const lower = key.toLowerCase();
  for (const look of lookups) {
    for (const k of [...Object.keys(run.params), ...Object.keys(run.last), ...Object.keys(run.metrics)]) {
      if (k.toLowerCase() === lower) {
        const v = look(k);
        if (v !== undefined) return v;
      }
    }
  }
  return has(own, lower) ? own[lower] : undefined;
}

function asNumber(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (t === "nan") return NaN;
  if (t === "inf" || t === "+inf" || t === "infinity") return Infinity;
  if (t === "-inf" || t === "-infinity") return -Infinity;
  if (t === "" || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return null;
  return Number(t);
}

/** Whether one `key op value` term holds for a value (false when the run has no value for the key):
 * numbers compare numerically, other values as text ignoring case; `~` is "contains". */
export function compareTerm(v: Value | undefined, op: FilterOp, text: string): boolean {
  if (v === undefined || v === null) return false;
  const num = typeof v === "bigint" ? Number(v) : v;
  const target = asNumber(text);
  let c: number;
  if (typeof num === "number" && target !== null) {
    if (Number.isNaN(num) || Number.isNaN(target)) {
      const same = Number.isNaN(num) && Number.isNaN(target);
      return op === "=" ? same : op === "!=" ? !same : false;
    }
    c = num < target ? -1 : num > target ? 1 : 0;
  } else {
    const s = String(v).toLowerCase();
    const t = text.toLowerCase();
    if (op === "~") return s.includes(t);
    c = op === "=" || op === "!=" ? (s === t ? 0 : 1) : collator.compare(s, t);
  }
  switch (op) {
    case "=":
      return c === 0;
    case "!=":
      return c !== 0;
    case ">":
      return c > 0;
    case "<":
      return c < 0;
    case ">=":
      return c >= 0;
    case "<=":
      return c <= 0;
    case "~":
      return String(v).toLowerCase().includes(text.toLowerCase());
  }
}

/** Whether a run matches a filter (a string, or its parsed terms): every term holds. Bare words are
 * substrings of the name, experiment, state or a param's key=value; `key=v`, `key!=v`, `key>v`, `key<v`,
 * `key>=v`, `key<=v` and `key~v` compare a param, a series' last value or a metric; a leading - negates. */
export function matchesFilter(run: RunRow, filter: string | FilterTerm[], text?: string): boolean {
  const terms = typeof filter === "string" ? parseFilter(filter) : filter;
  for (const t of terms) {
    let ok: boolean;
    if (t.word !== undefined) {
      text ??= searchText(run);
      ok = text.includes(t.word);
    } else {
      ok = compareTerm(filterValue(run, t.key as string), t.op as FilterOp, t.value as string);
    }
    if (ok === t.not) return false;
  }
  return true;
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
    const first = has(runs[0].params, k) ? runs[0].params[k] : undefined;
    for (let i = 1; i < runs.length; i++) {
      const v = has(runs[i].params, k) ? runs[i].params[k] : undefined;
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
