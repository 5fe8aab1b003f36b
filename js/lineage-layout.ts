/**
 * A layered layout of a lineage graph, left to right the way data flows: each node sits one layer right of
 * the furthest node feeding it (so inputs are left, the executions that read them in the middle, their
 * outputs right), a node that only feeds others sits just left of the first one it feeds, and within a
 * layer nodes are ordered by the mean position of their neighbours (two sweeps) to uncross edges. Cycles
 * (an execution that rewrites its own input) are broken where they are found. Nodes no event links (a
 * pipeline run's own system.Run execution) sit in a row of their own below the flow, not in its first layer.
 * `fitLayout` narrows the boxes and gaps so the graph fits a panel's width. Pure: no DOM.
 */
import type { LineageEdge, LineageNode } from "./protocol";

export interface LayoutOptions {
  nodeWidth: number;
  nodeHeight: number;
  colGap: number; // horizontal space between layers
  rowGap: number; // vertical space between nodes of a layer
  pad: number;
}

export const DEFAULT_LAYOUT: LayoutOptions = { nodeWidth: 200, nodeHeight: 42, colGap: 48, rowGap: 16, pad: 12 };
/** The narrowest boxes and gaps `fitLayout` goes down to; a graph still wider than its panel scrolls. */
export const MIN_NODE_WIDTH = 140;
export const MIN_COL_GAP = 28;
/** Height of the caption line above the row of nodes no event links. */
export const LOOSE_CAPTION = 18;

/** The width of a layout of `layers` layers with these options. */
export function layoutWidth(layers: number, opts: LayoutOptions): number {
  return layers ? 2 * opts.pad + layers * opts.nodeWidth + (layers - 1) * opts.colGap : 0;
}

/** Options for `layers` layers within `available` px: the gaps shrink first, then the boxes, each down to
 * its minimum (MIN_COL_GAP, MIN_NODE_WIDTH); unchanged when the graph fits or the width is unknown (0). */
export function fitLayout(layers: number, available: number, base: LayoutOptions = DEFAULT_LAYOUT): LayoutOptions {
  if (available <= 0 || layers <= 0 || layoutWidth(layers, base) <= available) return base;
  const room = available - 2 * base.pad;
  const gaps = Math.max(layers - 1, 0);
  let colGap = gaps ? Math.max(MIN_COL_GAP, Math.min(base.colGap, (room - layers * base.nodeWidth) / gaps)) : 0;
  let nodeWidth = base.nodeWidth;
  if (layers * nodeWidth + gaps * colGap > room) {
    nodeWidth = Math.max(MIN_NODE_WIDTH, Math.floor((room - gaps * colGap) / layers));
  }
  colGap = gaps ? Math.floor(colGap) : base.colGap;
  return { ...base, nodeWidth, colGap };
}

export interface Placed {
  node: LineageNode;
  layer: number;
  row: number;
  x: number; // top-left corner
  y: number;
}

export interface PlacedEdge {
  edge: LineageEdge;
  from: Placed;
  to: Placed;
  /** The target is not right of the source (an edge closing a cycle): drawn as a loop below. */
  back: boolean;
}

export interface Layout {
  nodes: Placed[];
  edges: PlacedEdge[];
  layers: number;
  width: number;
  height: number;
  /** The y of the caption over the nodes no event links (placed below the flow), or null when none are. */
  looseY: number | null;
}

