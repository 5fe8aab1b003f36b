/**
 * The run table: one real <tr> per run holding its name as text, a state badge, start time, duration,
 * params, summary metrics and the last value of each series. Sort by any column, filter by text, hide
 * columns, show only params that differ, select runs (click, shift-click for a range) and pin a baseline
 * run to see every other run's deltas against it. Everything from the store is set as text, never markup.
 * Up to ALL_ROWS runs every row is in the DOM; past that the body is a window over the sorted, filtered
 * runs (the rows in view plus a margin, spacers for the rest), so sorting or filtering 1,000s of runs
 * costs a few dozen rows, and column widths are fixed from every run's text so they never jump.
 * Live updates rewrite only the rows that changed.
 */
import { colorOf } from "./colors";
import { formatDateTime, formatDelta, formatDuration, formatValue, formatWhen } from "./format";
import type { RunRow } from "./protocol";
import type { BoardStore, Change } from "./store";
import {
  type Column,
  autoHidden,
  cellValue,
  columnsFor,
  deltaOf,
  differingParams,
  durationOf,
  matchesFilter,
  parseFilter,
  searchText,
  sortRuns,
  sortsDescFirst,
} from "./table-model";

export interface TableView {
  sort: string;
  desc: boolean;
  filter: string;
  hidden: string[];
  /** Columns shown although hidden by default (the experiment column of a one-experiment board). */
  shown?: string[];
  diff: boolean;
}

export const DEFAULT_VIEW: TableView = { sort: "start", desc: true, filter: "", hidden: [], diff: false };

/** The filter syntax, as the filter box's tooltip tells it (docs/board.md says the same). */
export const FILTER_HELP =
  "words match the name, experiment, state or a param (key=value);\n" +
  "key=v, key!=v, key>v, key<v, key>=v, key<=v compare a param or a metric's last value\n" +
  "(numbers numerically, text ignoring case); key~v: contains; -term: not; quote values with spaces";

export interface TableHost {
  store: BoardStore;
  selection(): number[];
  setSelection(ids: number[]): void;
  baseline(): number;
  setBaseline(id: number): void;
  hovered(): number | null;
  setHovered(id: number | null): void;
  /** Whether rows offer a lineage button (there is a kernel to ask). */
  lineageEnabled(): boolean;
  showLineage(id: number): void;
  view(): TableView;
  setView(v: Partial<TableView>): void;
}

interface RowEls {
  tr: HTMLTableRowElement;
  check: HTMLInputElement;
  pin: HTMLButtonElement;
  lineage: HTMLButtonElement;
  cells: HTMLTableCellElement[];
}

/** Tables up to this many runs keep every row in the DOM; larger ones render a window. */
export const ALL_ROWS = 200;
const OVERSCAN = 12;
const LEAD_WIDTH = 92;

const KNOWN_STATES = new Set(["running", "complete", "failed", "crashed", "new", "cancelled", "cached"]);
const GROUP_TAG: Record<string, string> = { param: "param", metric: "metric", last: "last" };
let tableCount = 0;

export class RunTable {
  readonly el: HTMLElement;
  private table: HTMLTableElement;
  private thead: HTMLTableSectionElement;
  private tbody: HTMLTableSectionElement;
  private style: HTMLStyleElement;
  private filterInput: HTMLInputElement;
  private diffBox: HTMLInputElement;
  private status: HTMLElement;
  private menuBody: HTMLElement;
  private menuSummary: HTMLElement;
  private menuBoxes = new Map<string, HTMLInputElement>();
  private allBox: HTMLInputElement;
  private columns: Column[] = [];
  private colSig = "";
  private rows = new Map<number, RowEls>(); // row elements made so far (in the DOM or not)
  private texts = new Map<number, string>(); // what the filter searches, per run
  private scroller: HTMLElement;
  private topPad: HTMLTableRowElement;
  private bottomPad: HTMLTableRowElement;
  private rowHeight = 0;
  private windowKey = "";
  private frame = 0;
  private widths = new Map<string, number>();
  private numeric = new Map<string, number>(); // per column: numbers minus other values seen
  private order: number[] = [];
  private visible: number[] = [];
  private anchor: number | null = null;
  private pending = 0;
  private timer: number;
  private uid = `tb-t${++tableCount}`;
  private lastHover: number | null = null;

