import { describe, expect, it } from "vitest";
import type { RunRow } from "../protocol";
import {
  cellValue, columnsFor, deltaOf, differingParams, matchesFilter, sortRuns,
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
  it("lists the run's own, then last values, metrics and params in order of appearance", () => {
    expect(columnsFor(runs, ["loss"]).map((c) => c.id)).toEqual([
      "name", "exp", "state", "start", "duration", "s:loss", "m:acc", "p:lr", "p:opt",
    ]);
  });
  it("reads a cell, undefined when the run has none", () => {
    expect(cellValue(runs[0], col("s:loss"), 0)).toBe(0.2);
    expect(cellValue(runs[3], col("p:lr"), 0)).toBeUndefined();
    expect(cellValue(runs[2], col("duration"), 1100)).toBe(1100 - 1003);
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
  it("orders states running first, complete last", () => {
    expect(sortRuns(runs, col("state"), false, 0).map((r) => r.state)).toEqual([
      "RUNNING", "FAILED", "COMPLETE", "COMPLETE",
    ]);
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
  it("matches every term against name, experiment, state and key=value params", () => {
    expect(runs.filter((r) => matchesFilter(r, "opt=sgd")).map((r) => r.id)).toEqual([4]);
    expect(runs.filter((r) => matchesFilter(r, "RUN-1 running")).map((r) => r.id)).toEqual([3]);
    expect(runs.filter((r) => matchesFilter(r, "   ")).length).toBe(4);
    expect(runs.filter((r) => matchesFilter(r, "<img")).length).toBe(0);
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
});
