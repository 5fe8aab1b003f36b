/** One run's series of one metric as the browser holds it: growable typed arrays, reduced as they grow. */
import type { Part } from "./protocol";
import { m4Indices, take } from "./reduce";

/** Points a series may hold per pixel of chart width before it is reduced again. */
export const GROWTH = 8;

/** A zoomed-in stretch at full detail, drawn in place of the held points between lo and hi. */
export interface Detail {
  lo: number;
  hi: number;
  x: Float64Array;
  t: Float64Array;
  y: Float64Array;
  full: boolean;
}

export class Series {
  x: Float64Array;
  t: Float64Array;
  y: Float64Array;
  n: number;
  /** Every stored point is held (else the series was reduced and zooming asks for detail). */
  full: boolean;
  /** Bumped on every change, so views can cache what they derive (smoothing, merged arrays). */
  version = 0;
  detail: Detail | null = null;

  constructor(readonly run: number, readonly key: string, part?: Part) {
    this.x = part ? part.x : new Float64Array(0);
    this.t = part ? part.t : new Float64Array(0);
    this.y = part ? part.y : new Float64Array(0);
    this.n = this.x.length;
    this.full = part ? part.full : true;
  }

  get lastStep(): number {
    return this.n ? this.x[this.n - 1] : -Infinity;
  }

  /**
   * Append points after the last one held; reduce to `px` buckets once there are GROWTH * px points. A first
   * point at the last step held replaces it (that step was logged again: an overwrite).
   */
  append(part: Part, px: number): void {
    const m = part.x.length;
    if (!m) return;
    let from = 0;
    if (this.n && part.x[0] === this.lastStep) {
      this.t[this.n - 1] = part.t[0];
      this.y[this.n - 1] = part.y[0];
      this.version++;
      from = 1;
    }
    // A resent point (a lower step) must not break the x order: keep only what is new.
    while (from < m && part.x[from] <= this.lastStep) from++;
    if (from === m) return;
    const need = this.n + m - from;
    if (need > this.x.length) {
      const cap = Math.max(need, this.x.length * 2, 64);
      this.x = grow(this.x, cap, this.n);
      this.t = grow(this.t, cap, this.n);
      this.y = grow(this.y, cap, this.n);
    }
    this.x.set(part.x.subarray(from), this.n);
    this.t.set(part.t.subarray(from), this.n);
    this.y.set(part.y.subarray(from), this.n);
    this.n = need;
    if (!part.full) this.full = false;
    if (this.n > GROWTH * Math.max(px, 1)) this.reduce(px);
    this.version++;
  }

  /** M4-reduce what is held to `px` buckets. */
  reduce(px: number): void {
    const idx = m4Indices(this.x, this.y, this.n, Math.max(px, 1));
    if (idx.length === this.n) return;
    this.x = take(this.x.subarray(0, this.n) as Float64Array, idx);
    this.t = take(this.t.subarray(0, this.n) as Float64Array, idx);
    this.y = take(this.y.subarray(0, this.n) as Float64Array, idx);
    this.n = idx.length;
    this.full = false;
    this.version++;
  }

  setDetail(part: Part | null, lo = -Infinity, hi = Infinity): void {
    this.detail = part ? { lo, hi, x: part.x, t: part.t, y: part.y, full: part.full } : null;
    this.version++;
  }

  /**
   * The points to draw: the held ones, with the detail stretch (if any) replacing those inside it.
   * Arrays are exact-length views or copies.
   */
  points(): { x: Float64Array; t: Float64Array; y: Float64Array } {
    const n = this.n;
    const d = this.detail;
    if (!d) return { x: this.x.subarray(0, n), t: this.t.subarray(0, n), y: this.y.subarray(0, n) };
    let a = 0;
    while (a < n && this.x[a] < d.lo) a++;
    let b = a;
    while (b < n && this.x[b] <= d.hi) b++;
    const m = a + d.x.length + (n - b);
    const x = new Float64Array(m);
    const t = new Float64Array(m);
    const y = new Float64Array(m);
    x.set(this.x.subarray(0, a));
    t.set(this.t.subarray(0, a));
    y.set(this.y.subarray(0, a));
    x.set(d.x, a);
    t.set(d.t, a);
    y.set(d.y, a);
    x.set(this.x.subarray(b, n), a + d.x.length);
    t.set(this.t.subarray(b, n), a + d.x.length);
    y.set(this.y.subarray(b, n), a + d.x.length);
    return { x, t, y };
  }
}

function grow(a: Float64Array, cap: number, n: number): Float64Array {
  const out = new Float64Array(cap);
  out.set(a.subarray(0, n));
  return out;
}
