/**
 * One chart: a metric's series of the selected runs overlaid on a canvas. Each run keeps its table
 * colour; the hovered run is drawn thicker and the others dim, so colour is never the only cue. x is the
 * step, the wall-clock time or the time since the run began; y is linear or log; EMA smoothing draws the
 * raw line faint behind. Dragging zooms (and asks the kernel for that range at full detail), a double
 * click resets. NaN leaves a gap. Dense data is drawn one min/max stroke per pixel column, so a frame
 * costs O(points) however many there are.
 */
import { type Ticks, durationTicks, leftMargin, linearLabel, logTicks, niceTicks, placeXLabels, timeTicks } from "./axis";
import { colorOf } from "./colors";
import { formatDateTime, formatDuration, formatValue } from "./format";
import { ema } from "./smooth";
import type { BoardStore } from "./store";
import type { Theme } from "./theme";

export type XAxis = "step" | "wall" | "relative";

export interface ChartHost {
  store: BoardStore;
  /** Run ids to draw, in drawing order. */
  drawn(): number[];
  hovered(): number | null;
  baseline(): number;
  xAxis(): XAxis;
  logY(): boolean;
  smoothing(): number;
  theme(): Theme;
  runLabel(id: number): string;
  setHovered(id: number | null): void;
  requestDetail(key: string, ranges: { run: number; lo: number; hi: number }[], px: number): void;
  clearDetail(key: string): void;
}

interface Line {
  run: number;
  n: number;
  xs: Float64Array; // x in axis units
  steps: Float64Array;
  t: Float64Array;
  y: Float64Array;
  drawY: Float64Array; // smoothed when smoothing is on, else y
}

interface Cached {
  version: number;
  axis: XAxis;
  smoothing: number;
  origin: number;
  line: Line;
}

const HEIGHT = 240;
// The left margin grows to fit the widest y label (see leftMargin); x labels are kept inside the canvas.
const M = { left: 60, right: 14, top: 12, bottom: 26 };
const HOVER_PX = 28;
const TIP_ROWS = 10; // runs listed in the hover tooltip; the rest are counted

export class Chart {
  readonly el: HTMLElement;
  private canvas: HTMLCanvasElement;
  private tip: HTMLDivElement;
  private band: HTMLDivElement;
  private resetBtn: HTMLButtonElement;
  private title: HTMLElement;
  private zoom: [number, number] | null = null;
  private cache = new Map<number, Cached>();
  private lines: Line[] = [];
  private frame = 0;
  private width = 0;
  private dragFrom: number | null = null;
  private mouse: { x: number; y: number } | null = null;
  private sx: (v: number) => number = (v) => v;
  private sy: (v: number) => number = (v) => v;
  private invx: (p: number) => number = (p) => p;
  private resizeObserver: ResizeObserver | null = null;
  private lastAxis: XAxis | null = null;
  private left = M.left;

  constructor(private host: ChartHost, readonly key: string) {
    const fig = document.createElement("figure");
    fig.className = "tb-chart";
    const head = document.createElement("figcaption");
    this.title = document.createElement("span");
    this.title.className = "tb-chart-title";
    this.title.textContent = key;
    this.resetBtn = document.createElement("button");
    this.resetBtn.type = "button";
    this.resetBtn.className = "tb-btn tb-reset";
    this.resetBtn.textContent = "reset zoom";
    this.resetBtn.hidden = true;
    this.resetBtn.addEventListener("click", () => this.resetZoom());
    head.append(this.title, this.resetBtn);
    const wrap = document.createElement("div");
    wrap.className = "tb-canvas-wrap";
    this.canvas = document.createElement("canvas");
    this.canvas.setAttribute("role", "img");
    this.canvas.style.height = `${HEIGHT}px`;
    this.band = document.createElement("div");
    this.band.className = "tb-zoom-band";
    this.band.hidden = true;
    this.tip = document.createElement("div");
    this.tip.className = "tb-tooltip";
    this.tip.hidden = true;
    wrap.append(this.canvas, this.band, this.tip);
    fig.append(head, wrap);
    this.el = fig;
    this.canvas.addEventListener("mousemove", this.onMove);
    this.canvas.addEventListener("mouseleave", this.onLeave);
    this.canvas.addEventListener("mousedown", this.onDown);
    window.addEventListener("mouseup", this.onUp);
    this.canvas.addEventListener("dblclick", () => this.resetZoom());
    // Draw only once laid out (a canvas drawn at width 0 stays blank), and again on every resize.
    if (typeof ResizeObserver !== "undefined") {
      this.resizeObserver = new ResizeObserver(() => this.invalidate());
      this.resizeObserver.observe(wrap);
    }
  }

