/** One stable colour per run, shared by its table row and its curves: the palette entry at run id mod 12.
 * src/trackbook/board/html.py holds the same list for the static fallback (a test checks they agree). */
export const PALETTE = [
  "#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2",
  "#c9a227", "#ff9da7", "#9c755f", "#5fa2ce", "#d37295", "#8cd17d",
];

export function colorOf(runId: number): string {
  return PALETTE[((runId % PALETTE.length) + PALETTE.length) % PALETTE.length];
}
