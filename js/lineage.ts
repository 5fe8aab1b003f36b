/**
 * The lineage panel: the ML Metadata graph of one run (asked for with a row's lineage button) drawn as SVG
 * in layers, inputs left and outputs right. Artifacts are rectangles and executions rounded pills, each
 * with its name and type as text (the kind never rests on colour alone); INPUT edges are dashed, OUTPUT
 * edges solid. The graph is laid out to the panel's width (narrower boxes and gaps, again when the panel
 * resizes); nodes no event links (a pipeline run's own system.Run execution) sit below the flow under a
 * caption. Hovering or focusing a node shows its details as text; clicking pins them. Everything from the
 * store is set with textContent, never as markup.
 */
import type { Panel } from "./board";
import {
  type Layout, type LayoutOptions, type Placed, DEFAULT_LAYOUT, edgePath, fitLayout, layoutLineage,
} from "./lineage-layout";
import type { LineageGraph, LineageNode } from "./protocol";
import type { BoardStore, Change } from "./store";

const SVG = "http://www.w3.org/2000/svg";
const LABEL_CHARS = 48;

export interface LineageHost {
  store: BoardStore;
  runLabel(id: number): string;
  requestLineage(run: number, direction: string): void;
}

let panelCount = 0;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** Text cut to `max` characters with an ellipsis (the full text is in the node's title and details). */
export function clip(text: string, max = LABEL_CHARS): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

/** Shorten an SVG text until it is at most `width` px wide, cutting before its last `keep` characters (a
 * node's state stays whole while its type is cut); no-op where text cannot be measured. */
function fitText(t: SVGTextElement, width: number, keep = 0): void {
  const full = t.textContent ?? "";
  if (typeof t.getComputedTextLength !== "function" || t.getComputedTextLength() <= width) return;
  const all = [...full];
  const tail = keep > 0 && keep < all.length ? all.slice(all.length - keep).join("") : "";
  const chars = tail ? all.slice(0, all.length - keep) : all;
  let lo = 1;
  let hi = chars.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    t.textContent = `${chars.slice(0, mid).join("")}…${tail}`;
    if (t.getComputedTextLength() <= width) lo = mid;
    else hi = mid - 1;
  }
  t.textContent = `${chars.slice(0, lo).join("")}…${tail}`;
}

/** A schema title without the "system." prefix: the node's type as shown under its name ("pipeline run"
 * for system.Run, the execution standing for a whole pipeline run, which holds its parameters). */
export function shortSchema(schema: string): string {
  if (schema === "system.Run") return "pipeline run";
  return schema.startsWith("system.") ? schema.slice(7) : schema;
}

/** Where a node sits relative to the run, in words. */
export function placeText(n: LineageNode): string {
  if (n.side === "start") return "in this run";
  const hops = `${n.hops} hop${n.hops === 1 ? "" : "s"}`;
  return n.side === "upstream" ? `upstream, ${hops}` : `downstream, ${hops}`;
}

export class LineagePanel implements Panel {
  readonly id = "lineage";
  readonly title = "Lineage";
  readonly el: HTMLElement;
  private heading: HTMLElement;
  private directionSelect: HTMLSelectElement;
  private status: HTMLElement;
  private scroller: HTMLElement;
  private details: HTMLElement;
  private shown: LineageGraph | null = null;
  private layout: Layout | null = null;
  private opts: LayoutOptions = DEFAULT_LAYOUT;
  private resize: ResizeObserver | null = null;
  private groups = new Map<string, SVGGElement>();
  private edgeEls: { from: string; to: string; el: SVGPathElement }[] = [];
  private pinned: string | null = null;
  private showing: string | null = null; // the node whose details are shown
  private uid = `tb-l${++panelCount}`;