  constructor(private host: TableHost) {
    const root = document.createElement("div");
    root.className = "tb-runs";
    const bar = document.createElement("div");
    bar.className = "tb-toolbar";
    this.filterInput = document.createElement("input");
    this.filterInput.type = "search";
    this.filterInput.className = "tb-filter";
    this.filterInput.placeholder = "filter: name, lr=0.1, loss<0.5, -failed …";
    this.filterInput.title = FILTER_HELP;
    this.filterInput.setAttribute("aria-label", "filter runs");
    this.filterInput.value = host.view().filter;
    this.filterInput.addEventListener("input", () => {
      this.host.setView({ filter: this.filterInput.value });
      this.refresh();
    });
    const menu = document.createElement("details");
    menu.className = "tb-menu";
    this.menuSummary = document.createElement("summary");
    this.menuSummary.textContent = "columns";
    this.menuBody = document.createElement("div");
    this.menuBody.className = "tb-menu-body";
    menu.append(this.menuSummary, this.menuBody);
    const diffLabel = document.createElement("label");
    diffLabel.className = "tb-check";
    this.diffBox = document.createElement("input");
    this.diffBox.type = "checkbox";
    this.diffBox.checked = host.view().diff;
    this.diffBox.addEventListener("change", () => {
      this.host.setView({ diff: this.diffBox.checked });
      this.applyHiding();
    });
    diffLabel.append(this.diffBox, document.createTextNode(" differences only"));
    this.status = document.createElement("span");
    this.status.className = "tb-status";
    bar.append(this.filterInput, menu, diffLabel, this.status);

    const scroller = document.createElement("div");
    scroller.className = "tb-table-scroll";
    this.scroller = scroller;
    scroller.addEventListener("scroll", () => this.scheduleWindow());
    this.topPad = spacer();
    this.bottomPad = spacer();
    this.table = document.createElement("table");
    this.table.className = `tb-table ${this.uid}`;
    this.table.style.setProperty("--tb-lead-width", `${LEAD_WIDTH}px`); // where the sticky name column sits
    this.thead = document.createElement("thead");
    this.tbody = document.createElement("tbody");
    this.table.append(this.thead, this.tbody);
    this.style = document.createElement("style");
    this.allBox = document.createElement("input");
    this.allBox.type = "checkbox";
    this.allBox.setAttribute("aria-label", "select all shown runs");
    this.allBox.addEventListener("change", () => this.selectAll(this.allBox.checked));
    scroller.append(this.style, this.table);
    root.append(bar, scroller);
    this.el = root;

    this.tbody.addEventListener("click", this.onClick);
    this.tbody.addEventListener("mousedown", (e) => {
      if (e.shiftKey) e.preventDefault(); // no text selection on shift-click
    });
    this.tbody.addEventListener("mouseover", this.onOver);
    this.tbody.addEventListener("mouseleave", () => this.host.setHovered(null));
    this.timer = window.setInterval(() => this.tickDurations(), 1000);
    this.rebuild();
  }

  destroy(): void {
    window.clearInterval(this.timer);
    if (this.frame) cancelAnimationFrame(this.frame);
    if (this.pending) window.clearTimeout(this.pending);
    this.el.remove();
  }

  /** React to a store change: new columns rebuild the table, changed runs rewrite their rows. */
  update(change: Change): void {
    if (!change.rows && !change.keys) return;
    const store = this.host.store;
    const cols = columnsFor(store.runs.values(), store.keys);
    const sig = cols.map((c) => c.id).join("\u0000");
    if (change.rows === "all" || sig !== this.colSig) {
      this.rebuild();
      return;
    }
    if (change.rows) {
      for (const id of change.rows) {
        const run = store.runs.get(id);
        const els = this.rows.get(id);
        if (!run) {
          els?.tr.remove();
          this.rows.delete(id);
          this.texts.delete(id);
          continue;
        }
        this.texts.set(id, searchText(run));
        if (els?.tr.isConnected) this.fillRow(els, run);
        else this.rows.delete(id); // made again, up to date, when it scrolls into view
        this.growWidths(run);
      }
    }
    this.schedule();
  }

