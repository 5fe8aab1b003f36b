/**
 * The AFM (anywidget front-end module) of the board. `initialize` runs once per widget model: it builds the
 * model's store from the `_snapshot` trait and applies the kernel's custom messages to it, including
 * messages that arrive before any view exists. `render` mounts a view on that shared store, so two
 * displays of one board share one copy of the data.
 */
import { BoardView, type Model } from "./board";
import type { KernelMessage, Snapshot } from "./protocol";
import { hideSavedCopy } from "./saved-copy";
import { BoardStore } from "./store";
import css from "./styles.css";

const stores = new Map<string, BoardStore>();

type SnapshotTrait = (Snapshot & { data?: unknown }) | undefined;

function loadTrait(store: BoardStore, model: Model): void {
  const snap = model.get("_snapshot") as SnapshotTrait;
  if (snap && Array.isArray(snap.runs) && snap.seq > store.seq) store.load(snap, snap.data);
}

function injectCss(doc: Document): void {
  if (doc.getElementById("trackbook-board-css")) return;
  const style = doc.createElement("style");
  style.id = "trackbook-board-css";
  style.textContent = css;
  doc.head.append(style);
}

export function initialize({ model }: { model: Model }): () => void {
  const uid = String(model.get("_uid") ?? "");
  const store = new BoardStore();
  stores.set(uid, store);
  loadTrait(store, model);
  let lastAsk = 0;
  const resync = () => {
    const now = Date.now();
    if (store.awaitingResync && now - lastAsk < 2000) return;
    store.awaitingResync = true;
    lastAsk = now;
    model.send({ type: "resync", have: store.seq });
  };
  const onMessage = (msg: KernelMessage, buffers?: unknown[]) => {
    if (!msg || typeof msg !== "object") return;
    const buffer = buffers?.[0];
    if (msg.type === "delta") {
      if (store.apply(msg, buffer) === "gap") resync();
    } else if (msg.type === "snapshot") {
      store.loadIfNewer(msg, buffer);
    } else if (msg.type === "range") {
      store.applyRange(msg, buffer);
    } else if (msg.type === "lineage") {
      store.applyLineage(msg);
    }
  };
  const onSnapshot = () => loadTrait(store, model);
  model.on("msg:custom", onMessage);
  model.on("change:_snapshot", onSnapshot);
  // Whatever was sent before this model existed (a reloaded page, a second tab) comes back on request.
  model.send({ type: "hello", have: store.seq });
  return () => {
    model.off("msg:custom", onMessage);
    model.off("change:_snapshot", onSnapshot);
    stores.delete(uid);
  };
}

export function render({ model, el }: { model: Model; el: HTMLElement }): () => void {
  injectCss(el.ownerDocument);
  let store = stores.get(String(model.get("_uid") ?? ""));
  if (!store) {
    store = new BoardStore();
    loadTrait(store, model);
  }
  const view = new BoardView(el, model, store);
  const showCopy = hideSavedCopy(el.ownerDocument, String(model.get("_uid") ?? ""));
  // The kernel stops following the store once every view of a board is gone (its output was cleared).
  model.send({ type: "view", open: true });
  return () => {
    view.destroy();
    showCopy();
    model.send({ type: "view", open: false });
  };
}
