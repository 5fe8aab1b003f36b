/** Axis ticks and their labels: linear, log10, wall-clock time (epoch ms) and durations (seconds). */
import { formatValue } from "./format";

export interface Ticks {
  values: number[];
  label: (v: number) => string;
}

/** About `count` round values (1, 2 or 5 times a power of ten) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi <= lo) return [lo];
  const n = Math.max(count, 1);
  const raw = hi / n - lo / n; // finite even for a range of ±1.8e308
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  // A range narrower than the values' resolution has no room for ticks (v + step == v): one label.
  if (!(step > 0) || !Number.isFinite(step) || lo + step === lo || hi - step === hi) return [lo];
  // Ticks as whole multiples of the step: bounded, and finite near ±Number.MAX_VALUE.
  const k0 = Math.ceil(lo / step - 1e-9);
  const steps = Math.min(Math.floor(hi / step + 1e-9) - k0, 4 * n);
  const out: number[] = [];
  for (let i = 0; i <= steps; i++) {
    const v = (k0 + i) * step;
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return out;
}

/** Labels for ticks a `step` apart: enough digits to tell neighbours apart, no float noise. */
export function linearLabel(ticks: number[]): (v: number) => string {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
  const big = Math.max(...ticks.map(Math.abs));
  if (big >= 1e6 || (big > 0 && big < 1e-3)) return (v) => (v === 0 ? "0" : compactExp(v));
  const digits = step > 0 ? Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) : 0;
  return (v) => v.toFixed(Math.min(digits, 10));
}

function compactExp(v: number): string {
  return formatValue(Number(v.toPrecision(3)));
}

/** Powers of ten in [lo, hi] (lo > 0); with fewer than two, falls back to round values. */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0) || !(hi > lo)) return lo > 0 ? [lo] : [];
  const out: number[] = [];
  const a = Math.ceil(Math.log10(lo) - 1e-9);
  const b = Math.floor(Math.log10(hi) + 1e-9);
  const stride = Math.max(1, Math.ceil((b - a + 1) / 6));
  for (let e = a; e <= b; e += stride) out.push(Math.pow(10, e));
  if (out.length < 2) {
    for (const m of [2, 5]) {
      for (let e = a - 1; e <= b; e++) {
        const v = m * Math.pow(10, e);
        if (v >= lo && v <= hi) out.push(v);
      }
    }
    out.sort((p, q) => p - q);
  }
  return out;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY,
];

function pickStep(spanMs: number, count: number): number {
  const raw = spanMs / Math.max(count, 1);
  for (const s of TIME_STEPS) if (s >= raw) return s;
  return Math.ceil(raw / DAY) * DAY;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** Wall-clock ticks for epoch-ms [lo, hi], in local time, labelled to the precision the step needs. */
export function timeTicks(lo: number, hi: number, count = 5): Ticks {
  if (!(hi > lo)) return { values: Number.isFinite(lo) ? [lo] : [], label: (v) => clock(v, true) };
  const step = pickStep(hi - lo, count);
  const tz = new Date(lo).getTimezoneOffset() * MINUTE;
  const values: number[] = [];
  // Align to the step in local time (days start at local midnight).
  const first = Math.ceil((lo - tz) / step) * step + tz;
  for (let v = first; v <= hi; v += step) values.push(v);
  const seconds = step < MINUTE;
  const days = step >= DAY;
  return {
    values,
    label: (v) => {
      const d = new Date(v);
      if (days) return `${d.getMonth() + 1}/${d.getDate()}`;
      return clock(v, seconds);
    },
  };
}

function clock(v: number, seconds: boolean): string {
  const d = new Date(v);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return seconds ? `${hm}:${pad(d.getSeconds())}` : hm;
}

/** Ticks for a duration axis in seconds, at round durations (1 s ... days), labelled "1m 30s" style. */
export function durationTicks(lo: number, hi: number, count = 5): Ticks {
  if (!(hi > lo)) return { values: Number.isFinite(lo) ? [lo] : [], label: duration };
  const spanMs = (hi - lo) * 1000;
  let stepS: number;
  if (spanMs < 5 * SECOND) {
    const t = niceTicks(lo, hi, count);
    return { values: t, label: linearLabel(t) };
  }
  stepS = pickStep(spanMs, count) / 1000;
  const values: number[] = [];
  for (let v = Math.ceil(lo / stepS) * stepS; v <= hi + 1e-9; v += stepS) values.push(v);
  return { values, label: duration };
}

function duration(s: number): string {
  const sign = s < 0 ? "-" : "";
  let a = Math.abs(Math.round(s));
  if (a < 60) return `${sign}${a}s`;
  const d = Math.floor(a / 86400);
  a -= d * 86400;
  const h = Math.floor(a / 3600);
  const m = Math.floor((a % 3600) / 60);
  const sec = a % 60;
  if (d) return `${sign}${d}d ${h}h`;
  if (h) return m ? `${sign}${h}h ${pad(m)}m` : `${sign}${h}h`;
  return sec ? `${sign}${m}m ${pad(sec)}s` : `${sign}${m}m`;
}

/** A tick label placed on the canvas: `x` is its left edge in CSS px. */
export interface PlacedLabel {
  x: number;
  text: string;
}

/**
 * Lay out x tick labels so each is drawn whole between `left` and `right` (canvas px): centred on its
 * tick, pushed inside at the ends (a "50000" at the right border is drawn left of its tick rather than
 * cut to "5000"), and dropped when it would overlap the label before it, so no label is ever partial.
 */
export function placeXLabels(
  ticks: { px: number; text: string }[], measure: (text: string) => number, left: number, right: number, gap = 8,
): PlacedLabel[] {
  const out: PlacedLabel[] = [];
  let end = -Infinity;
  for (const t of ticks) {
    const w = measure(t.text);
    if (w > right - left) continue;
    const x = Math.min(Math.max(t.px - w / 2, left), right - w);
    if (x < end + gap) {
      // An end label pushed inside wins over its neighbour: the axis's extent matters more.
      if (t === ticks[ticks.length - 1]) {
        const clash = (p: PlacedLabel) => x < p.x + measure(p.text) + gap;
        while (out.length && clash(out[out.length - 1])) out.pop();
        out.push({ x, text: t.text });
      }
      continue;
    }
    out.push({ x, text: t.text });
    end = x + w;
  }
  return out;
}

/** The left margin (CSS px) that shows every y label whole: the widest label plus the tick gap, at least `min`. */
export function leftMargin(labels: string[], measure: (text: string) => number, min = 60, gap = 6): number {
  let w = 0;
  for (const s of labels) w = Math.max(w, measure(s));
  return Math.max(min, Math.ceil(w) + gap + 4);
}
