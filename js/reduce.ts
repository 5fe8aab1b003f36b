/**
 * M4 min/max reduction, the browser's twin of src/trackbook/reduce.py: the x range is cut into equal
 * buckets and each keeps its first, last, minimum and maximum point, plus every NaN (a gap), in x order.
 * A line drawn through what is kept shows every extreme the full line shows, so a spike never vanishes.
 */

/** Anything indexable by number with a length: typed arrays and plain arrays. */
export interface NumArray {
  readonly length: number;
  [i: number]: number;
}

/** Sorted indices of the points M4 keeps when reducing (x ascending, y) to `buckets` buckets. */
export function m4Indices(x: NumArray, y: NumArray, n: number, buckets: number): Int32Array {
  if (buckets <= 0) throw new Error(`buckets must be positive, got ${buckets}`);
  if (n <= 4 * buckets) {
    const all = new Int32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    return all;
  }
  const lo = x[0];
  const span = x[n - 1] - lo;
  const keep = new Uint8Array(n);
  let bucket = -1;
  let first = 0;
  let iMin = -1;
  let iMax = -1;
  const close = (last: number) => {
    keep[first] = 1;
    keep[last] = 1;
    if (iMin >= 0) keep[iMin] = 1;
    if (iMax >= 0) keep[iMax] = 1;
  };
  for (let i = 0; i < n; i++) {
    const b = span > 0 ? Math.min(Math.floor(((x[i] - lo) / span) * buckets), buckets - 1) : 0;
    if (b !== bucket) {
      if (bucket >= 0) close(i - 1);
      bucket = b;
      first = i;
      iMin = -1;
      iMax = -1;
    }
    const v = y[i];
    if (Number.isNaN(v)) {
      keep[i] = 1; // a gap stays where it is
      continue;
    }
    if (iMin < 0 || v < y[iMin]) iMin = i;
    if (iMax < 0 || v > y[iMax]) iMax = i;
  }
  if (bucket >= 0) close(n - 1);
  let count = 0;
  for (let i = 0; i < n; i++) count += keep[i];
  const out = new Int32Array(count);
  for (let i = 0, j = 0; i < n; i++) if (keep[i]) out[j++] = i;
  return out;
}

/** Gather `idx` of a typed array into a new one of the same kind. */
export function take<T extends Float64Array | Float32Array>(a: T, idx: Int32Array): T {
  const out = new (a.constructor as { new (n: number): T })(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = a[idx[i]];
  return out;
}
