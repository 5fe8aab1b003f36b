import { describe, expect, it } from "vitest";
import { m4Indices } from "../reduce";

/** The same reduction written the slow, obvious way. */
function reference(x: number[], y: number[], buckets: number): number[] {
  const n = x.length;
  if (n <= 4 * buckets) return x.map((_, i) => i);
  const lo = x[0];
  const span = x[n - 1] - lo;
  const groups = new Map<number, number[]>();
  x.forEach((v, i) => {
    const b = span > 0 ? Math.min(Math.floor(((v - lo) / span) * buckets), buckets - 1) : 0;
    if (!groups.has(b)) groups.set(b, []);
    groups.get(b)?.push(i);
  });
  const keep = new Set<number>();
  for (const idx of groups.values()) {
    keep.add(idx[0]);
    keep.add(idx[idx.length - 1]);
    const finite = idx.filter((i) => !Number.isNaN(y[i]));
    if (finite.length) {
      keep.add(finite.reduce((a, b) => (y[b] < y[a] ? b : a)));
      keep.add(finite.reduce((a, b) => (y[b] > y[a] ? b : a)));
    }
    for (const i of idx) if (Number.isNaN(y[i])) keep.add(i);
  }
  return [...keep].sort((a, b) => a - b);
}

function noisy(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  });
}

describe("m4Indices", () => {
  it("keeps a short series whole", () => {
    expect([...m4Indices([0, 1, 2], [5, 6, 7], 3, 10)]).toEqual([0, 1, 2]);
  });

  it("keeps a single spike through a 100x reduction", () => {
    const n = 100_000;
    const x = Array.from({ length: n }, (_, i) => i);
    const y = noisy(n, 7).map((v) => v * 0.01);
    y[73_123] = 50;
    y[12_345] = -40;
    const idx = m4Indices(Float64Array.from(x), Float32Array.from(y), n, 250);
    expect(idx.length).toBeLessThanOrEqual(4 * 250);
    const kept = [...idx].map((i) => y[i]);
    expect(kept).toContain(50);
    expect(kept).toContain(-40);
    expect(idx[0]).toBe(0);
    expect(idx[idx.length - 1]).toBe(n - 1);
    for (let i = 1; i < idx.length; i++) expect(idx[i]).toBeGreaterThan(idx[i - 1]);
  });

  it("matches the obvious implementation, NaN gaps included, on uneven x", () => {
    const n = 5000;
    let acc = 0;
    const x = noisy(n, 3).map((v) => (acc += v + 0.6));
    const y = noisy(n, 11);
    for (const i of [10, 999, 1000, 4321]) y[i] = NaN;
    const got = [...m4Indices(x, Float64Array.from(y), n, 60)];
    expect(got).toEqual(reference(x, y, 60));
    expect(got).toContain(999);
  });

  it("refuses zero buckets", () => {
    expect(() => m4Indices([1], [1], 1, 0)).toThrow(/buckets must be positive/);
  });
});
