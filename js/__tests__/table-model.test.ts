import { describe, expect, it } from "vitest";
import type { RunRow } from "../protocol";
import { formatDelta } from "../format";
import {
  autoHidden, cellValue, columnsFor, deltaOf, differingParams, durationOf, matchesFilter, parseFilter, sortRuns,
  sortsDescFirst,
} from "../table-model";

function run(id: number, name: string, extra: Partial<RunRow> = {}): RunRow {
  return {
    id, name, exp: "exp", state: "COMPLETE", start: 1000 + id, end: 1010 + id, updated: 1010 + id,
    params: {}, metrics: {}, last: {}, ...extra,
  };
}

const runs = [
  run(1, "run-10", { params: { lr: 0.1, opt: "adam" }, metrics: { acc: 0.9 }, last: { loss: [99, 0.2] } }),
  run(2, "run-2", { params: { lr: 0.01, opt: "adam" }, metrics: { acc: 0.8 }, last: { loss: [99, 0.1] } }),
  run(3, "run-1", { params: { lr: 0.001, opt: "adam" }, state: "RUNNING", end: null }),
  run(4, "run-3", { params: { opt: "sgd" }, metrics: { acc: NaN }, state: "FAILED" }),
];

const col = (id: string) => {
  const c = columnsFor(runs, ["loss"]).find((k) => k.id === id);
  if (!c) throw new Error(id);
  return c;
};

describe("columns", () => {
  it("lists name, experiment and state, then results (last values, metrics), times, then params", () => {
    expect(columnsFor(runs, ["loss"]).map((c) => c.id)).toEqual([
      "name", "exp", "state", "s:loss", "m:acc", "start", "duration", "p:lr", "p:opt",
    ]);
  });
  it("hides the experiment column by default while every run is in one experiment", () => {
    expect([...autoHidden(runs)]).toEqual(["exp"]);
    expect(autoHidden([...runs, run(9, "other", { exp: "exp2" })]).size).toBe(0);
  });
  it("reads a cell, undefined when the run has none", () => {
    expect(cellValue(runs[0], col("s:loss"), 0)).toBe(0.2);
    expect(cellValue(runs[3], col("p:lr"), 0)).toBeUndefined();
    expect(cellValue(runs[2], col("duration"), 1100)).toBe(1100 - 1003);
  });
  it("finds only a run's own keys, never the object's prototype", () => {
    const proto = [run(7, "p", { params: { constructor: "mine" } }), run(8, "q")];
    const c = columnsFor(proto, []).find((k) => k.id === "p:constructor");
    expect(c).toBeDefined();
    expect(cellValue(proto[0], c!, 0)).toBe("mine");
    expect(cellValue(proto[1], c!, 0)).toBeUndefined();
    expect(proto.filter((r) => matchesFilter(r, "constructor~native")).length).toBe(0);
    expect(proto.filter((r) => matchesFilter(r, "toString~function")).length).toBe(0);
  });
});

describe("sorting", () => {
  it("sorts names naturally", () => {
    expect(sortRuns(runs, col("name"), false, 0).map((r) => r.name)).toEqual(["run-1", "run-2", "run-3", "run-10"]);
  });
  it("sorts numbers numerically and puts missing values last in both directions", () => {
    expect(sortRuns(runs, col("p:lr"), false, 0).map((r) => r.id)).toEqual([3, 2, 1, 4]);
    expect(sortRuns(runs, col("p:lr"), true, 0).map((r) => r.id)).toEqual([1, 2, 3, 4]);
  });
  it("puts NaN after the numbers and keeps ties in their order", () => {
    expect(sortRuns(runs, col("m:acc"), false, 0).map((r) => r.id)).toEqual([2, 1, 4, 3]);
    expect(sortRuns(runs, col("p:opt"), false, 0).map((r) => r.id)).toEqual([1, 2, 3, 4]);
  });
  it("orders states running first, then failed and crashed, complete last, on the first click", () => {
    const states = [...runs, run(5, "c", { state: "CRASHED", end: null }), run(6, "n", { state: "CANCELLED" })];
    expect(sortsDescFirst(col("state"))).toBe(false);
    expect(sortRuns(states, col("state"), sortsDescFirst(col("state")), 0).map((r) => r.state)).toEqual([
      "RUNNING", "FAILED", "CRASHED", "CANCELLED", "COMPLETE", "COMPLETE",
    ]);
    expect(sortsDescFirst(col("name"))).toBe(false);
    expect(sortsDescFirst(col("s:loss"))).toBe(true);
    expect(sortsDescFirst(col("start"))).toBe(true);
  });
  it("sorts 1,000 runs without losing one", () => {
    const many = Array.from({ length: 1000 }, (_, i) => run(i, `r${i}`, { params: { lr: (i * 7919) % 1000 } }));
    const sorted = sortRuns(many, col("p:lr"), false, 0);
    expect(new Set(sorted.map((r) => r.id)).size).toBe(1000);
    for (let i = 1; i < sorted.length; i++) {
      expect(sorted[i].params.lr as number).toBeGreaterThanOrEqual(sorted[i - 1].params.lr as number);
    }
  });
});

