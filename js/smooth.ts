/**
 * Exponential moving average as TensorBoard draws it: debiased (the first points are not pulled toward
 * zero) and weighted by `weight` in [0, 1). NaN points stay NaN and are skipped by the average, so a gap
 * stays a gap and does not poison the rest of the line.
 */
export function ema(y: ArrayLike<number>, n: number, weight: number): Float64Array {
  const out = new Float64Array(n);
  if (weight <= 0) {
    for (let i = 0; i < n; i++) out[i] = y[i];
    return out;
  }
  let last = 0;
  let debias = 0;
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    debias = debias * weight + (1 - weight);
    out[i] = last / debias;
  }
  return out;
}
