/**
 * One stable colour per run, shared by its table row and its curves: the palette entry at run id mod 20.
 * The 20 are Tableau 10 hues plus ten picked greedily for the largest CIELAB distance to all before them
 * (so neighbouring run ids differ most), all of a middle lightness that reads on light and dark themes
 * (contrast >= 2.2:1 on white and >= 3:1 on #1e1e1e; js/__tests__/colors.test.ts checks both).
 * src/trackbook/board/html.py holds the same list for the static fallback (a test checks they agree).
 */
export const PALETTE = [
  "#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#c9a227", "#ba55d3", "#9c755f", "#5fa2ce",
  "#d37295", "#c71585", "#a65628", "#6495ed", "#9467bd", "#e9967a", "#1b9e77", "#66a61e", "#e377c2", "#a6761d",
];

export function colorOf(runId: number): string {
  return PALETTE[((runId % PALETTE.length) + PALETTE.length) % PALETTE.length];
}
