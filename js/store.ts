/**
 * The browser's copy of a board's data, shared by every view of one widget model: run rows, series, the
 * charted metrics. It applies the kernel's numbered deltas in order and reports a gap (a missed message)
 * so the caller can ask for a resync; views subscribe to hear what changed.
 */
import {
  type DeltaMessage,
  type LineageGraph,
  type LineageMessage,
  type Part,
  type RangeMessage,
  type RunRow,
  type Snapshot,
  decodeLineage,
  decodeRow,
  unpackParts,
} from "./protocol";
import { Series } from "./series";

/** What changed, so views redo only that. `rows` lists changed run ids, or "all" after a reload. */
export interface Change {
  rows?: Set<number> | "all";
  series?: Set<string> | "all";
  charts?: boolean;
  keys?: boolean;
  loading?: boolean;
  detail?: string; // a metric whose zoom detail arrived
  lineage?: boolean; // the lineage panel's request or graph changed
}

/** The lineage graph asked for: which run, the newest request's id, and the reply once it came. */
export interface LineageState {
  id: number;
  run: number;
  direction: string;
  graph: LineageGraph | null;
  error: string | null;
}

export type ApplyResult = "applied" | "stale" | "gap";

export function seriesId(run: number, key: string): string {
  return `${run}\u0000${key}`;
}

export class BoardStore {
  seq = -1;
  runs = new Map<number, RunRow>();
  series = new Map<string, Series>();
  keys: string[] = [];
  charts: string[] = [];
  experiments: string[] = [];
  wanted: string[] | null = null;
  loading = 0;
  /** Chart plot width in CSS px: held series are reduced to it as they grow. */
  px = 800;
  awaitingResync = false;
  /** The lineage panel's run and graph (null while the panel is closed). */
  lineage: LineageState | null = null;
  private ranges = new Map<string, { id: number; bounds: Map<number, [number, number]> }>();
  private listeners = new Set<(c: Change) => void>();

  subscribe(fn: (c: Change) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(c: Change): void {
    for (const fn of this.listeners) fn(c);
  }

  get(run: number, key: string): Series | undefined {
    return this.series.get(seriesId(run, key));
  }

  /** Replace everything with a snapshot (the trait the board opened with, or a resync reply). */
  load(snap: Snapshot, buffer: unknown): void {
    const parts = unpackParts(snap.series ?? [], buffer);
    this.seq = snap.seq;
    this.runs.clear();
    for (const raw of snap.runs ?? []) this.runs.set(raw.id, decodeRow(raw));
    this.series.clear();
    for (const p of parts) this.series.set(seriesId(p.run, p.key), new Series(p.run, p.key, p));
    this.keys = [...(snap.keys ?? [])];
    this.charts = [...(snap.charts ?? [])];
    this.experiments = [...(snap.experiments ?? [])];
    this.wanted = snap.wanted ?? null;
    this.loading = snap.loading ?? 0;
    this.awaitingResync = false;
    this.emit({ rows: "all", series: "all", charts: true, keys: true, loading: true });
  }

  /** A snapshot message: taken when it is newer than what is held (or a resync was asked for). */
  loadIfNewer(snap: Snapshot, buffer: unknown): boolean {
    if (snap.seq > this.seq || (this.awaitingResync && snap.seq >= this.seq)) {
      this.load(snap, buffer);
      return true;
    }
    return false;
  }

  /** Apply a numbered delta. "stale" (already have it) is ignored; "gap" means one was missed. */
  apply(msg: DeltaMessage, buffer: unknown): ApplyResult {
    if (msg.seq <= this.seq) return "stale";
    if (msg.seq !== this.seq + 1) return "gap";
    this.seq = msg.seq;
    this.awaitingResync = false;
    const change: Change = {};
    const rows = new Set<number>();
    for (const raw of msg.runs ?? []) {
      this.runs.set(raw.id, decodeRow(raw));
      rows.add(raw.id);
    }
    for (const id of msg.removed ?? []) {
      this.runs.delete(id);
      rows.add(id);
      for (const [sid, s] of this.series) if (s.run === id) this.series.delete(sid);
    }
    if (rows.size) change.rows = rows;
    const touched = new Set<string>();
    for (const [run, key] of msg.drop ?? []) {
      this.series.delete(seriesId(run, key));
      touched.add(seriesId(run, key));
    }
    for (const p of unpackParts(msg.series ?? [], buffer)) this.applyPart(p, touched);
    if (touched.size) change.series = touched;
    if (msg.keys?.length) {
      for (const k of msg.keys) if (!this.keys.includes(k)) this.keys.push(k);
      change.keys = true;
    }
    if (msg.charts) {
      this.charts = [...msg.charts];
      change.charts = true;
    }
    if (msg.loading !== undefined && msg.loading !== this.loading) {
      this.loading = msg.loading;
      change.loading = true;
    }
    this.emit(change);
    return "applied";
  }

  private applyPart(p: Part, touched: Set<string>): void {
    const id = seriesId(p.run, p.key);
    touched.add(id);
    const held = this.series.get(id);
    if (p.mode === "append" && held) {
      held.append(p, this.px);
    } else if (p.mode === "append") {
      // An append for a series not held (its "set" was missed): keep it, it is still the right data.
      const s = new Series(p.run, p.key, p);
      this.series.set(id, s);
    } else {
      const s = new Series(p.run, p.key, p);
      if (held?.detail) s.detail = held.detail;
      this.series.set(id, s);
    }
  }

  /** Note the newest zoom request for a metric (its id and step bounds per run); older replies are ignored. */
  expectRange(key: string, id: number, bounds: Map<number, [number, number]>): void {
    this.ranges.set(key, { id, bounds });
  }

  /** A zoom reply: full-detail stretches of one metric's series. */
  applyRange(msg: RangeMessage, buffer: unknown): boolean {
    const want = this.ranges.get(msg.key);
    if (!want || want.id !== msg.id) return false;
    for (const p of unpackParts(msg.series ?? [], buffer)) {
      const s = this.get(p.run, p.key);
      const b = want.bounds.get(p.run);
      if (s && b) s.setDetail(p, b[0], b[1]);
    }
    this.emit({ detail: msg.key, series: "all" });
    return true;
  }

  /** A lineage graph was asked for (request `id`); until its reply comes the panel says it is loading. */
  expectLineage(id: number, run: number, direction: string): void {
    this.lineage = { id, run, direction, graph: null, error: null };
    this.emit({ lineage: true });
  }

  /** The kernel's reply to the newest lineage request (older replies are ignored). */
  applyLineage(msg: LineageMessage): boolean {
    const want = this.lineage;
    if (!want || want.id !== msg.id) return false;
    if (typeof msg.error === "string") this.lineage = { ...want, error: msg.error };
    else this.lineage = { ...want, graph: decodeLineage(msg.graph) };
    this.emit({ lineage: true });
    return true;
  }

  /** The panel was closed. */
  clearLineage(): void {
    if (!this.lineage) return;
    this.lineage = null;
    this.emit({ lineage: true });
  }

  /** Forget the zoom detail of a metric (zoom reset). */
  clearDetail(key: string): void {
    this.ranges.delete(key);
    let any = false;
    for (const s of this.series.values()) {
      if (s.key === key && s.detail) {
        s.setDetail(null);
        any = true;
      }
    }
    if (any) this.emit({ series: "all" });
  }
}