  /** Selection, baseline or hover changed elsewhere (Python, a chart): restyle the rows. */
  restyle(): void {
    const sel = new Set(this.host.selection());
    const base = this.host.baseline();
    for (const [id, els] of this.rows) {
      if (els.tr.isConnected) this.styleRow(id, els, sel, base);
    }
    const hov = this.host.hovered();
    if (this.lastHover !== hov) {
      if (this.lastHover !== null) this.rows.get(this.lastHover)?.tr.classList.remove("tb-hovered");
      if (hov !== null) this.rows.get(hov)?.tr.classList.add("tb-hovered");
      this.lastHover = hov;
    }
    this.updateStatus();
  }

  private styleRow(id: number, els: RowEls, sel: Set<number>, base: number): void {
    const on = sel.has(id);
    if (els.check.checked !== on) els.check.checked = on;
    els.tr.classList.toggle("tb-selected", on);
    els.tr.setAttribute("aria-selected", on ? "true" : "false");
    const isBase = id === base;
    els.tr.classList.toggle("tb-baseline", isBase);
    els.pin.setAttribute("aria-pressed", isBase ? "true" : "false");
    els.lineage.setAttribute("aria-pressed", this.host.store.lineage?.run === id ? "true" : "false");
    els.tr.classList.toggle("tb-hovered", id === this.host.hovered());
  }

  /** The baseline changed: every delta is rewritten. */
  rebaseline(): void {
    const store = this.host.store;
    for (const [id, els] of [...this.rows]) {
      const run = store.runs.get(id);
      if (run && els.tr.isConnected) this.fillRow(els, run);
      else this.rows.delete(id);
    }
    this.restyle();
  }

  // -- structure -----------------------------------------------------------------------------------------

  private rebuild(): void {
    const store = this.host.store;
    this.columns = columnsFor(store.runs.values(), store.keys);
    this.colSig = this.columns.map((c) => c.id).join("\u0000");
    this.rows.clear();
    this.texts.clear();
    this.widths.clear();
    this.numeric.clear();
    for (const run of store.runs.values()) {
      this.texts.set(run.id, searchText(run));
      this.growWidths(run);
    }
    this.buildHeader();
    this.buildMenu();
    this.windowKey = "";
    this.refresh();
  }

  /** Widen columns to fit this run's text (widths never shrink while the board is open, so nothing jumps). */
  private growWidths(run: RunRow): void {
    const now = Date.now() / 1000;
    for (const col of this.columns) {
      let text = "";
      if (col.kind === "state") text = run.state;
      else if (col.kind === "start") text = formatWhen(run.start, now);
      else if (col.kind === "duration") text = "00h 00m";
      else text = formatValue(cellValue(run, col, now));
      const extra = col.kind === "metric" || col.kind === "last" ? 9 : col.kind === "state" ? 1 : 0; // delta, badge
      if (col.group !== "run") {
        const v = cellValue(run, col, now);
        if (v !== undefined) {
          const num = typeof v === "number" || typeof v === "bigint";
          this.numeric.set(col.id, (this.numeric.get(col.id) ?? 0) + (num ? 1 : -1));
        }
      }
      const min = col.kind === "name" ? 90 : 48;
      const max = col.kind === "name" ? 220 : 280; // the name stays in view on scroll: it must leave room
      const w = Math.min(max, Math.max(min, Math.ceil((text.length + extra) * 7.6 + 24)));
      if (w > (this.widths.get(col.id) ?? 0)) this.widths.set(col.id, w);
    }
  }

