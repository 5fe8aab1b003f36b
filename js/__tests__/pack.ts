// Test helper: series parts packed exactly as src/trackbook/board/encode.py packs them.
import type { PartHeader } from "../protocol";

export interface RawPart {
  run: number;
  key: string;
  mode?: "set" | "append" | "range";
  x: number[];
  t?: number[]; // epoch ms
  y: number[];
  full?: boolean;
  f64?: boolean; // values as float64 (after the wall times, from the next 8-byte boundary)
}

function sizes(p: RawPart): { at: number; size: number } {
  const n = p.x.length;
  const at = 8 * n + (p.f64 ? Math.ceil((4 * n) / 8) * 8 : 4 * n);
  return { at, size: Math.ceil((at + (p.f64 ? 8 : 4) * n) / 8) * 8 };
}

export function pack(parts: RawPart[], lead = 0): { headers: PartHeader[]; buffer: DataView } {
  const headers: PartHeader[] = [];
  let size = 0;
  for (const p of parts) size += sizes(p).size;
  const ab = new ArrayBuffer(size);
  let off = 0;
  for (const p of parts) {
    const n = p.x.length;
    const t = p.t ?? p.x.map((_, i) => 1_700_000_000_000 + i * 1000);
    const t0 = n ? t[0] : 0;
    const { at, size: partSize } = sizes(p);
    new Float64Array(ab, off, n).set(p.x);
    new Float32Array(ab, off + 8 * n, n).set(t.map((v) => (v - t0) / 1000));
    if (p.f64) new Float64Array(ab, off + at, n).set(p.y);
    else new Float32Array(ab, off + at, n).set(p.y);
    headers.push({ run: p.run, key: p.key, mode: p.mode ?? "set", n, off, t0, full: p.full ?? true,
      f64: p.f64 ?? false });
    off += partSize;
  }
  // `lead` bytes before the data model a buffer that arrives at an unaligned offset
  const out = new Uint8Array(lead + size);
  out.set(new Uint8Array(ab), lead);
  return { headers, buffer: new DataView(out.buffer, lead) };
}