  constructor(private host: LineageHost) {
    const el = document.createElement("div");
    el.className = "tb-lineage";
    el.hidden = true;
    const bar = document.createElement("div");
    bar.className = "tb-toolbar";
    this.heading = document.createElement("strong");
    this.heading.className = "tb-lineage-title";
    const dirLabel = document.createElement("label");
    dirLabel.className = "tb-field";
    dirLabel.append(document.createTextNode("show "));
    this.directionSelect = document.createElement("select");
    for (const [value, text] of [["both", "inputs and outputs"], ["upstream", "upstream"], ["downstream", "downstream"]]) {
      const o = document.createElement("option");
      o.value = value;
      o.textContent = text;
      this.directionSelect.append(o);
    }
    this.directionSelect.addEventListener("change", () => {
      const cur = this.host.store.lineage;
      if (cur) this.host.requestLineage(cur.run, this.directionSelect.value);
    });
    dirLabel.append(this.directionSelect);
    const legend = this.legend();
    const close = document.createElement("button");
    close.type = "button";
    close.className = "tb-btn tb-lineage-close";
    close.textContent = "close";
    close.setAttribute("aria-label", "close the lineage panel");
    close.addEventListener("click", () => this.host.store.clearLineage());
    this.status = document.createElement("span");
    this.status.className = "tb-status";
    this.status.setAttribute("aria-live", "polite");
    bar.append(this.heading, dirLabel, legend, this.status, close);

    const body = document.createElement("div");
    body.className = "tb-lineage-body";
    this.scroller = document.createElement("div");
    this.scroller.className = "tb-lineage-graph";
    this.details = document.createElement("div");
    this.details.className = "tb-lineage-details";
    this.details.setAttribute("aria-live", "polite");
    body.append(this.scroller, this.details);
    el.append(bar, body);
    this.el = el;
    if (typeof ResizeObserver === "function") {
      // Lay the graph out again when the panel's width changes so much that other box widths fit.
      this.resize = new ResizeObserver(() => {
        const g = this.shown;
        if (!g || !this.layout || !g.nodes.length) return;
        const next = fitLayout(this.layout.layers, this.available());
        if (next.nodeWidth === this.opts.nodeWidth && next.colGap === this.opts.colGap) return;
        const showing = this.showing;
        this.draw(g);
        this.showDetails(showing);
      });
      this.resize.observe(el);
    }
  }

  /** The width the graph may take: the panel's content width (0 while it is not laid out). */
  private available(): number {
    return this.scroller.clientWidth;
  }

  private legend(): HTMLElement {
    const box = document.createElement("span");
    box.className = "tb-lineage-legend";
    const item = (cls: string, text: string, edge: boolean) => {
      const s = svg("svg", { width: edge ? 26 : 16, height: 12, "aria-hidden": "true" });
      if (edge) {
        s.append(svg("line", { x1: 1, y1: 6, x2: 25, y2: 6, class: cls }));
      } else {
        s.append(cls === "tb-lnode-artifact"
          ? svg("rect", { x: 1, y: 1, width: 14, height: 10, rx: 1, class: `tb-lshape ${cls}` })
          : svg("rect", { x: 1, y: 1, width: 14, height: 10, rx: 5, class: `tb-lshape ${cls}` }));
      }
      const span = document.createElement("span");
      span.className = "tb-legend-item";
      span.append(s, document.createTextNode(` ${text}`));
      box.append(span);
    };
    item("tb-lnode-artifact", "artifact", false);
    item("tb-lnode-execution", "execution", false);
    item("tb-ledge-input", "input", true);
    item("tb-ledge-output", "output", true);
    const own = document.createElement("span");
    own.className = "tb-legend-item";
    own.textContent = "thick border: in this run";
    box.append(own);
    return box;
  }

  update(change: Change): void {
    if (change.lineage) this.render();
    else if (change.rows && this.host.store.lineage) this.heading.textContent = this.titleText();
  }

  private titleText(): string {
    const cur = this.host.store.lineage;
    return cur ? `Lineage of ${this.host.runLabel(cur.run)}` : "Lineage";
  }