  private buildHeader(): void {
    const view = this.host.view();
    const tr = document.createElement("tr");
    const lead = document.createElement("th");
    lead.className = "tb-lead";
    lead.scope = "col";
    lead.style.width = `${LEAD_WIDTH}px`;
    lead.append(this.allBox);
    tr.append(lead);
    for (const col of this.columns) {
      const th = document.createElement("th");
      th.scope = "col";
      th.dataset.col = col.id;
      if (col.kind === "name") th.className = "tb-namecol";
      const labelWidth = Math.min(280, col.label.length * 7.5 + 30);
      const width = Math.max(this.widths.get(col.id) ?? 48, labelWidth);
      this.widths.set(col.id, width);
      th.style.width = `${width}px`;
      if (col.kind === "duration" || (this.numeric.get(col.id) ?? 0) > 0) th.classList.add("tb-num");
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "tb-sort";
      if (GROUP_TAG[col.group]) {
        const tag = document.createElement("span");
        tag.className = `tb-group tb-group-${col.group}`;
        tag.textContent = GROUP_TAG[col.group];
        btn.append(tag);
      }
      btn.append(document.createTextNode(col.label));
      btn.title = `sort by ${col.label}`;
      btn.addEventListener("click", () => {
        const v = this.host.view();
        const desc = v.sort === col.id ? !v.desc : sortsDescFirst(col);
        this.host.setView({ sort: col.id, desc });
        this.sortNow();
      });
      th.append(btn);
      if (view.sort === col.id) th.setAttribute("aria-sort", view.desc ? "descending" : "ascending");
      tr.append(th);
    }
    this.thead.replaceChildren(tr);
  }

  private buildMenu(): void {
    this.menuBody.replaceChildren();
    this.menuBoxes.clear();
    const all = document.createElement("button");
    all.type = "button";
    all.className = "tb-show-all";
    all.textContent = "show all";
    all.title = "show every column (and turn off differences only)";
    all.addEventListener("click", () => {
      this.diffBox.checked = false;
      this.host.setView({ hidden: [], shown: [...autoHidden(this.host.store.runs.values())], diff: false });
      this.applyHiding();
    });
    this.menuBody.append(all);
    for (const col of this.columns) {
      if (col.kind === "name") continue;
      const label = document.createElement("label");
      label.className = "tb-check";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.addEventListener("change", () => {
        const v = this.host.view();
        const h = new Set(v.hidden);
        const shown = new Set(v.shown ?? []);
        if (box.checked) (h.delete(col.id), shown.add(col.id));
        else (h.add(col.id), shown.delete(col.id));
        // `shown` only matters for columns hidden by default: keep the saved view small
        const auto = autoHidden(this.host.store.runs.values());
        this.host.setView({ hidden: [...h], shown: [...shown].filter((id) => auto.has(id)) });
        this.applyHiding();
      });
      this.menuBoxes.set(col.id, box);
      const tag = GROUP_TAG[col.group] ? `${GROUP_TAG[col.group]}: ` : "";
      label.append(box, document.createTextNode(` ${tag}${col.label}`));
      this.menuBody.append(label);
    }
  }

  private makeRow(run: RunRow): RowEls {
    const tr = document.createElement("tr");
    tr.dataset.run = String(run.id);
    const lead = document.createElement("td");
    lead.className = "tb-lead";
    const check = document.createElement("input");
    check.type = "checkbox";
    check.setAttribute("aria-label", `select ${run.name}`);
    const sw = document.createElement("span");
    sw.className = "tb-swatch";
    sw.style.background = colorOf(run.id);
    const pin = document.createElement("button");
    pin.type = "button";
    pin.className = "tb-pin";
    pin.textContent = "◆";
    pin.title = "pin as the baseline: other runs show deltas against it";
    pin.setAttribute("aria-label", `pin ${run.name} as baseline`);
    const lineage = document.createElement("button");
    lineage.type = "button";
    lineage.className = "tb-lin";
    lineage.title = "show the lineage graph of this run (its artifacts and executions)";
    lineage.setAttribute("aria-label", `lineage of ${run.name}`);
    lineage.hidden = !this.host.lineageEnabled();
    lineage.append(lineageIcon());
    lead.append(check, sw, pin, lineage);
    tr.append(lead);
    const cells: HTMLTableCellElement[] = [];
    for (const col of this.columns) {
      const td = document.createElement("td");
      if (col.kind === "duration") td.className = "tb-num";
      else if (col.kind === "name") td.className = "tb-namecol";
      cells.push(td);
      tr.append(td);
    }
    const els: RowEls = { tr, check, pin, lineage, cells };
    this.fillRow(els, run);
    return els;
  }