/** Place `nodes` (in their given order: nearest the run first) and `edges` in layers. */
export function layoutLineage(
  nodes: LineageNode[], edges: LineageEdge[], opts: LayoutOptions = DEFAULT_LAYOUT,
): Layout {
  const n = nodes.length;
  const index = new Map<string, number>();
  nodes.forEach((node, i) => index.set(node.id, i));
  const succ: number[][] = nodes.map(() => []);
  const pred: number[][] = nodes.map(() => []);
  const links: [number, number, LineageEdge][] = [];
  for (const e of edges) {
    const a = index.get(e.source);
    const b = index.get(e.target);
    if (a === undefined || b === undefined) continue;
    links.push([a, b, e]);
    if (a === b) continue;
    succ[a].push(b);
    pred[b].push(a);
  }

  // Nodes no event links, beside a linked flow, go below it rather than into its first layer.
  const linked = nodes.map((_, i) => succ[i].length > 0 || pred[i].length > 0);
  const anyLinked = linked.some(Boolean);
  const loose = new Array<boolean>(n).fill(false);
  if (anyLinked) for (let i = 0; i < n; i++) loose[i] = !linked[i] && !links.some(([a]) => a === i);

  // Longest-path layering (Kahn's order); a cycle is broken at its first node in the given order.
  const layer = new Array<number>(n).fill(-1);
  const indeg = pred.map((p) => p.length);
  const done = new Array<boolean>(n).fill(false);
  let processed = 0;
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
  let next = 0;
  while (processed < n) {
    if (!queue.length) {
      while (done[next]) next++;
      queue.push(next); // in a cycle: take it as if its remaining inputs were not there
    }
    const i = queue.shift() as number;
    if (done[i]) continue;
    done[i] = true;
    processed++;
    let l = 0;
    for (const p of pred[i]) if (done[p] && layer[p] >= 0) l = Math.max(l, layer[p] + 1);
    layer[i] = l;
    for (const s of succ[i]) {
      indeg[s]--;
      if (indeg[s] === 0 && !done[s]) queue.push(s);
    }
  }
  // A node fed by nothing sits just left of the first node it feeds, not far left with a long edge.
  for (let i = 0; i < n; i++) {
    if (pred[i].length || !succ[i].length) continue;
    let m = Infinity;
    for (const s of succ[i]) if (layer[s] > layer[i]) m = Math.min(m, layer[s]);
    if (Number.isFinite(m)) layer[i] = m - 1;
  }
  const low = n ? Math.min(...layer) : 0;
  for (let i = 0; i < n; i++) layer[i] -= low;
  const layers = n ? Math.max(...layer) + 1 : 0;

  // Order within layers: the given order first, then barycentre sweeps (forwards, backwards, forwards).
  const cols: number[][] = Array.from({ length: layers }, () => []);
  for (let i = 0; i < n; i++) if (!loose[i]) cols[layer[i]].push(i);
  const pos = new Array<number>(n).fill(0);
  const setPos = () => cols.forEach((c) => c.forEach((i, r) => { pos[i] = r; }));
  setPos();
  const sweep = (forward: boolean) => {
    const order = forward ? cols.map((_, k) => k) : cols.map((_, k) => layers - 1 - k);
    for (const k of order) {
      const c = cols[k];
      const near = (i: number) => (forward ? pred[i] : succ[i]).filter((j) => layer[j] !== k);
      const key = new Map<number, number>();
      for (const i of c) {
        const ns = near(i);
        key.set(i, ns.length ? ns.reduce((a, j) => a + pos[j], 0) / ns.length : pos[i]);
      }
      c.sort((a, b) => (key.get(a) as number) - (key.get(b) as number) || pos[a] - pos[b]);
      c.forEach((i, r) => { pos[i] = r; });
    }
  };
  sweep(true);
  sweep(false);
  sweep(true);

  const tallest = cols.reduce((m, c) => Math.max(m, c.length), 0);
  const rowH = opts.nodeHeight + opts.rowGap;
  const placed: Placed[] = new Array(n);
  cols.forEach((c, k) => {
    const offset = ((tallest - c.length) * rowH) / 2; // each layer centred on the tallest
    c.forEach((i, r) => {
      placed[i] = {
        node: nodes[i],
        layer: k,
        row: r,
        x: opts.pad + k * (opts.nodeWidth + opts.colGap),
        y: opts.pad + offset + r * rowH,
      };
    });
  });
  const hasBack = links.some(([a, b]) => layer[b] <= layer[a]);
  const usedLayers = cols.filter((c) => c.length).length ? layers : 0;
  let height = tallest ? 2 * opts.pad + tallest * rowH - opts.rowGap + (hasBack ? rowH / 2 : 0) : 0;
  let looseY: number | null = null;
  const looseIdx = nodes.map((_, i) => i).filter((i) => loose[i]);
  if (looseIdx.length) {
    const perRow = Math.max(usedLayers, 1);
    looseY = height;
    const top = height + LOOSE_CAPTION;
    looseIdx.forEach((i, j) => {
      const r = Math.floor(j / perRow);
      const k = j % perRow;
      placed[i] = {
        node: nodes[i], layer: k, row: tallest + r,
        x: opts.pad + k * (opts.nodeWidth + opts.colGap), y: top + r * rowH,
      };
    });
    height = top + Math.ceil(looseIdx.length / perRow) * rowH - opts.rowGap + opts.pad;
  }
  return {
    nodes: placed,
    edges: links.map(([a, b, edge]) => ({ edge, from: placed[a], to: placed[b], back: layer[b] <= layer[a] })),
    layers,
    width: layoutWidth(layers, opts),
    height,
    looseY,
  };
}

/** SVG path data for an edge: a curve from the source's right side to the target's left side, or a loop
 * below the row for an edge closing a cycle. */
export function edgePath(e: PlacedEdge, opts: LayoutOptions = DEFAULT_LAYOUT): string {
  const h = opts.nodeHeight;
  if (!e.back) {
    const x1 = e.from.x + opts.nodeWidth;
    const y1 = e.from.y + h / 2;
    const x2 = e.to.x;
    const y2 = e.to.y + h / 2;
    const dx = Math.max(20, (x2 - x1) / 2);
    return `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
  }
  const x1 = e.from.x + opts.nodeWidth / 2 + 10;
  const y1 = e.from.y + h;
  const x2 = e.to.x + opts.nodeWidth / 2 - 10;
  const y2 = e.to.y + h;
  const low = Math.max(y1, y2) + opts.rowGap + 10;
  return `M${x1},${y1} C${x1},${low} ${x2},${low} ${x2},${y2}`;
}