  /** Width of the plot area in CSS px (what series are reduced to). */
  get plotWidth(): number {
    return Math.max(1, this.width - this.left - M.right);
  }

  invalidate(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  destroy(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.resizeObserver?.disconnect();
    window.removeEventListener("mouseup", this.onUp);
    this.el.remove();
  }

  resetZoom(): void {
    if (!this.zoom) return;
    this.zoom = null;
    this.resetBtn.hidden = true;
    this.host.clearDetail(this.key);
    this.invalidate();
  }

  // -- data --------------------------------------------------------------------------------------------

  private line(run: number): Line | null {
    const s = this.host.store.get(run, this.key);
    if (!s || !s.n) return null;
    const axis = this.host.xAxis();
    const smoothing = this.host.smoothing();
    const origin = axis === "relative" ? runOrigin(this.host.store, run, this.host.store.charts) : 0;
    const hit = this.cache.get(run);
    if (hit && hit.version === s.version && hit.axis === axis && hit.smoothing === smoothing && hit.origin === origin) {
      return hit.line;
    }
    const p = s.points();
    const n = p.x.length;
    let xs: Float64Array;
    if (axis === "step") xs = p.x;
    else if (axis === "wall") xs = p.t;
    else {
      const t0 = origin;
      xs = new Float64Array(n);
      for (let i = 0; i < n; i++) xs[i] = (p.t[i] - t0) / 1000;
    }
    const drawY = smoothing > 0 ? ema(p.y, n, smoothing) : p.y;
    const line: Line = { run, n, xs, steps: p.x, t: p.t, y: p.y, drawY };
    this.cache.set(run, { version: s.version, axis, smoothing, origin, line });
    return line;
  }

  private collect(): Line[] {
    const out: Line[] = [];
    const want = new Set<number>();
    for (const run of this.host.drawn()) {
      want.add(run);
      const l = this.line(run);
      if (l) out.push(l);
    }
    for (const run of this.cache.keys()) if (!want.has(run)) this.cache.delete(run);
    return out;
  }

  // -- drawing -----------------------------------------------------------------------------------------

  draw(): void {
    const wrap = this.canvas.parentElement as HTMLElement;
    const width = Math.floor(wrap.clientWidth);
    if (width <= 0) return; // not laid out yet; the ResizeObserver calls again
    const axis = this.host.xAxis();
    if (this.lastAxis !== null && axis !== this.lastAxis && this.zoom) {
      this.zoom = null; // a zoom is in the old axis's units
      this.resetBtn.hidden = true;
      this.host.clearDetail(this.key);
    }
    this.lastAxis = axis;
    this.width = width;
    const dpr = window.devicePixelRatio || 1;
    const cw = Math.round(width * dpr);
    const ch = Math.round(HEIGHT * dpr);
    if (this.canvas.width !== cw || this.canvas.height !== ch) {
      this.canvas.width = cw;
      this.canvas.height = ch;
      this.canvas.style.width = `${width}px`;
    }
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, HEIGHT);
    const theme = this.host.theme();
    const logY = this.host.logY();
    this.lines = this.collect();
    const plotH = HEIGHT - M.top - M.bottom;
    ctx.font = theme.font;

    const [x0, x1] = this.zoom ?? this.extent(this.lines);
    const [y0, y1] = this.yRange(this.lines, x0, x1, logY);
    // y labels first: the left margin is sized to the widest, so none is clipped.
    const yv = logY ? logTicks(y0, y1) : niceTicks(y0, y1, Math.max(2, Math.floor(plotH / 45)));
    const ylab = logY ? (v: number) => formatValue(v) : linearLabel(yv);
    this.left = leftMargin(yv.map(ylab), (t) => ctx.measureText(t).width, M.left);
    const plotW = this.plotWidth;
    const ly = (v: number) => (logY ? Math.log10(v) : v);
    const ly0 = ly(y0);
    const ly1 = ly(y1);
    this.sx = (v) => this.left + ((v - x0) / (x1 - x0)) * plotW;
    this.invx = (p) => x0 + ((p - this.left) / plotW) * (x1 - x0);
    this.sy = (v) => M.top + plotH - ((ly(v) - ly0) / (ly1 - ly0)) * plotH;

    this.drawAxes(ctx, theme, x0, x1, yv, ylab, axis, plotW, plotH);
    if (!this.lines.length) {
      ctx.fillStyle = theme.muted;
      ctx.textAlign = "center";
      const none = this.host.drawn().length ? `no ${this.key} points in the selected runs yet` : "select runs in the table to draw their curves";
      ctx.fillText(none, this.left + plotW / 2, M.top + plotH / 2);
    }

    ctx.save();
    ctx.beginPath();
    ctx.rect(this.left, M.top, plotW, plotH);
    ctx.clip();
    const hovered = this.host.hovered();
    const baseline = this.host.baseline();
    const smoothing = this.host.smoothing();
    const many = this.lines.length > 20;
    const ordered = [...this.lines.filter((l) => l.run !== hovered), ...this.lines.filter((l) => l.run === hovered)];
    let points = 0;
    let maxStep = -Infinity;
    for (const l of ordered) {
      const isHover = hovered === l.run;
      const dim = hovered !== null && !isHover;
      const [i0, i1] = this.visibleRange(l, x0, x1);
      points += l.n;
      if (l.n) maxStep = Math.max(maxStep, l.steps[l.n - 1]);
      ctx.strokeStyle = colorOf(l.run);
      ctx.setLineDash(l.run === baseline ? [6, 3] : []);
      if (smoothing > 0) {
        ctx.globalAlpha = dim ? 0.08 : 0.25;
        ctx.lineWidth = 1;
        this.trace(ctx, l.xs, l.y, i0, i1, logY);
      }
      ctx.globalAlpha = dim ? 0.3 : 1;
      ctx.lineWidth = isHover ? 3 : many ? 1 : 1.5;
      this.trace(ctx, l.xs, l.drawY, i0, i1, logY);
    }
    ctx.globalAlpha = 1;
    ctx.setLineDash([]);
    this.drawHover(ctx, theme);
    ctx.restore();

    const ds = this.canvas.dataset;
    ds.lines = String(this.lines.length);
    ds.points = String(points);
    ds.maxStep = Number.isFinite(maxStep) ? String(maxStep) : "";
    ds.drawnAt = String(Date.now());
    this.canvas.setAttribute("aria-label", this.describe());
  }