  private fillRow(els: RowEls, run: RunRow): void {
    const now = Date.now() / 1000;
    const base = this.host.baseline();
    const baseRun = base >= 0 && base !== run.id ? this.host.store.runs.get(base) : undefined;
    els.tr.dataset.state = run.state.toLowerCase();
    this.columns.forEach((col, i) => {
      const td = els.cells[i];
      switch (col.kind) {
        case "state": {
          const badge = document.createElement("span");
          const s = run.state.toLowerCase();
          badge.className = `tb-badge tb-state-${KNOWN_STATES.has(s) ? s : "other"}`;
          badge.textContent = s;
          td.replaceChildren(badge);
          return;
        }
        case "start":
          setText(td, formatWhen(run.start, now));
          td.title = formatDateTime(run.start);
          return;
        case "duration":
          setText(td, formatDuration(durationOf(run, now)));
          return;
        case "metric":
        case "last": {
          const v = cellValue(run, col, now);
          numeric(td, v);
          const text = formatValue(v);
          const d = baseRun ? deltaOf(v, cellValue(baseRun, col, now)) : null;
          if (d === null) {
            setText(td, text);
          } else {
            const delta = document.createElement("span");
            delta.className = `tb-delta ${d > 0 ? "tb-up" : d < 0 ? "tb-down" : "tb-same"}`;
            if (d === 0) delta.title = "the same as the baseline";
            delta.textContent = formatDelta(d);
            td.replaceChildren(document.createTextNode(text), delta);
          }
          return;
        }
        default: {
          const v = cellValue(run, col, now);
          if (col.kind === "param") numeric(td, v);
          setText(td, formatValue(v));
          if (col.kind === "name" && td.title !== run.name) td.title = run.name;
        }
      }
    });
  }

  // -- order, filter, hiding ---------------------------------------------------------------------------

  /** Sort, filter and hide again soon (live updates come in bursts). */
  private schedule(): void {
    if (this.pending) return;
    this.pending = window.setTimeout(() => {
      this.pending = 0;
      this.refresh();
    }, 200);
  }

  private refresh(): void {
    this.sortNow();
    this.applyHiding();
    this.restyle();
  }

