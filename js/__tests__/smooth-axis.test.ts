import { describe, expect, it } from "vitest";
import { durationTicks, logTicks, niceTicks } from "../axis";
import { formatDelta, formatDuration, formatValue } from "../format";
import { ema } from "../smooth";

describe("ema", () => {
  it("is debiased, so the first point is the first value", () => {
    const out = ema([10, 10, 10], 3, 0.9);
    expect([...out].map((v) => Math.round(v * 1000) / 1000)).toEqual([10, 10, 10]);
  });
  it("leaves NaN as a gap without poisoning what follows", () => {
    const out = ema([1, NaN, 1], 3, 0.5);
    expect(out[0]).toBe(1);
    expect(Number.isNaN(out[1])).toBe(true);
    expect(out[2]).toBe(1);
  });
  it("with weight 0 returns the raw values", () => {
    expect([...ema([1, 5, 2], 3, 0)]).toEqual([1, 5, 2]);
  });
});

describe("ticks and labels", () => {
  it("picks round ticks", () => {
    expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0.1, 0.35, 5).map((v) => Number(v.toFixed(2)))).toEqual([0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
  });
  it("stays bounded on ranges at the edge of float precision", () => {
    // Ranges no wider than float rounding (a constant lr logged with noise) or tiny values: no endless loop.
    expect(niceTicks(0.0009999999999999998, 0.001, 5).length).toBeLessThanOrEqual(21);
    expect(niceTicks(1.0, 1.0000000000000002, 5)).toEqual([1.0]);
    expect(niceTicks(1e-300, 2e-300, 5).length).toBeGreaterThan(1);
    const huge = niceTicks(-1.7e308, 1.7e308, 5);
    expect(huge.length).toBeGreaterThan(1);
    expect(huge.every(Number.isFinite)).toBe(true);
  });
  it("uses powers of ten on a log axis", () => {
    expect(logTicks(0.001, 10)).toEqual([0.001, 0.01, 0.1, 1, 10]);
  });
  it("labels durations", () => {
    const t = durationTicks(0, 600, 5);
    expect(t.values[1]).toBe(120);
    expect(t.label(120)).toBe("2m");
    expect(formatDuration(3725)).toBe("1h 02m");
    expect(formatDelta(-0.5)).toBe("-0.5");
    expect(formatValue(BigInt(7))).toBe("7");
    expect(formatValue(1.2e-5)).toBe("1.2e-5");
  });
});
