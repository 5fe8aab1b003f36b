/**
 * The board view: panels over one shared store. The runs panel is the table, the lineage panel draws the
 * graph of a run picked in the table, the charts panel holds one chart per metric and their controls.
 * Panels are a list (`BoardView.addPanel`). View options live in the widget model's traits (saved with the
 * notebook and settable from Python); hover is local to the page.
 */
import { Chart, type ChartHost, type XAxis, chartOrder } from "./chart";
import { type LineageHost, LineagePanel } from "./lineage";
import { readTheme, type Theme, watchTheme } from "./theme";
import type { BoardStore, Change } from "./store";
import { DEFAULT_VIEW, RunTable, type TableHost, type TableView } from "./table";

/** The part of an AFM (anywidget) model the board uses; the static host implements the same. */
export interface Model {
  get(name: string): any;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(name: string, cb: (...args: any[]) => void): void;
  off(name?: string | null, cb?: ((...args: any[]) => void) | null): void;
  send(content: unknown, callbacks?: unknown, buffers?: unknown[]): void;
}

/** A section of the board. */
export interface Panel {
  id: string;
  title: string;
  el: HTMLElement;
  update(change: Change): void;
  destroy(): void;
}

/** What an empty board says (the same words as src/trackbook/board/html.py). */
export function emptyHint(wanted: string[] | null): string {
  const name = wanted && wanted.length ? wanted[0] : "my-experiment";
  const where = wanted && wanted.length ? `experiment ${wanted.map((w) => `'${w}'`).join(", ")}` : "this store";
  return (
    `No runs yet in ${where}. Log a first run:\n` +
    `trackbook.init(experiment='${name}')\n` +
    "trackbook.start_run('run-1')\n" +
    "trackbook.log_time_series_metrics({'loss': 0.5})"
  );
}

let rangeCounter = 0;
let lineageCounter = 0;

export class BoardView implements TableHost, ChartHost, LineageHost {
  readonly root: HTMLElement;
  private panels: Panel[] = [];
  private panelBox: HTMLElement;
  private empty: HTMLElement;
  private hover: number | null = null;
  private themeCache: Theme | null = null;
  private table: RunTable;
  private chartsPanel: ChartsPanel;
  private lineagePanel: LineagePanel;
  private disposers: (() => void)[] = [];
  private viewTimer = 0;
  private viewState: TableView;

  constructor(el: HTMLElement, readonly model: Model, readonly store: BoardStore) {
    const root = document.createElement("div");
    root.className = "trackbook";
    this.root = root;
    this.viewState = { ...DEFAULT_VIEW, ...(model.get("_view") ?? {}) };
    this.empty = document.createElement("pre");
    this.empty.className = "tb-empty";
    this.panelBox = document.createElement("div");
    this.panelBox.className = "tb-panels";
    root.append(this.empty, this.panelBox);
    el.append(root);

    this.table = new RunTable(this);
    this.chartsPanel = new ChartsPanel(this);
    this.lineagePanel = new LineagePanel(this);
    this.addPanel({
      id: "runs", title: "Runs", el: this.table.el,
      update: (c) => this.table.update(c), destroy: () => this.table.destroy(),
    });
    this.addPanel(this.lineagePanel);
    this.addPanel(this.chartsPanel);

    this.disposers.push(store.subscribe((c) => this.onChange(c)));
    this.disposers.push(watchTheme(() => {
      this.themeCache = null;
      this.chartsPanel.redraw();
    }));
    const on = (name: string, fn: () => void) => {
      model.on(name, fn);
      this.disposers.push(() => model.off(name, fn));
    };
    on("change:_selection", () => {
      this.table.restyle();
      this.chartsPanel.redraw();
    });
    on("change:_baseline", () => {
      this.table.rebaseline();
      this.chartsPanel.redraw();
    });
    for (const name of ["x_axis", "log_y", "smoothing", "follow_new"]) {
      on(`change:${name}`, () => {
        this.chartsPanel.syncControls();
        this.chartsPanel.redraw();
      });
    }
    this.onChange({ rows: "all", series: "all", charts: true, keys: true, loading: true, lineage: true });
  }