  private sortNow(): void {
    const view = this.host.view();
    const col = this.columns.find((c) => c.id === view.sort) ?? this.columns.find((c) => c.id === "start");
    const runs = [...this.host.store.runs.values()];
    const sorted = col ? sortRuns(runs, col, view.desc, Date.now() / 1000) : runs;
    this.order = sorted.map((r) => r.id);
    for (const th of this.thead.querySelectorAll("th[data-col]")) {
      const id = (th as HTMLElement).dataset.col;
      if (id === view.sort) th.setAttribute("aria-sort", view.desc ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    }
    this.applyFilter();
  }

  private applyFilter(): void {
    const filter = this.host.view().filter.trim();
    const terms = parseFilter(filter);
    const store = this.host.store;
    this.visible = terms.length
      ? this.order.filter((id) => {
          const run = store.runs.get(id);
          return run !== undefined && matchesFilter(run, terms, this.texts.get(id) ?? searchText(run));
        })
      : [...this.order];
    if (this.host.view().diff) this.applyHiding();
    this.renderWindow();
    this.updateStatus();
  }

  private scheduleWindow(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderWindow();
    });
  }

  /** Put the rows in view (all of them for small tables) between two spacers. */
  private renderWindow(): void {
    const total = this.visible.length;
    let start = 0;
    let end = total;
    const h = this.rowHeight || 26;
    if (total > ALL_ROWS) {
      const top = this.scroller.scrollTop;
      const view = this.scroller.clientHeight || 360;
      start = Math.max(0, Math.floor(top / h) - OVERSCAN);
      end = Math.min(total, Math.ceil((top + view) / h) + OVERSCAN);
    }
    const ids = this.visible.slice(start, end);
    const key = `${start}:${total}:${ids.join(",")}:${total ? "" : this.host.view().filter}`;
    if (key === this.windowKey) return;
    this.windowKey = key;
    const store = this.host.store;
    const sel = new Set(this.host.selection());
    const base = this.host.baseline();
    const rows: HTMLTableRowElement[] = [];
    ids.forEach((id, i) => {
      let els = this.rows.get(id);
      const run = store.runs.get(id);
      if (!run) return;
      if (!els) {
        els = this.makeRow(run);
        this.rows.set(id, els);
      }
      els.tr.setAttribute("aria-rowindex", String(start + i + 2));
      this.styleRow(id, els, sel, base);
      rows.push(els.tr);
    });
    this.topPad.style.height = `${start * h}px`;
    this.bottomPad.style.height = `${(total - end) * h}px`;
    this.topPad.hidden = start === 0;
    this.bottomPad.hidden = end === total;
    const filter = this.host.view().filter.trim();
    if (total === 0 && filter && store.runs.size > 0) {
      const tr = document.createElement("tr");
      tr.className = "tb-nomatch";
      const td = document.createElement("td");
      td.colSpan = this.columns.length + 1;
      const text = document.createElement("span");
      text.textContent = `No runs match ${filter}`;
      td.append(text);
      tr.append(td);
      rows.push(tr);
    }
    this.tbody.replaceChildren(this.topPad, ...rows, this.bottomPad);
    this.table.setAttribute("aria-rowcount", String(total + 1));
    if (!this.rowHeight && total && rows.length) {
      const measured = rows[0].getBoundingClientRect().height;
      if (measured > 0) {
        this.rowHeight = measured;
        if (total > ALL_ROWS) {
          this.windowKey = "";
          this.renderWindow();
        }
      }
    }
  }

  /** Hide columns the user hid, and with "differences only" the params equal across the shown runs. */
  private applyHiding(): void {
    const view = this.host.view();
    const hidden = new Set(view.hidden);
    const shown = new Set(view.shown ?? []);
    for (const id of autoHidden(this.host.store.runs.values())) if (!shown.has(id)) hidden.add(id);
    for (const [id, box] of this.menuBoxes) box.checked = !hidden.has(id);
    if (view.diff) {
      const runs = this.visible.map((id) => this.host.store.runs.get(id)).filter(Boolean) as RunRow[];
      const params = this.columns.filter((c) => c.kind === "param").map((c) => c.key);
      const differ = differingParams(runs, params);
      for (const c of this.columns) if (c.kind === "param" && !differ.has(c.key)) hidden.add(c.id);
    }
    const rules: string[] = [];
    this.columns.forEach((c, i) => {
      if (hidden.has(c.id)) rules.push(`.${this.uid} tr > :nth-child(${i + 2})`);
    });
    const css = rules.length ? `${rules.join(",\n")} { display: none; }` : "";
    if (this.style.textContent !== css) this.style.textContent = css;
    this.table.dataset.hiddenColumns = String(rules.length);
    this.menuSummary.textContent = rules.length ? `columns (${rules.length} hidden)` : "columns";
    let width = LEAD_WIDTH;
    for (const c of this.columns) if (!hidden.has(c.id)) width += this.widths.get(c.id) ?? 48;
    this.table.style.width = `${width}px`;
  }

  private updateStatus(): void {
    const total = this.host.store.runs.size;
    const sel = this.host.selection();
    const shown = this.visible.length;
    const parts = [`${total} run${total === 1 ? "" : "s"}`];
    if (shown !== total) parts.push(`${shown} shown`);
    parts.push(`${sel.length} selected`);
    this.status.textContent = parts.join(" · ");
    const visSel = this.visible.filter((id) => sel.includes(id)).length;
    this.allBox.checked = visSel > 0 && visSel === this.visible.length;
    this.allBox.indeterminate = visSel > 0 && visSel < this.visible.length;
  }

  private tickDurations(): void {
    const i = this.columns.findIndex((c) => c.kind === "duration");
    if (i < 0) return;
    const now = Date.now() / 1000;
    for (const [id, els] of this.rows) {
      if (!els.tr.isConnected) continue;
      const run = this.host.store.runs.get(id);
      if (run && run.state === "RUNNING") setText(els.cells[i], formatDuration(durationOf(run, now)));
    }
  }

  // -- selection ---------------------------------------------------------------------------------------

  private onClick = (e: MouseEvent): void => {
    const target = e.target as HTMLElement;
    const tr = target.closest("tr[data-run]") as HTMLTableRowElement | null;
    if (!tr) return;
    const id = Number(tr.dataset.run);
    if (target.closest("button.tb-pin")) {
      this.host.setBaseline(this.host.baseline() === id ? -1 : id);
      return;
    }
    if (target.closest("button.tb-lin")) {
      this.host.showLineage(id);
      return;
    }
    const sel = new Set(this.host.selection());
    if (e.shiftKey && this.anchor !== null && this.visible.includes(this.anchor)) {
      const a = this.visible.indexOf(this.anchor);
      const b = this.visible.indexOf(id);
      const on = sel.has(this.anchor);
      for (let i = Math.min(a, b); i <= Math.max(a, b); i++) {
        if (on) sel.add(this.visible[i]);
        else sel.delete(this.visible[i]);
      }
    } else {
      if (sel.has(id)) sel.delete(id);
      else sel.add(id);
      this.anchor = id;
    }
    this.host.setSelection([...sel]);
  };

  private onOver = (e: MouseEvent): void => {
    const tr = (e.target as HTMLElement).closest("tr[data-run]") as HTMLTableRowElement | null;
    const id = tr ? Number(tr.dataset.run) : null;
    if (id !== this.host.hovered()) this.host.setHovered(id);
  };

  private selectAll(on: boolean): void {
    const sel = new Set(this.host.selection());
    for (const id of this.visible) {
      if (on) sel.add(id);
      else sel.delete(id);
    }
    this.host.setSelection([...sel]);
  }

  /** Run ids in the order shown, filtered (for tests and the board). */
  get shownOrder(): number[] {
    return [...this.visible];
  }
}

