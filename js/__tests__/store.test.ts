import { describe, expect, it } from "vitest";
import type { DeltaMessage, RunRow, Snapshot } from "../protocol";
import { GROWTH } from "../series";
import { BoardStore } from "../store";
import { pack } from "./pack";

function row(id: number, name: string): RunRow {
  return { id, name, exp: "e", state: "RUNNING", start: 1, end: null, updated: 1, params: {}, metrics: {}, last: {} };
}

function snapshot(): { snap: Snapshot; buffer: DataView } {
  const { headers, buffer } = pack([{ run: 1, key: "loss", x: [0, 1, 2], y: [3, 2, 1] }]);
  return {
    snap: { seq: 4, experiments: ["e"], wanted: ["e"], runs: [row(1, "a")], keys: ["loss"], charts: ["loss"],
      loading: 0, series: headers },
    buffer,
  };
}

function delta(seq: number, extra: Partial<DeltaMessage>, parts = pack([])): [DeltaMessage, DataView] {
  return [{ type: "delta", seq, series: parts.headers, ...extra }, parts.buffer];
}

describe("BoardStore", () => {
  it("loads a snapshot", () => {
    const s = new BoardStore();
    const { snap, buffer } = snapshot();
    s.load(snap, buffer);
    expect(s.seq).toBe(4);
    expect(s.runs.get(1)?.name).toBe("a");
    expect([...(s.get(1, "loss")?.points().y ?? [])]).toEqual([3, 2, 1]);
  });

  it("applies deltas in order, ignores stale ones and reports a gap", () => {
    const s = new BoardStore();
    const { snap, buffer } = snapshot();
    s.load(snap, buffer);
    const changes: unknown[] = [];
    s.subscribe((c) => changes.push(c));
    const append = pack([{ run: 1, key: "loss", mode: "append", x: [3, 4], y: [0.5, NaN] }]);
    expect(s.apply(...delta(5, { runs: [row(2, "b")] }, append))).toBe("applied");
    const pts = s.get(1, "loss")?.points();
    expect([...(pts?.x ?? [])]).toEqual([0, 1, 2, 3, 4]);
    expect(Number.isNaN(pts?.y[4])).toBe(true);
    expect(s.runs.get(2)?.name).toBe("b");
    expect(s.apply(...delta(5, { runs: [row(3, "c")] }))).toBe("stale");
    expect(s.runs.has(3)).toBe(false);
    expect(s.apply(...delta(7, { runs: [row(3, "c")] }))).toBe("gap");
    expect(s.runs.has(3)).toBe(false);
    expect(s.seq).toBe(5);
    expect(changes.length).toBe(1);
  });

  it("drops series, removes runs, and takes new keys, charts and the loading count", () => {
    const s = new BoardStore();
    const { snap, buffer } = snapshot();
    s.load(snap, buffer);
    s.apply(...delta(5, { drop: [[1, "loss"]], keys: ["acc"], charts: ["acc"], loading: 3 }));
    expect(s.get(1, "loss")).toBeUndefined();
    expect(s.keys).toEqual(["loss", "acc"]);
    expect(s.charts).toEqual(["acc"]);
    expect(s.loading).toBe(3);
    s.apply(...delta(6, { removed: [1] }));
    expect(s.runs.size).toBe(0);
  });

  it("takes a resync snapshot only when it is newer, or when one was asked for", () => {
    const s = new BoardStore();
    const { snap, buffer } = snapshot();
    s.load(snap, buffer);
    expect(s.loadIfNewer({ ...snap, seq: 4, runs: [] }, buffer)).toBe(false);
    expect(s.runs.size).toBe(1);
    expect(s.loadIfNewer({ ...snap, seq: 9, runs: [row(5, "z")] }, buffer)).toBe(true);
    expect([...s.runs.keys()]).toEqual([5]);
    expect(s.seq).toBe(9);
  });

  it("takes a point logged again at the last step as a replacement (an overwrite)", () => {
    const s = new BoardStore();
    const { snap, buffer } = snapshot();
    s.load(snap, buffer);
    const before = s.get(1, "loss")?.version ?? 0;
    s.apply(...delta(5, {}, pack([{ run: 1, key: "loss", mode: "append", x: [2, 3], y: [7, 0.5] }])));
    const pts = s.get(1, "loss")?.points();
    expect([...(pts?.x ?? [])]).toEqual([0, 1, 2, 3]);
    expect([...(pts?.y ?? [])]).toEqual([3, 2, 7, 0.5]);
    s.apply(...delta(6, {}, pack([{ run: 1, key: "loss", mode: "append", x: [3], y: [9] }])));
    expect([...(s.get(1, "loss")?.points().y ?? [])]).toEqual([3, 2, 7, 9]);
    expect(s.get(1, "loss")?.version).toBeGreaterThan(before + 1);
    // An older step resent is ignored: it must not break the step order.
    s.apply(...delta(7, {}, pack([{ run: 1, key: "loss", mode: "append", x: [1], y: [5] }])));
    expect([...(s.get(1, "loss")?.points().y ?? [])]).toEqual([3, 2, 7, 9]);
  });

  it("reduces a held series once it outgrows its budget, keeping the spike", () => {
    const s = new BoardStore();
    s.px = 50;
    const { snap, buffer } = snapshot();
    s.load(snap, buffer);
    const n = GROWTH * 50 + 10;
    const x = Array.from({ length: n }, (_, i) => i + 3);
    const y = x.map((v) => (v === 200 ? 99 : Math.sin(v)));
    s.apply(...delta(5, {}, pack([{ run: 1, key: "loss", mode: "append", x, y, full: true }])));
    const series = s.get(1, "loss");
    expect(series?.full).toBe(false);
    expect(series?.n).toBeLessThanOrEqual(4 * 50);
    expect([...(series?.points().y ?? [])]).toContain(99);
  });

  it("keeps the newest lineage request's reply, its error, or nothing once closed", () => {
    const s = new BoardStore();
    const changes: unknown[] = [];
    s.subscribe((c) => changes.push(c));
    s.expectLineage(1, 7, "both");
    s.expectLineage(2, 7, "upstream");
    const graph = { nodes: [{ id: "artifacts/a", kind: "artifact", label: "data" }], edges: [], total: 1 };
    expect(s.applyLineage({ type: "lineage", id: 1, run: 7, direction: "both", graph })).toBe(false);
    expect(s.lineage?.graph).toBeNull();
    expect(s.applyLineage({ type: "lineage", id: 2, run: 7, direction: "upstream", graph })).toBe(true);
    expect(s.lineage?.graph?.nodes.map((n) => n.label)).toEqual(["data"]);
    expect(s.lineage?.direction).toBe("upstream");
    s.expectLineage(3, 8, "both");
    s.applyLineage({ type: "lineage", id: 3, run: 8, direction: "both", error: "this run is not on the board any more" });
    expect(s.lineage?.error).toBe("this run is not on the board any more");
    s.clearLineage();
    expect(s.lineage).toBeNull();
    expect(changes.length).toBe(6);
  });

  it("applies only the newest zoom reply, merged into the held points", () => {
    const s = new BoardStore();
    const { snap, buffer } = snapshot();
    s.load(snap, buffer);
    s.expectRange("loss", 2, new Map([[1, [1, 2]]]));
    const old = pack([{ run: 1, key: "loss", mode: "range", x: [1, 2], y: [7, 7] }]);
    expect(s.applyRange({ type: "range", id: 1, key: "loss", series: old.headers }, old.buffer)).toBe(false);
    const detail = pack([{ run: 1, key: "loss", mode: "range", x: [1, 1.5, 2], y: [9, 8, 9] }]);
    expect(s.applyRange({ type: "range", id: 2, key: "loss", series: detail.headers }, detail.buffer)).toBe(true);
    const pts = s.get(1, "loss")?.points();
    expect([...(pts?.x ?? [])]).toEqual([0, 1, 1.5, 2]);
    expect([...(pts?.y ?? [])]).toEqual([3, 9, 8, 9]);
    s.clearDetail("loss");
    expect([...(s.get(1, "loss")?.points().x ?? [])]).toEqual([0, 1, 2]);
  });
});