  addPanel(panel: Panel): void {
    const section = document.createElement("section");
    section.className = `tb-panel tb-panel-${panel.id}`;
    section.setAttribute("aria-label", panel.title);
    section.append(panel.el);
    this.panelBox.append(section);
    this.panels.push(panel);
  }

  destroy(): void {
    for (const d of this.disposers) d();
    for (const p of this.panels) p.destroy();
    if (this.viewTimer) window.clearTimeout(this.viewTimer);
    this.root.remove();
  }

  private onChange(c: Change): void {
    const empty = this.store.runs.size === 0;
    this.empty.hidden = !empty;
    this.panelBox.hidden = empty;
    if (empty) this.empty.textContent = emptyHint(this.store.wanted);
    for (const p of this.panels) p.update(c);
    if (c.rows || c.lineage) this.table.restyle();
  }

  // -- shared state --------------------------------------------------------------------------------------

  selection(): number[] {
    const ids = (this.model.get("_selection") as number[] | undefined) ?? [];
    return ids.filter((id) => this.store.runs.has(id));
  }

  setSelection(ids: number[]): void {
    const sorted = [...new Set(ids)].sort((a, b) => a - b);
    this.model.set("_selection", sorted);
    this.model.save_changes();
    this.table.restyle();
    this.chartsPanel.redraw();
  }

  baseline(): number {
    const b = this.model.get("_baseline");
    return typeof b === "number" && this.store.runs.has(b) ? b : -1;
  }

  setBaseline(id: number): void {
    this.model.set("_baseline", id);
    this.model.save_changes();
    this.table.rebaseline();
    this.chartsPanel.redraw();
  }

  hovered(): number | null {
    return this.hover;
  }

  setHovered(id: number | null): void {
    if (id === this.hover) return;
    this.hover = id;
    this.table.restyle();
    this.chartsPanel.redraw();
  }

  view(): TableView {
    return this.viewState;
  }

  setView(v: Partial<TableView>): void {
    this.viewState = { ...this.viewState, ...v };
    // Saved with the notebook; debounced so typing in the filter sends one message.
    if (this.viewTimer) window.clearTimeout(this.viewTimer);
    this.viewTimer = window.setTimeout(() => {
      this.viewTimer = 0;
      this.model.set("_view", { ...this.viewState });
      this.model.save_changes();
    }, 400);
  }

  drawn(): number[] {
    return this.selection();
  }

  xAxis(): XAxis {
    const x = this.model.get("x_axis");
    return x === "wall" || x === "relative" ? x : "step";
  }

  logY(): boolean {
    return Boolean(this.model.get("log_y"));
  }

  smoothing(): number {
    const s = Number(this.model.get("smoothing"));
    return Number.isFinite(s) ? Math.min(0.999, Math.max(0, s)) : 0;
  }

  theme(): Theme {
    if (!this.themeCache) this.themeCache = readTheme(this.root);
    return this.themeCache;
  }

  runLabel(id: number): string {
    const run = this.store.runs.get(id);
    if (!run) return String(id);
    let dup = false;
    for (const r of this.store.runs.values()) if (r.id !== id && r.name === run.name) dup = true;
    return dup ? `${run.exp}/${run.name}` : run.name;
  }

  runStart(id: number): number {
    return this.store.runs.get(id)?.start ?? 0;
  }

  requestDetail(key: string, ranges: { run: number; lo: number; hi: number }[], px: number): void {
    const id = ++rangeCounter;
    const bounds = new Map<number, [number, number]>();
    for (const r of ranges) bounds.set(r.run, [r.lo, r.hi]);
    this.store.expectRange(key, id, bounds);
    this.model.send({ type: "range", id, key, px: Math.round(px), parts: ranges });
  }

  clearDetail(key: string): void {
    this.store.clearDetail(key);
  }

  /** Whether lineage graphs can be asked for: only with a kernel (not on a saved standalone page). */
  lineageEnabled(): boolean {
    return !this.model.get("_static");
  }

