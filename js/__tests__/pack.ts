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
}

export function pack(parts: RawPart[], lead = 0): { headers: PartHeader[]; buffer: DataView } {
  const headers: PartHeader[] = [];
  let size = 0;
  for (const p of parts) size += Math.ceil((16 * p.x.length) / 8) * 8;
  const ab = new ArrayBuffer(size);
  let off = 0;
  for (const p of parts) {
    const n = p.x.length;
    const t = p.t ?? p.x.map((_, i) => 1_700_000_000_000 + i * 1000);
    const t0 = n ? t[0] : 0;
    new Float64Array(ab, off, n).set(p.x);
    new Float32Array(ab, off + 8 * n, n).set(t.map((v) => (v - t0) / 1000));
    new Float32Array(ab, off + 12 * n, n).set(p.y);
    headers.push({ run: p.run, key: p.key, mode: p.mode ?? "set", n, off, t0, full: p.full ?? true });
    off += Math.ceil((16 * n) / 8) * 8;
  }
  // `lead` bytes before the data model a buffer that arrives at an unaligned offset
  const out = new Uint8Array(lead + size);
  out.set(new Uint8Array(ab), lead);
  return { headers, buffer: new DataView(out.buffer, lead) };
}
