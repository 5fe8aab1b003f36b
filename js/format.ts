/** Text for a cell of the run table: numbers compact but exact enough to compare runs. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "NaN";
    if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return trimExp(v.toExponential(3));
    return String(Number(v.toPrecision(4)));
  }
  return String(v);
}

function trimExp(s: string): string {
  // 1.200e-5 -> 1.2e-5, as the Python side writes it
  const [m, e] = s.split("e");
  const mant = m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m;
  return `${mant}e${Number(e)}`;
}

/** A signed difference against the baseline: "+0.012", "-3", or "=" for the same value. */
export function formatDelta(d: number): string {
  if (d === 0) return "=";
  const s = formatValue(Math.abs(d));
  return (d > 0 ? "+" : "-") + s;
}

/** A duration in seconds as "42s", "3m 05s", "2h 07m". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** Epoch seconds as local "YYYY-MM-DD HH:MM:SS" (the static fallback writes the same). */
export function formatDateTime(epochSeconds: number | null | undefined): string {
  if (epochSeconds === null || epochSeconds === undefined || !Number.isFinite(epochSeconds)) return "";
  const d = new Date(epochSeconds * 1000);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** A start time in little room: the time of day when it is today, else the date and time to the minute. */
export function formatWhen(epochSeconds: number | null | undefined, now = Date.now() / 1000): string {
  if (epochSeconds === null || epochSeconds === undefined || !Number.isFinite(epochSeconds)) return "";
  const d = new Date(epochSeconds * 1000);
  const today = new Date(now * 1000);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