  private render(): void {
    const cur = this.host.store.lineage;
    this.el.hidden = !cur;
    if (!cur) {
      this.shown = null;
      this.pinned = null;
      return;
    }
    this.heading.textContent = this.titleText();
    if (this.directionSelect.value !== cur.direction) this.directionSelect.value = cur.direction;
    if (cur.error !== null) {
      this.status.textContent = cur.error;
      this.clearGraph();
      return;
    }
    if (!cur.graph) {
      this.status.textContent = "loading the lineage graph…";
      return;
    }
    if (cur.graph === this.shown) return;
    this.shown = cur.graph;
    this.pinned = null;
    const g = cur.graph;
    if (!g.nodes.length) {
      this.status.textContent = "";
      this.clearGraph();
      this.details.textContent =
        "This run has no artifacts or executions yet. Record them with " +
        "trackbook.start_execution(...) and assign_input_artifacts / assign_output_artifacts inside the run.";
      return;
    }
    const arts = g.nodes.filter((n) => n.kind === "artifact").length;
    const cut = g.total > g.nodes.length ? ` (the ${g.nodes.length} nearest of ${g.total})` : "";
    this.status.textContent =
      `${arts} artifact${arts === 1 ? "" : "s"}, ${g.nodes.length - arts} execution${g.nodes.length - arts === 1 ? "" : "s"}, ` +
      `${g.edges.length} event${g.edges.length === 1 ? "" : "s"}${cut}`;
    this.draw(g);
    this.showDetails(null);
  }

  private clearGraph(): void {
    this.scroller.replaceChildren();
    this.details.replaceChildren();
    this.groups.clear();
    this.edgeEls = [];
    this.layout = null;
  }

  private draw(g: LineageGraph): void {
    const pinned = this.pinned;
    this.clearGraph();
    const natural = layoutLineage(g.nodes, g.edges);
    this.opts = fitLayout(natural.layers, this.available());
    const layout = this.opts === DEFAULT_LAYOUT ? natural : layoutLineage(g.nodes, g.edges, this.opts);
    this.layout = layout;
    // Still a little too wide at the narrowest boxes: scaled down to fit (by at most a fifth, so the text
    // stays legible); a graph wider than that scrolls sideways.
    const avail = this.available();
    const scale = avail > 0 && layout.width > avail && layout.width * 0.8 <= avail ? avail / layout.width : 1;
    const root = svg("svg", {
      width: Math.floor(layout.width * scale), height: Math.ceil(layout.height * scale),
      viewBox: `0 0 ${layout.width} ${layout.height}`,
      role: "group", "aria-label": `lineage graph: ${g.nodes.length} nodes, ${g.edges.length} edges`,
    });
    const defs = svg("defs");
    const marker = svg("marker", {
      id: `${this.uid}-arrow`, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
      orient: "auto-start-reverse",
    });
    marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", class: "tb-larrow" }));
    defs.append(marker);
    root.append(defs);
    const edgeLayer = svg("g", { class: "tb-ledges" });
    for (const e of layout.edges) {
      const path = svg("path", {
        d: edgePath(e, this.opts),
        class: `tb-ledge tb-ledge-${e.edge.type === "INPUT" ? "input" : "output"}`,
        "marker-end": `url(#${this.uid}-arrow)`,
      });
      const title = svg("title");
      const path_ = e.edge.path ? ` (${e.edge.path})` : "";
      title.textContent = `${e.edge.type}: ${e.from.node.label} → ${e.to.node.label}${path_}`;
      path.append(title);
      edgeLayer.append(path);
      this.edgeEls.push({ from: e.from.node.id, to: e.to.node.id, el: path });
    }
    root.append(edgeLayer);
    if (layout.looseY !== null) {
      const caption = svg("text", { x: this.opts.pad, y: layout.looseY + 12, class: "tb-lloose" });
      caption.textContent = "not linked by any event:";
      root.append(caption);
    }
    const nodeLayer = svg("g", { class: "tb-lnodes" });
    for (const p of layout.nodes) nodeLayer.append(this.nodeEl(p));
    root.append(nodeLayer);
    this.scroller.append(root);
    // Names longer than their box are cut with an ellipsis, measured in the page's font (the full name is
    // in the node's title and details).
    for (const t of nodeLayer.querySelectorAll<SVGTextElement>("text")) {
      fitText(t, this.opts.nodeWidth - 12, Number(t.dataset.keep ?? 0));
    }
    if (pinned && this.groups.has(pinned)) {
      this.pinned = pinned;
      this.groups.get(pinned)?.classList.add("tb-lnode-pinned");
    }
  }

