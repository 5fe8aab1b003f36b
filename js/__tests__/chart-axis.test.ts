import { describe, expect, it } from "vitest";
import { leftMargin, placeXLabels } from "../axis";
import { chartOrder, hoverRows, runOrigin } from "../chart";
import { Series } from "../series";
import { BoardStore, seriesId } from "../store";

const measure = (t: string) => t.length * 7; // a 7 px-per-character font

describe("x tick labels", () => {
  it("show the last label whole at the right border instead of cutting 50000 to 5000", () => {
    const width = 600;
    const ticks = [10000, 20000, 30000, 40000, 50000].map((v, i) => ({ px: 100 + i * 124.5, text: String(v) }));
    expect(ticks[4].px + measure("50000") / 2).toBeGreaterThan(width); // centred, it would be cut
    const placed = placeXLabels(ticks, measure, 2, width - 2);
    expect(placed.map((l) => l.text)).toEqual(["10000", "20000", "30000", "40000", "50000"]);
    for (const l of placed) {
      expect(l.x).toBeGreaterThanOrEqual(2);
      expect(l.x + measure(l.text)).toBeLessThanOrEqual(width - 2);
    }
  });
  it("push the first label inside the left border", () => {
    const placed = placeXLabels([{ px: 5, text: "0.0001" }], measure, 2, 300);
    expect(placed[0].x).toBe(2);
  });
  it("never overlap: a label that would is dropped, the end label kept", () => {
    const ticks = [0, 1, 2, 3].map((i) => ({ px: 560 + i * 12, text: `1${i}000` }));
    const placed = placeXLabels(ticks, measure, 2, 600);
    for (let i = 1; i < placed.length; i++) {
      expect(placed[i].x).toBeGreaterThanOrEqual(placed[i - 1].x + measure(placed[i - 1].text));
    }
    expect(placed[placed.length - 1].text).toBe("13000");
  });
});

describe("the left margin", () => {
  it("fits the widest y label", () => {
    const labels = ["9.416e-5", "9.418e-5", "9.42e-5"];
    const m = leftMargin(labels, measure, 60);
    expect(m).toBeGreaterThanOrEqual(measure("9.416e-5") + 6);
    const long = ["-123456789.123"];
    expect(leftMargin(long, measure, 60)).toBeGreaterThanOrEqual(measure(long[0]) + 6);
  });
  it("keeps its minimum for short labels", () => {
    expect(leftMargin(["0", "0.5", "1"], measure, 60)).toBe(60);
  });
});

describe("relative time", () => {
  const series = (run: number, key: string, t0: number) => {
    const s = new Series(run, key);
    s.append({ run, key, mode: "set", x: Float64Array.of(0, 1), t: Float64Array.of(t0, t0 + 1000), y: Float64Array.of(1, 2), full: true }, 800);
    return s;
  };
  it("counts from the run's first point over the charted metrics, not its creation", () => {
    const store = new BoardStore();
    const created = Date.UTC(2026, 0, 3);
    const logged = Date.UTC(2026, 0, 1); // an importer's explicit wall_time, two days earlier
    store.runs.set(1, { id: 1, start: created / 1000 } as never);
    store.series.set(seriesId(1, "train/loss"), series(1, "train/loss", logged + 5000));
    store.series.set(seriesId(1, "eval/acc"), series(1, "eval/acc", logged));
    expect(runOrigin(store, 1, ["train/loss", "eval/acc"])).toBe(logged);
    expect(runOrigin(store, 1, ["train/loss"])).toBe(logged + 5000);
    expect(runOrigin(store, 2, ["train/loss"])).toBe(0);
  });
});

describe("chart order", () => {
  it("puts metrics with data first and an empty chart last, keeping name order", () => {
    const keys = ["a_missing", "acc", "loss"];
    expect(chartOrder(keys, (k) => k !== "a_missing")).toEqual(["acc", "loss", "a_missing"]);
  });
  it("groups keys by their prefix", () => {
    const keys = ["eval/acc", "lr", "train/acc", "eval/loss", "train/loss"];
    expect(chartOrder(keys, () => true)).toEqual(["eval/acc", "eval/loss", "lr", "train/acc", "train/loss"]);
    expect(chartOrder(keys, (k) => k !== "eval/acc")).toEqual(["eval/loss", "lr", "train/acc", "train/loss", "eval/acc"]);
  });
});

describe("the hover tooltip's run list", () => {
  const line = (run: number, xs: number[], ys: number[]) => ({ run, n: xs.length, xs: Float64Array.from(xs), drawY: Float64Array.from(ys) });
  it("lists every run's nearest point at the hovered x, largest value first", () => {
    const lines = [line(1, [0, 10, 20], [1, 2, 3]), line(2, [0, 9, 21], [5, 6, 7]), line(3, [0, 10, 20], [0, 0.5, 1])];
    const { rows, more } = hoverRows(lines, 10, 1, { run: 1, i: 1 }, 10);
    expect(rows.map((r) => [r.run, r.value])).toEqual([[2, 6], [1, 2], [3, 0.5]]);
    expect(more).toBe(0);
  });
  it("leaves out a run that ended before the hovered x, and NaN points", () => {
    const lines = [line(1, [0, 100], [1, 2]), line(2, [0, 10], [5, 6]), line(3, [0, 100], [NaN, NaN])];
    expect(hoverRows(lines, 100, 5, { run: 1, i: 1 }, 10).rows.map((r) => r.run)).toEqual([1]);
  });
  it("caps the list and keeps the nearest run in it", () => {
    const lines = Array.from({ length: 15 }, (_, k) => line(k, [0, 1], [k, k]));
    const { rows, more } = hoverRows(lines, 1, 0.1, { run: 0, i: 1 }, 10);
    expect(rows).toHaveLength(10);
    expect(more).toBe(5);
    expect(rows.some((r) => r.run === 0)).toBe(true);
    expect(rows[0].run).toBe(14);
  });
});