  /** Open the lineage panel on a run (or close it when it already shows that run). */
  showLineage(run: number): void {
    const cur = this.store.lineage;
    if (cur && cur.run === run) {
      this.store.clearLineage();
      return;
    }
    this.requestLineage(run, cur?.direction ?? "both");
    this.lineagePanel.el.scrollIntoView?.({ block: "nearest" });
  }

  requestLineage(run: number, direction: string): void {
    const id = ++lineageCounter;
    this.store.expectLineage(id, run, direction);
    this.model.send({ type: "lineage", id, run, direction });
  }

  /** Tell the kernel the chart width, so the series it sends are reduced to it. */
  reportWidth(px: number): void {
    const cur = Number(this.model.get("_px")) || this.store.px;
    this.store.px = px;
    if (Math.abs(px - cur) / cur > 0.15) {
      this.model.set("_px", Math.round(px));
      this.model.save_changes();
    }
  }
}

/** The charts panel: its controls and one chart per charted metric. */
class ChartsPanel implements Panel {
  readonly id = "charts";
  readonly title = "Charts";
  readonly el: HTMLElement;
  private grid: HTMLElement;
  private charts = new Map<string, Chart>();
  private order: string[] = [];
  private axisSelect: HTMLSelectElement;
  private logBox: HTMLInputElement;
  private followBox: HTMLInputElement;
  private smoothInput: HTMLInputElement;
  private smoothValue: HTMLOutputElement;
  private menuBody: HTMLElement;
  private status: HTMLElement;
  private widthTimer = 0;

  constructor(private view: BoardView) {
    const el = document.createElement("div");
    el.className = "tb-charts";
    const bar = document.createElement("div");
    bar.className = "tb-toolbar";

    const axisLabel = document.createElement("label");
    axisLabel.className = "tb-field";
    axisLabel.append(document.createTextNode("x "));
    this.axisSelect = document.createElement("select");
    for (const [value, text] of [["step", "step"], ["wall", "wall time"], ["relative", "relative time"]]) {
      const o = document.createElement("option");
      o.value = value;
      o.textContent = text;
      this.axisSelect.append(o);
    }
    this.axisSelect.addEventListener("change", () => this.setOption("x_axis", this.axisSelect.value));
    axisLabel.append(this.axisSelect);

    const logLabel = document.createElement("label");
    logLabel.className = "tb-check";
    this.logBox = document.createElement("input");
    this.logBox.type = "checkbox";
    this.logBox.addEventListener("change", () => this.setOption("log_y", this.logBox.checked));
    logLabel.append(this.logBox, document.createTextNode(" log y"));

    const smoothLabel = document.createElement("label");
    smoothLabel.className = "tb-field";
    smoothLabel.append(document.createTextNode("smoothing "));
    this.smoothInput = document.createElement("input");
    this.smoothInput.type = "range";
    this.smoothInput.min = "0";
    this.smoothInput.max = "0.99";
    this.smoothInput.step = "0.01";
    this.smoothValue = document.createElement("output");
    this.smoothInput.addEventListener("input", () => {
      this.smoothValue.textContent = Number(this.smoothInput.value).toFixed(2);
      this.setOption("smoothing", Number(this.smoothInput.value));
    });
    smoothLabel.append(this.smoothInput, this.smoothValue);

    const menu = document.createElement("details");
    menu.className = "tb-menu";
    const summary = document.createElement("summary");
    summary.textContent = "metrics";
    this.menuBody = document.createElement("div");
    this.menuBody.className = "tb-menu-body";
    menu.append(summary, this.menuBody);

    const followLabel = document.createElement("label");
    followLabel.className = "tb-check";
    followLabel.title = "select runs that start while the board is open";
    this.followBox = document.createElement("input");
    this.followBox.type = "checkbox";
    this.followBox.addEventListener("change", () => this.setOption("follow_new", this.followBox.checked));
    followLabel.append(this.followBox, document.createTextNode(" follow new runs"));

    this.status = document.createElement("span");
    this.status.className = "tb-status";
    this.status.setAttribute("aria-live", "polite");
    bar.append(axisLabel, logLabel, smoothLabel, menu, followLabel, this.status);

    this.grid = document.createElement("div");
    this.grid.className = "tb-grid";
    el.append(bar, this.grid);
    this.el = el;
    this.syncControls();
  }