describe("filter", () => {
  const ids = (f: string, rs: RunRow[] = runs) => rs.filter((r) => matchesFilter(r, f)).map((r) => r.id);
  it("matches bare words as substrings of name, experiment, state and key=value params", () => {
    expect(ids("opt=sgd")).toEqual([4]);
    expect(ids("RUN-1 running")).toEqual([3]);
    expect(ids("   ").length).toBe(4);
    expect(ids("<img").length).toBe(0);
  });
  const sweep = [
    run(1, "a", { params: { optimizer: "adam", lr: 0.1 }, last: { loss: [9, 0.3] } }),
    run(2, "b", { params: { optimizer: "adamw", lr: 0.15 }, last: { loss: [9, 0.6] } }),
    run(3, "c", { params: { optimizer: "SGD", lr: 1 }, metrics: { acc: 0.7 } }),
    run(4, "d", { params: { optimizer: "sgd", lr: BigInt(2) }, state: "FAILED" }),
  ];
  it("compares key=value exactly: numbers numerically, text ignoring case", () => {
    expect(ids("optimizer=adam", sweep)).toEqual([1]);
    expect(ids("lr=0.1", sweep)).toEqual([1]);
    expect(ids("lr=1.0", sweep)).toEqual([3]);
    expect(ids("lr=1e0", sweep)).toEqual([3]);
    expect(ids("lr=2", sweep)).toEqual([4]);
    expect(ids("optimizer=sgd", sweep)).toEqual([3, 4]);
    expect(ids("optimizer!=adam", sweep)).toEqual([2, 3, 4]);
    expect(ids("optimizer~adam", sweep)).toEqual([1, 2]);
  });
  it("compares with > < >= <= on params and the last value of a series or a metric", () => {
    expect(ids("lr>0.1", sweep)).toEqual([2, 3, 4]);
    expect(ids("lr>=0.15", sweep)).toEqual([2, 3, 4]);
    expect(ids("lr<1", sweep)).toEqual([1, 2]);
    expect(ids("lr<=1 lr>0.1", sweep)).toEqual([2, 3]);
    expect(ids("loss<0.5", sweep)).toEqual([1]);
    expect(ids("acc>=0.7", sweep)).toEqual([3]);
    expect(ids("LOSS<0.5", sweep)).toEqual([1]); // keys ignore case when no key matches exactly
    expect(ids("missing>0", sweep)).toEqual([]);
  });
  it("negates a term with a leading -, and filters on state by key", () => {
    expect(ids("-adamw", sweep)).toEqual([1, 3, 4]);
    expect(ids("-optimizer=sgd", sweep)).toEqual([1, 2]);
    expect(ids("state=failed", sweep)).toEqual([4]);
    expect(ids("-failed -sgd", sweep)).toEqual([1, 2]);
  });
  it("leaves out terms still being typed and reads quoted values", () => {
    expect(parseFilter("lr> -opt")).toEqual([{ not: true, word: "opt" }]);
    expect(ids("lr>", sweep)).toEqual([1, 2, 3, 4]);
    expect(ids("lr=", sweep)).toEqual([1, 2, 3, 4]);
    const named = [run(1, "my run"), run(2, "my"), run(3, "other", { params: { note: "a b" } })];
    expect(ids('name="my run"', named)).toEqual([1]);
    expect(ids('note="A B"', named)).toEqual([3]);
  });
});

describe("duration", () => {
  it("runs to the end, to now while running, else to the last sign of life", () => {
    expect(durationOf(run(1, "a"), 5000)).toBe(10);
    expect(durationOf(run(1, "a", { state: "RUNNING", end: null }), 1101)).toBe(100);
    const crashed = run(1, "a", { state: "CRASHED", end: null, updated: 1001 });
    expect(durationOf(crashed, 5000)).toBe(0);
    expect(durationOf({ ...crashed, seen: 1061 }, 5000)).toBe(60);
    expect(durationOf({ ...crashed, seen: null }, 5000)).toBe(0);
  });
});

describe("differences only", () => {
  it("keeps params that differ across the shown runs, a missing one included", () => {
    expect([...differingParams(runs, ["lr", "opt"])].sort()).toEqual(["lr", "opt"]);
    expect([...differingParams(runs.slice(0, 3), ["lr", "opt"])]).toEqual(["lr"]);
    expect(differingParams(runs.slice(0, 1), ["lr", "opt"]).size).toBe(0);
    const nan = [run(1, "a", { params: { x: NaN } }), run(2, "b", { params: { x: NaN } })];
    expect(differingParams(nan, ["x"]).size).toBe(0);
  });
});

describe("deltas", () => {
  it("subtracts the baseline when both are finite numbers", () => {
    expect(deltaOf(0.3, 0.1)).toBeCloseTo(0.2);
    expect(deltaOf(BigInt(5), 2)).toBe(3);
    expect(deltaOf("a", 1)).toBeNull();
    expect(deltaOf(NaN, 1)).toBeNull();
    expect(deltaOf(1, undefined)).toBeNull();
  });
  it("shows an identical value as = rather than a signed zero", () => {
    expect(formatDelta(0)).toBe("=");
    expect(formatDelta(0.25)).toBe("+0.25");
  });
});
