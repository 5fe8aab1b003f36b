import { describe, expect, it } from "vitest";
import { PALETTE, colorOf } from "../colors";

const channel = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);

function luminance(hex: string): number {
  const [r, g, b] = rgb(hex).map(channel);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [lo, hi] = [luminance(a), luminance(b)].sort((p, q) => p - q);
  return (hi + 0.05) / (lo + 0.05);
}

function lab(hex: string): number[] {
  const [r, g, b] = rgb(hex).map(channel);
  const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const x = f((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047);
  const y = f(0.2126 * r + 0.7152 * g + 0.0722 * b);
  const z = f((0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883);
  return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
}

describe("run colours", () => {
  it("give 20 runs in a row 20 different colours", () => {
    const colours = Array.from({ length: 20 }, (_, i) => colorOf(i));
    expect(new Set(colours).size).toBe(20);
    expect(colorOf(12)).not.toBe(colorOf(0));
    expect(colorOf(20)).toBe(colorOf(0)); // stable: a run's colour depends on its id only
  });
  it("read as lines on light and dark backgrounds", () => {
    for (const c of PALETTE) {
      expect(contrast(c, "#ffffff"), `${c} on white`).toBeGreaterThanOrEqual(2.2);
      expect(contrast(c, "#1e1e1e"), `${c} on dark`).toBeGreaterThanOrEqual(3);
    }
  });
  it("keep every pair apart, and neighbouring run ids further apart", () => {
    const d = (a: string, b: string) => Math.hypot(...lab(a).map((v, i) => v - lab(b)[i]));
    for (let i = 0; i < PALETTE.length; i++) {
      for (let j = i + 1; j < PALETTE.length; j++) {
        expect(d(PALETTE[i], PALETTE[j]), `${PALETTE[i]} vs ${PALETTE[j]}`).toBeGreaterThan(15);
      }
      const next = PALETTE[(i + 1) % PALETTE.length];
      expect(d(PALETTE[i], next), `${PALETTE[i]} vs ${next}`).toBeGreaterThan(25);
    }
  });
});