  private setOption(name: string, value: unknown): void {
    this.view.model.set(name, value);
    this.view.model.save_changes();
    this.redraw();
  }

  syncControls(): void {
    const m = this.view.model;
    this.axisSelect.value = this.view.xAxis();
    this.logBox.checked = this.view.logY();
    this.followBox.checked = m.get("follow_new") !== false;
    const s = this.view.smoothing();
    if (Number(this.smoothInput.value) !== s) this.smoothInput.value = String(s);
    this.smoothValue.textContent = s.toFixed(2);
  }

  update(change: Change): void {
    if (change.charts || change.keys) {
      this.buildCharts();
      this.buildMenu();
    }
    if (change.loading || change.charts || change.rows) this.updateStatus();
    if (change.series || change.rows || change.charts || change.detail) this.redraw();
  }

  private buildCharts(): void {
    const want = this.view.store.charts;
    for (const [key, chart] of this.charts) {
      if (!want.includes(key)) {
        chart.destroy();
        this.charts.delete(key);
      }
    }
    for (const key of want) {
      if (!this.charts.has(key)) this.charts.set(key, new Chart(this.view, key));
    }
    this.order = [];
    this.arrange();
    this.scheduleWidth();
  }

  /** Put charts with data first and empty ones last (see chartOrder); moves elements only when it changes. */
  private arrange(): void {
    const store = this.view.store;
    const drawn = this.view.drawn();
    const hasData = (key: string) => drawn.some((run) => (store.get(run, key)?.n ?? 0) > 0);
    const next = chartOrder(store.charts.filter((k) => this.charts.has(k)), hasData);
    if (next.length === this.order.length && next.every((k, i) => k === this.order[i])) return;
    this.order = next;
    for (const key of next) this.grid.append((this.charts.get(key) as Chart).el);
  }

  private buildMenu(): void {
    const store = this.view.store;
    this.menuBody.replaceChildren();
    const all = document.createElement("button");
    all.type = "button";
    all.className = "tb-btn";
    all.textContent = "all metrics";
    all.addEventListener("click", () => {
      this.view.model.set("metrics", null);
      this.view.model.save_changes();
    });
    this.menuBody.append(all);
    for (const key of store.keys) {
      const label = document.createElement("label");
      label.className = "tb-check";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = store.charts.includes(key);
      box.addEventListener("change", () => {
        const next = store.keys.filter((k) => (k === key ? box.checked : store.charts.includes(k)));
        store.charts = next; // at once here; the kernel confirms and sends the new series
        this.buildCharts();
        this.view.model.set("metrics", next);
        this.view.model.save_changes();
        this.redraw();
      });
      label.append(box, document.createTextNode(` ${key}`));
      this.menuBody.append(label);
    }
  }

  private updateStatus(): void {
    const store = this.view.store;
    const parts: string[] = [];
    if (store.loading > 0) parts.push(`loading ${store.loading} more curve${store.loading === 1 ? "" : "s"}…`);
    if (this.view.model.get("_static")) parts.push("saved page: curves of the runs selected when it was made");
    this.status.textContent = parts.join(" · ");
  }

  private scheduleWidth(): void {
    if (this.widthTimer) return;
    this.widthTimer = window.setTimeout(() => {
      this.widthTimer = 0;
      const first = this.charts.values().next().value as Chart | undefined;
      if (first && first.plotWidth > 1) this.view.reportWidth(first.plotWidth);
    }, 500);
  }

  redraw(): void {
    this.arrange(); // data arrives and selections change: a chart that gained points moves up
    for (const c of this.charts.values()) c.invalidate();
  }

  destroy(): void {
    if (this.widthTimer) window.clearTimeout(this.widthTimer);
    for (const c of this.charts.values()) c.destroy();
    this.el.remove();
  }
}
