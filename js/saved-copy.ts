/**
 * The static copy of a board. In a notebook the kernel shows a board as two outputs: the live widget, and a
 * static copy of its table and charts (an output of its own, kept up to date by the kernel, marked
 * `data-trackbook-saved="<uid>"`) that a notebook reopened without a kernel, an export or a viewer shows.
 * While a live view of the board is on the page, a style rule hides that copy.
 */

const views = new Map<string, number>();

/** The rule hiding a board's static copy (and, in JupyterLab, its whole output), or "" for an odd uid. */
export function savedCopyRule(uid: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(uid)) return "";
  const copy = `[data-trackbook-saved="${uid}"]`;
  return `${copy}, .jp-OutputArea-child:has(${copy}) { display: none !important; }`;
}

/** Hide the static copy of board `uid` while this view lives; the returned function undoes it (the rule
 * goes with the board's last view, so a closed board leaves its copy showing). */
export function hideSavedCopy(doc: Document, uid: string): () => void {
  const rule = savedCopyRule(uid);
  if (!rule) return () => undefined;
  const id = `trackbook-live-${uid}`;
  views.set(uid, (views.get(uid) ?? 0) + 1);
  if (!doc.getElementById(id)) {
    const style = doc.createElement("style");
    style.id = id;
    style.textContent = rule;
    doc.head.append(style);
  }
  return () => {
    const left = (views.get(uid) ?? 1) - 1;
    if (left > 0) {
      views.set(uid, left);
      return;
    }
    views.delete(uid);
    doc.getElementById(id)?.remove();
  };
}