  private extent(lines: Line[]): [number, number] {
    let lo = Infinity;
    let hi = -Infinity;
    for (const l of lines) {
      if (!l.n) continue;
      lo = Math.min(lo, l.xs[0]);
      hi = Math.max(hi, l.xs[l.n - 1]);
    }
    if (!Number.isFinite(lo)) return [0, 1];
    if (hi <= lo) return [lo - 1, lo + 1];
    return [lo, hi];
  }

  private visibleRange(l: Line, x0: number, x1: number): [number, number] {
    // one point beyond each edge, so lines run to the border
    const a = Math.max(0, lowerBound(l.xs, l.n, x0) - 1);
    const b = Math.min(l.n - 1, lowerBound(l.xs, l.n, x1));
    return [a, b];
  }

  private yRange(lines: Line[], x0: number, x1: number, logY: boolean): [number, number] {
    let lo = Infinity;
    let hi = -Infinity;
    for (const l of lines) {
      const [a, b] = this.visibleRange(l, x0, x1);
      for (let i = a; i <= b; i++) {
        const v = l.y[i];
        if (!Number.isFinite(v) || (logY && v <= 0)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (!Number.isFinite(lo)) return logY ? [0.1, 10] : [0, 1];
    // Values travel as float64 when float32 cannot hold them, up to ±1.8e308: keep the padded range finite.
    const M = Number.MAX_VALUE;
    if (logY) {
      if (hi <= lo) return [lo / 2, Math.min(hi * 2, M)];
      const pad = Math.pow(hi, 0.04) / Math.pow(lo, 0.04);
      return [lo / pad, Math.min(hi * pad, M)];
    }
    // Values equal but for float rounding (a constant learning rate) are a flat line, not a range to tick.
    if (hi - lo <= 1e-9 * Math.max(Math.abs(lo), Math.abs(hi))) {
      const d = Math.abs(lo) * 0.1 || 1;
      return [Math.max(lo - d, -M), Math.min(hi + d, M)];
    }
    const pad = hi * 0.04 - lo * 0.04;
    return [Math.max(lo - pad, -M), Math.min(hi + pad, M)];
  }

  /** Stroke a series from i0 to i1: a gap at NaN (and at values <= 0 on a log axis), one min/max stroke
   * per pixel column where points are denser than pixels, and a dot for a point with no neighbour to join
   * (a run's first logged step, a point between two gaps). */
  private trace(ctx: CanvasRenderingContext2D, xs: Float64Array, ys: Float64Array, i0: number, i1: number, logY: boolean): void {
    const sx = this.sx;
    const sy = this.sy;
    ctx.beginPath();
    let open = false;
    let col = NaN;
    let cx = 0;
    let lo = 0;
    let hi = 0;
    let last = 0;
    let multi = false;
    let alone = false; // the open segment is one point so far
    const flush = () => {
      if (open && multi) {
        ctx.lineTo(cx, lo);
        ctx.lineTo(cx, hi);
        ctx.lineTo(cx, last);
      }
      multi = false;
    };
    const close = () => {
      if (open && alone) {
        ctx.moveTo(cx + 2, lo);
        ctx.arc(cx, lo, 2, 0, Math.PI * 2);
      }
      open = false;
    };
    for (let i = i0; i <= i1; i++) {
      const v = ys[i];
      if (!Number.isFinite(v) || (logY && v <= 0)) {
        flush();
        close();
        col = NaN;
        continue;
      }
      const px = sx(xs[i]);
      const py = sy(v);
      const c = Math.floor(px);
      if (open && c === col) {
        if (py < lo) lo = py;
        if (py > hi) hi = py;
        last = py;
        multi = true;
        alone = false;
        continue;
      }
      flush();
      if (open) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      alone = !open;
      open = true;
      col = c;
      cx = px;
      lo = hi = last = py;
    }
    flush();
    close();
    ctx.stroke();
  }

  private drawAxes(
    ctx: CanvasRenderingContext2D, theme: Theme, x0: number, x1: number, yv: number[], ylab: (v: number) => string,
    axis: XAxis, plotW: number, plotH: number,
  ): void {
    const count = Math.max(2, Math.floor(plotW / 90));
    let xt: Ticks;
    if (axis === "wall") xt = timeTicks(x0, x1, count);
    else if (axis === "relative") xt = durationTicks(x0, x1, count);
    else {
      const v = niceTicks(x0, x1, count).filter((s) => Number.isInteger(s) || x1 - x0 < 10);
      xt = { values: v, label: linearLabel(v) };
    }
    ctx.strokeStyle = theme.grid;
    ctx.lineWidth = 1;
    ctx.fillStyle = theme.muted;
    ctx.beginPath();
    const xticks: { px: number; text: string }[] = [];
    for (const v of xt.values) {
      const px = Math.round(this.sx(v)) + 0.5;
      if (px < this.left - 1 || px > this.left + plotW + 1) continue;
      ctx.moveTo(px, M.top);
      ctx.lineTo(px, M.top + plotH);
      xticks.push({ px, text: xt.label(v) });
    }
    // Each label whole inside the canvas: the end ones are pushed in rather than cut off.
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    const placed = placeXLabels(xticks, (t) => ctx.measureText(t).width, 2, this.width - 2);
    for (const l of placed) ctx.fillText(l.text, l.x, M.top + plotH + 6);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const ylabels: string[] = [];
    for (const v of yv) {
      const py = Math.round(this.sy(v)) + 0.5;
      if (py < M.top - 1 || py > M.top + plotH + 1) continue;
      ctx.moveTo(this.left, py);
      ctx.lineTo(this.left + plotW, py);
      ctx.fillText(ylab(v), this.left - 6, py);
      ylabels.push(ylab(v));
    }
    ctx.stroke();
    ctx.strokeStyle = theme.muted;
    ctx.strokeRect(this.left + 0.5, M.top + 0.5, plotW, plotH);
    // What the axes show, for tests and tools that cannot read a canvas.
    this.canvas.dataset.xLabels = placed.map((l) => l.text).join(" ");
    this.canvas.dataset.yLabels = ylabels.join(" ");
    this.canvas.dataset.left = String(this.left);
  }

  // -- hover and zoom ----------------------------------------------------------------------------------

  private nearest(mx: number, my: number): { line: Line; i: number; d: number } | null {
    let best: { line: Line; i: number; d: number } | null = null;
    const x = this.invx(mx);
    for (const l of this.lines) {
      const j = lowerBound(l.xs, l.n, x);
      for (const i of [j - 1, j]) {
        if (i < 0 || i >= l.n) continue;
        const v = l.drawY[i];
        if (!Number.isFinite(v) || (this.host.logY() && v <= 0)) continue;
        const d = Math.hypot(this.sx(l.xs[i]) - mx, this.sy(v) - my);
        if (!best || d < best.d) best = { line: l, i, d };
      }
    }
    return best && best.d <= HOVER_PX ? best : null;
  }

  private drawHover(ctx: CanvasRenderingContext2D, theme: Theme): void {
    const m = this.mouse;
    if (!m || this.dragFrom !== null) {
      this.tip.hidden = true;
      return;
    }
    const hit = this.nearest(m.x, m.y);
    if (!hit) {
      this.tip.hidden = true;
      return;
    }
    const { line, i } = hit;
    const tol = Math.abs(this.invx(this.left + HOVER_PX) - this.invx(this.left));
    const others = hoverRows(this.lines, line.xs[i], tol, { run: line.run, i }, TIP_ROWS);
    const px = this.sx(line.xs[i]);
    const py = this.sy(line.drawY[i]);
    ctx.strokeStyle = theme.muted;
    ctx.globalAlpha = 0.6;
    ctx.beginPath();
    ctx.moveTo(px, M.top);
    ctx.lineTo(px, HEIGHT - M.bottom);
    ctx.stroke();
    ctx.globalAlpha = 1;
    ctx.fillStyle = colorOf(line.run);
    ctx.beginPath();
    ctx.arc(px, py, 4, 0, Math.PI * 2);
    ctx.fill();
    for (const r of others.rows) {
      if (r.run === line.run) continue;
      const l = this.lines.find((x) => x.run === r.run) as Line;
      ctx.fillStyle = colorOf(r.run);
      ctx.beginPath();
      ctx.arc(this.sx(l.xs[r.i]), this.sy(r.value), 2.5, 0, Math.PI * 2);
      ctx.fill();
    }
    this.showTip(line, i, px, py, others);
  }

  /** A run's colour swatch and name, as the tooltip's rows show it. */
  private runTag(run: Line["run"]): HTMLSpanElement[] {
    const swatch = document.createElement("span");
    swatch.className = "tb-swatch";
    swatch.style.background = colorOf(run);
    const name = document.createElement("span");
    name.textContent = this.host.runLabel(run);
    return [swatch, name];
  }

  private showTip(line: Line, i: number, px: number, py: number, others: { rows: TipRow[]; more: number }): void {
    const tip = this.tip;
    tip.replaceChildren();
    const head = document.createElement("div");
    head.className = "tb-tip-run";
    head.append(...this.runTag(line.run));
    tip.append(head);
    const row = (label: string, value: string) => {
      const r = document.createElement("div");
      const k = document.createElement("span");
      k.className = "tb-tip-key";
      k.textContent = label;
      const v = document.createElement("span");
      v.textContent = value;
      r.append(k, v);
      tip.append(r);
    };
    row("step", formatValue(line.steps[i]));
    row(this.key, formatValue(line.y[i]));
    if (this.host.smoothing() > 0) row("smoothed", formatValue(line.drawY[i]));
    const axis = this.host.xAxis();
    if (axis === "wall") row("time", formatDateTime(line.t[i] / 1000));
    if (axis === "relative") row("elapsed", formatDuration(line.xs[i]));
    if (others.rows.length > 1) {
      // Every drawn run at this x, as W&B lists them: compare values without hunting for each curve.
      const list = document.createElement("div");
      list.className = "tb-tip-runs";
      for (const r of others.rows) {
        const item = document.createElement("div");
        item.className = r.run === line.run ? "tb-tip-line tb-tip-hit" : "tb-tip-line";
        const who = document.createElement("span");
        who.className = "tb-tip-who";
        who.append(...this.runTag(r.run));
        const v = document.createElement("span");
        v.textContent = formatValue(r.value);
        item.append(who, v);
        list.append(item);
      }
      if (others.more) {
        const more = document.createElement("div");
        more.className = "tb-tip-key";
        more.textContent = `+${others.more} more`;
        list.append(more);
      }
      tip.append(list);
    }
    tip.hidden = false;
    const left = px + 12 + 180 > this.width ? px - 12 - tip.offsetWidth : px + 12;
    tip.style.left = `${Math.max(0, left)}px`;
    tip.style.top = `${Math.max(0, Math.min(py - 10, HEIGHT - tip.offsetHeight))}px`;
  }

  private onMove = (e: MouseEvent): void => {
    const r = this.canvas.getBoundingClientRect();
    const mx = e.clientX - r.left;
    const my = e.clientY - r.top;
    this.mouse = { x: mx, y: my };
    if (this.dragFrom !== null) {
      const a = Math.max(this.left, Math.min(this.dragFrom, mx));
      const b = Math.min(this.left + this.plotWidth, Math.max(this.dragFrom, mx));
      this.band.hidden = false;
      this.band.style.left = `${a}px`;
      this.band.style.width = `${Math.max(0, b - a)}px`;
      return;
    }
    const hit = this.nearest(mx, my);
    const run = hit ? hit.line.run : null;
    if (run !== this.host.hovered()) this.host.setHovered(run);
    this.invalidate();
  };

  private onLeave = (): void => {
    this.mouse = null;
    this.tip.hidden = true;
    if (this.host.hovered() !== null) this.host.setHovered(null);
    this.invalidate();
  };

  private onDown = (e: MouseEvent): void => {
    if (e.button !== 0) return;
    const r = this.canvas.getBoundingClientRect();
    const mx = e.clientX - r.left;
    if (mx < this.left || mx > this.left + this.plotWidth) return;
    this.dragFrom = mx;
    e.preventDefault();
  };

  private onUp = (e: MouseEvent): void => {
    if (this.dragFrom === null) return;
    const r = this.canvas.getBoundingClientRect();
    const mx = Math.max(this.left, Math.min(this.left + this.plotWidth, e.clientX - r.left));
    const from = this.dragFrom;
    this.dragFrom = null;
    this.band.hidden = true;
    if (Math.abs(mx - from) < 5) return;
    this.zoomTo([this.invx(Math.min(from, mx)), this.invx(Math.max(from, mx))]);
  };

  /** Show [x0, x1] (axis units) and ask for it at full detail where a series was reduced. */
  zoomTo(range: [number, number]): void {
    this.zoom = range;
    this.resetBtn.hidden = false;
    const ranges: { run: number; lo: number; hi: number }[] = [];
    const axis = this.host.xAxis();
    for (const l of this.lines) {
      const s = this.host.store.get(l.run, this.key);
      if (!s || (s.full && !s.detail)) continue;
      if (axis === "step") {
        ranges.push({ run: l.run, lo: Math.floor(range[0]), hi: Math.ceil(range[1]) });
      } else {
        const a = Math.max(0, lowerBound(l.xs, l.n, range[0]) - 1);
        const b = Math.min(l.n - 1, lowerBound(l.xs, l.n, range[1]));
        if (l.n) ranges.push({ run: l.run, lo: l.steps[a], hi: l.steps[b] });
      }
    }
    if (ranges.length) this.host.requestDetail(this.key, ranges, this.plotWidth);
    this.invalidate();
  }

  get zoomed(): [number, number] | null {
    return this.zoom;
  }

  private describe(): string {
    const parts = this.lines.slice(0, 5).map((l) => {
      const v = l.n ? formatValue(l.y[l.n - 1]) : "";
      return `${this.host.runLabel(l.run)} ${v}`;
    });
    const more = this.lines.length > 5 ? `, and ${this.lines.length - 5} more` : "";
    return `${this.key}: ${this.lines.length} runs; last values ${parts.join(", ")}${more}`;
  }
}

export interface TipRow {
  run: number;
  /** Index of the run's point nearest the hovered x. */
  i: number;
  /** Its value as drawn (smoothed when smoothing is on). */
  value: number;
}

/**
 * Each line's point nearest to `x` (a line counts when `x` is within its span, or its nearest point is
 * within `tol` axis units), largest value first; at most `cap` rows, the `nearest` run (at its hovered
 * point i, so the list agrees with the tooltip's head) always among them, `more` counting the rest.
 */
export function hoverRows(
  lines: { run: number; n: number; xs: Float64Array; drawY: Float64Array }[], x: number, tol: number,
  nearest: { run: number; i: number }, cap: number,
): { rows: TipRow[]; more: number } {
  const rows: TipRow[] = [];
  for (const l of lines) {
    if (!l.n) continue;
    if (l.run === nearest.run) {
      rows.push({ run: l.run, i: nearest.i, value: l.drawY[nearest.i] });
      continue;
    }
    const j = lowerBound(l.xs, l.n, x);
    let best = -1;
    for (const i of [j - 1, j]) {
      if (i < 0 || i >= l.n || !Number.isFinite(l.drawY[i])) continue;
      if (best < 0 || Math.abs(l.xs[i] - x) < Math.abs(l.xs[best] - x)) best = i;
    }
    if (best < 0) continue;
    const inside = x >= l.xs[0] && x <= l.xs[l.n - 1];
    if (inside || Math.abs(l.xs[best] - x) <= tol) rows.push({ run: l.run, i: best, value: l.drawY[best] });
  }
  rows.sort((a, b) => b.value - a.value);
  if (rows.length <= cap) return { rows, more: 0 };
  const kept = rows.slice(0, cap);
  if (!kept.some((r) => r.run === nearest.run)) {
    const hit = rows.find((r) => r.run === nearest.run);
    if (hit) kept.splice(cap - 1, 1, hit);
  }
  return { rows: kept, more: rows.length - kept.length };
}

/**
 * The order charts appear in: metrics with points in the drawn runs first, an empty chart last; within
 * each, keys grouped by their prefix ("train/", "eval/"; groups in order of first appearance) and in the
 * given order inside a group.
 */
export function chartOrder(keys: string[], hasData: (key: string) => boolean): string[] {
  const prefix = (k: string) => (k.includes("/") ? k.slice(0, k.indexOf("/")) : "");
  const groups = new Map<string, number>();
  for (const k of keys) if (!groups.has(prefix(k))) groups.set(prefix(k), groups.size);
  const rank = new Map(keys.map((k, i) => [k, { empty: hasData(k) ? 0 : 1, group: groups.get(prefix(k)) ?? 0, i }]));
  return [...keys].sort((a, b) => {
    const p = rank.get(a)!;
    const q = rank.get(b)!;
    return p.empty - q.empty || p.group - q.group || p.i - q.i;
  });
}

/** The time (epoch ms) a run's relative-time axis counts from: its first point among the charted metrics
 * (not the run's creation time, which an importer's explicit wall_time may precede by days). 0 when none. */
export function runOrigin(store: BoardStore, run: number, keys: string[]): number {
  let t0 = Infinity;
  for (const key of keys) {
    const s = store.get(run, key);
    if (!s) continue;
    if (s.n) t0 = Math.min(t0, s.t[0]);
    if (s.detail?.t.length) t0 = Math.min(t0, s.detail.t[0]);
  }
  return Number.isFinite(t0) ? t0 : 0;
}

/** First index i in [0, n) with a[i] >= v (n when none). */
export function lowerBound(a: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
