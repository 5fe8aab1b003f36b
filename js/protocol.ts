/**
 * The messages between the kernel (src/trackbook/board/) and the browser, and how their data is decoded.
 * docs/board.md documents the protocol; src/trackbook/board/encode.py is the other side.
 */

/** A param, metric or series value as the table shows and sorts it. */
export type Value = number | string | boolean | bigint | null;

/** One run of the table, as the kernel sends it. */
export interface RunRow {
  id: number;
  name: string;
  exp: string;
  state: string;
  start: number; // epoch seconds
  end: number | null;
  updated: number;
  seen?: number | null; // last sign of life: the latest heartbeat or logged point (epoch seconds)
  params: Record<string, Value>;
  metrics: Record<string, Value>;
  last: Record<string, [number, Value]>; // series key -> [step, value]
}

/** Where one series part sits in a message's buffer. */
export interface PartHeader {
  run: number;
  key: string;
  mode: "set" | "append" | "range";
  n: number;
  off: number;
  t0: number;
  full: boolean;
  f64?: boolean; // values sent as float64 (float32 would show them wrong); absent in older snapshots
}

/** A decoded series part: steps, wall times (epoch ms) and values (float64 here, whatever they travelled as). */
export interface Part {
  run: number;
  key: string;
  mode: "set" | "append" | "range";
  x: Float64Array;
  t: Float64Array;
  y: Float64Array;
  full: boolean;
}

export interface Snapshot {
  seq: number;
  experiments: string[];
  wanted: string[] | null;
  runs: RunRow[];
  keys: string[];
  charts: string[];
  loading: number;
  series: PartHeader[];
}

export interface DeltaMessage {
  type: "delta";
  seq: number;
  runs?: RunRow[];
  removed?: number[];
  keys?: string[];
  charts?: string[];
  drop?: [number, string][];
  loading?: number;
  series: PartHeader[];
}

export interface SnapshotMessage extends Snapshot {
  type: "snapshot";
}

export interface RangeMessage {
  type: "range";
  id: number;
  key: string;
  series: PartHeader[];
}

/** A node of a lineage graph (src/trackbook/board/lineage.py, from LineageGraph.to_dict()). */
export interface LineageNode {
  id: string;
  kind: "artifact" | "execution";
  label: string;
  resource_id: string;
  schema_title: string;
  state: string | null;
  uri: string | null;
  side: "start" | "upstream" | "downstream";
  hops: number;
  create_time: string | null;
  contexts: string[];
}

/** An event between an artifact and an execution, pointing the way data flows. */
export interface LineageEdge {
  source: string;
  target: string;
  type: "INPUT" | "OUTPUT";
  path: string | null;
}

export interface LineageGraph {
  origin: string;
  direction: string;
  nodes: LineageNode[];
  edges: LineageEdge[];
  total: number;
}

export interface LineageMessage {
  type: "lineage";
  id: number;
  run: number;
  direction: string;
  graph?: unknown;
  error?: string;
}

export type KernelMessage = DeltaMessage | SnapshotMessage | RangeMessage | LineageMessage;

function text(v: unknown): string {
  return typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
}

function maybeText(v: unknown): string | null {
  return v === null || v === undefined ? null : text(v);
}

/** A lineage graph from the kernel, every field checked: strings stay strings (shown as text), unknown
 * kinds and event types fall back to their neighbours' defaults, edges to missing nodes are dropped. */
export function decodeLineage(raw: unknown): LineageGraph {
  const g = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const nodes: LineageNode[] = [];
  const seen = new Set<string>();
  for (const r of Array.isArray(g.nodes) ? g.nodes : []) {
    const n = (r && typeof r === "object" ? r : {}) as Record<string, unknown>;
    const id = text(n.id);
    if (!id || seen.has(id)) continue;
    seen.add(id);
    const side = n.side === "upstream" || n.side === "downstream" ? n.side : "start";
    nodes.push({
      id,
      kind: n.kind === "execution" ? "execution" : "artifact",
      label: text(n.label) || text(n.resource_id) || id,
      resource_id: text(n.resource_id),
      schema_title: text(n.schema_title),
      state: maybeText(n.state),
      uri: maybeText(n.uri),
      side,
      hops: typeof n.hops === "number" && Number.isFinite(n.hops) ? n.hops : 0,
      create_time: maybeText(n.create_time),
      contexts: Array.isArray(n.contexts) ? n.contexts.map(text) : [],
    });
  }
  const edges: LineageEdge[] = [];
  for (const r of Array.isArray(g.edges) ? g.edges : []) {
    const e = (r && typeof r === "object" ? r : {}) as Record<string, unknown>;
    const source = text(e.source);
    const target = text(e.target);
    if (!seen.has(source) || !seen.has(target)) continue;
    edges.push({ source, target, type: e.type === "INPUT" ? "INPUT" : "OUTPUT", path: maybeText(e.path) });
  }
  const total = typeof g.total === "number" && Number.isFinite(g.total) ? g.total : nodes.length;
  return { origin: text(g.origin), direction: text(g.direction), nodes, edges, total };
}