  private nodeEl(p: Placed): SVGGElement {
    const n = p.node;
    const L = this.opts;
    const own = n.side === "start";
    const g = svg("g", {
      class: `tb-lnode tb-lnode-${n.kind}${own ? " tb-lnode-own" : ""}`,
      transform: `translate(${p.x},${p.y})`,
      tabindex: 0,
      role: "button",
      "data-node": n.id,
    });
    g.setAttribute("aria-label", `${n.kind} ${n.label}, ${shortSchema(n.schema_title)}, ${placeText(n)}`);
    const shape = svg("rect", {
      width: L.nodeWidth, height: L.nodeHeight, rx: n.kind === "execution" ? L.nodeHeight / 2 : 3,
      class: `tb-lshape tb-lnode-${n.kind}`,
    });
    const name = svg("text", { x: L.nodeWidth / 2, y: 17, "text-anchor": "middle", class: "tb-lname" });
    name.textContent = clip(n.label);
    const kind = svg("text", { x: L.nodeWidth / 2, y: 32, "text-anchor": "middle", class: "tb-lkind" });
    const state = n.kind === "execution" && n.state ? ` · ${n.state.toLowerCase()}` : "";
    kind.textContent = `${clip(shortSchema(n.schema_title))}${state}`;
    if (state) kind.dataset.keep = String([...state].length);
    const title = svg("title");
    title.textContent = `${n.label} (${n.schema_title})`;
    g.append(title, shape, name, kind);
    const show = () => this.showDetails(n.id);
    const back = () => this.showDetails(this.pinned);
    g.addEventListener("mouseenter", show);
    g.addEventListener("focus", show);
    g.addEventListener("mouseleave", back);
    g.addEventListener("blur", back);
    const pin = () => {
      this.pinned = this.pinned === n.id ? null : n.id;
      for (const [id, el] of this.groups) el.classList.toggle("tb-lnode-pinned", id === this.pinned);
      this.showDetails(this.pinned ?? n.id);
    };
    g.addEventListener("click", pin);
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        pin();
      }
    });
    this.groups.set(n.id, g);
    return g;
  }

  /** The details of node `id` as text (or a hint when none), and its edges highlighted. */
  private showDetails(id: string | null): void {
    this.showing = id;
    for (const e of this.edgeEls) e.el.classList.toggle("tb-ledge-hot", id !== null && (e.from === id || e.to === id));
    const node = id === null ? undefined : this.layout?.nodes.find((p) => p.node.id === id)?.node;
    if (!node) {
      const hint = document.createElement("p");
      hint.className = "tb-lineage-hint";
      hint.textContent = "Hover or focus a node for its details; click to keep them.";
      this.details.replaceChildren(hint);
      return;
    }
    const dl = document.createElement("dl");
    const add = (k: string, v: string | null) => {
      if (v === null || v === "") return;
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      dl.append(dt, dd);
    };
    const edges = this.shown?.edges ?? [];
    const inputs = edges.filter((e) => e.target === node.id).length;
    const outputs = edges.filter((e) => e.source === node.id).length;
    add("kind", node.kind);
    add("name", node.label);
    add("resource id", node.resource_id);
    add("schema", node.schema_title);
    add("state", node.state);
    add("uri", node.uri);
    add("created", node.create_time);
    add("where", placeText(node));
    add("contexts", node.contexts.join(", "));
    add(node.kind === "execution" ? "reads / writes" : "made by / read by",
      `${inputs} / ${outputs}`);
    this.details.replaceChildren(dl);
  }

  destroy(): void {
    this.resize?.disconnect();
    this.el.remove();
  }
}