/** A small graph (two nodes feeding a third) for the lineage button; drawn, so no font is needed. */
function lineageIcon(): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const icon = document.createElementNS(ns, "svg");
  icon.setAttribute("viewBox", "0 0 16 16");
  icon.setAttribute("width", "13");
  icon.setAttribute("height", "13");
  icon.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M4 4 L12 8 M4 12 L12 8");
  path.setAttribute("class", "tb-lin-edge");
  icon.append(path);
  for (const [x, y] of [[3.5, 4], [3.5, 12], [12.5, 8]]) {
    const c = document.createElementNS(ns, "circle");
    c.setAttribute("cx", String(x));
    c.setAttribute("cy", String(y));
    c.setAttribute("r", "2.3");
    icon.append(c);
  }
  return icon;
}

/** Numbers align right (digits line up), text left. */
function numeric(td: HTMLElement, v: unknown): void {
  const num = typeof v === "number" || typeof v === "bigint";
  if (td.classList.contains("tb-num") !== num) td.classList.toggle("tb-num", num);
}

function spacer(): HTMLTableRowElement {
  const tr = document.createElement("tr");
  tr.className = "tb-spacer";
  tr.setAttribute("aria-hidden", "true");
  tr.append(document.createElement("td"));
  return tr;
}

function setText(td: HTMLElement, text: string): void {
  if (td.childNodes.length === 1 && td.firstChild?.nodeType === Node.TEXT_NODE) {
    if (td.textContent !== text) td.textContent = text;
  } else {
    td.textContent = text;
  }
}