/** Decode a JSON value: tagged non-finite floats ({"$f": "NaN"}) and big integers ({"$i": "123"}). */
export function decodeValue(v: unknown): Value {
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o.$f === "string") {
      return o.$f === "NaN" ? NaN : o.$f === "Infinity" ? Infinity : -Infinity;
    }
    if (typeof o.$i === "string") {
      try {
        return BigInt(o.$i);
      } catch {
        return o.$i;
      }
    }
    return JSON.stringify(v);
  }
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") return v;
  return null;
}

function decodeValues(o: Record<string, unknown> | undefined): Record<string, Value> {
  const out: Record<string, Value> = {};
  if (!o) return out;
  for (const k of Object.keys(o)) out[k] = decodeValue(o[k]);
  return out;
}

/** A run row from the kernel with every tagged value decoded. */
export function decodeRow(raw: RunRow): RunRow {
  const last: Record<string, [number, Value]> = {};
  for (const k of Object.keys(raw.last ?? {})) {
    const [step, v] = raw.last[k] as [number, unknown];
    last[k] = [step, decodeValue(v)];
  }
  return {
    ...raw,
    name: String(raw.name),
    exp: String(raw.exp),
    params: decodeValues(raw.params as Record<string, unknown>),
    metrics: decodeValues(raw.metrics as Record<string, unknown>),
    last,
  };
}

/** A view of a buffer as bytes, whatever form it arrived in (DataView, ArrayBuffer, typed array). */
export function asBytes(buf: unknown): Uint8Array {
  if (buf instanceof Uint8Array) return buf;
  if (buf instanceof ArrayBuffer) return new Uint8Array(buf);
  if (ArrayBuffer.isView(buf)) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return new Uint8Array(0);
}

/** Where a part's values start, from its offset: after the steps and wall times, 8-aligned for float64. */
function valueOffset(n: number, f64: boolean): number {
  return 8 * n + (f64 ? Math.ceil((4 * n) / 8) * 8 : 4 * n);
}

/**
 * The parts of a message: for each header, n float64 steps, n float32 seconds after t0, n values (float32,
 * or float64 from the next 8-byte boundary when the header says f64). Typed-array views need aligned
 * offsets, so a buffer that arrives unaligned is copied once.
 */
export function unpackParts(headers: PartHeader[], buffer: unknown): Part[] {
  let bytes = asBytes(buffer);
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice();
  const base = bytes.byteOffset;
  const ab = bytes.buffer as ArrayBuffer;
  const out: Part[] = [];
  for (const h of headers ?? []) {
    const n = h.n;
    const f64 = h.f64 === true;
    const at = valueOffset(n, f64);
    if (h.off + at + (f64 ? 8 : 4) * n > bytes.byteLength) {
      throw new Error(`series part for run ${h.run} overruns its buffer`);
    }
    const x = new Float64Array(ab, base + h.off, n).slice();
    const secs = new Float32Array(ab, base + h.off + 8 * n, n);
    const y = f64 ? new Float64Array(ab, base + h.off + at, n).slice()
      : Float64Array.from(new Float32Array(ab, base + h.off + at, n));
    const t = new Float64Array(n);
    for (let i = 0; i < n; i++) t[i] = h.t0 + secs[i] * 1000;
    out.push({ run: h.run, key: String(h.key), mode: h.mode, x, t, y, full: h.full });
  }
  return out;
}

/** Base64 text to bytes (the standalone page embeds buffers this way). */
export function fromBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
