/**
 * Colours for the canvas, read from the board's CSS custom properties (which follow JupyterLab's
 * --jp-* variables, then VS Code's --vscode-*, then the OS light/dark preference; see styles.css).
 * A canvas cannot use var(), so charts redraw when the theme changes.
 */
export interface Theme {
  fg: string;
  muted: string;
  grid: string;
  bg: string;
  accent: string;
  font: string;
}

export function readTheme(el: Element): Theme {
  const cs = getComputedStyle(el);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  return {
    fg: v("--tb-fg", "#222"),
    muted: v("--tb-muted", "#777"),
    grid: v("--tb-grid", "rgba(128,128,128,0.25)"),
    bg: v("--tb-bg", "#fff"),
    accent: v("--tb-accent", "#1976d2"),
    font: `${v("--tb-font-size", "11px")} ${v("--tb-font", "sans-serif")}`,
  };
}

/** Call `cb` when the page's theme changes: JupyterLab's body data attributes, VS Code's body classes,
 * Colab's html[theme], or the OS colour scheme. Returns the unsubscribe function. */
export function watchTheme(cb: () => void): () => void {
  const observer = new MutationObserver(() => cb());
  const opts = { attributes: true, attributeFilter: ["class", "data-jp-theme-light", "data-jp-theme-name", "theme", "style"] };
  observer.observe(document.documentElement, opts);
  if (document.body) observer.observe(document.body, opts);
  const media = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;
  media?.addEventListener?.("change", cb);
  return () => {
    observer.disconnect();
    media?.removeEventListener?.("change", cb);
  };
}
