/**
 * A tiny static host for the board: an object with the AFM model interface (get, set, on, off,
 * save_changes, send) over state embedded in a page, so the same bundle renders with no kernel.
 * `Board.to_html()` and `trackbook.board.html.standalone()` write pages that call `mountStatic`.
 */
import { initialize, render } from "./afm";
import type { Model } from "./board";
import { fromBase64 } from "./protocol";

export interface StaticOptions {
  x_axis?: string;
  log_y?: boolean;
  smoothing?: number;
  selection?: number[];
  baseline?: number;
  view?: Record<string, unknown>;
}

let count = 0;

export function staticModel(attrs: Record<string, unknown>): Model {
  const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
  const emit = (name: string) => {
    for (const cb of listeners.get(name) ?? []) cb();
  };
  return {
    get: (name) => attrs[name],
    set: (name, value) => {
      attrs[name] = value;
      emit(`change:${name}`);
    },
    save_changes: () => undefined,
    on: (name, cb) => {
      if (!listeners.has(name)) listeners.set(name, new Set());
      listeners.get(name)?.add(cb);
    },
    off: (name, cb) => {
      if (!name) listeners.clear();
      else if (!cb) listeners.delete(name);
      else listeners.get(name)?.delete(cb);
    },
    send: () => undefined, // no kernel: zooming shows the points the page holds
  };
}

/** Render a board into `el` from a state embedded in a page (buffers as base64). */
export function mountStatic(el: HTMLElement, state: Record<string, unknown>, options: StaticOptions = {}): Model {
  const data = typeof state.data === "string" ? fromBase64(state.data) : new Uint8Array(0);
  const model = staticModel({
    _uid: `static-${++count}`,
    _static: true,
    _snapshot: { ...state, data },
    _selection: options.selection ?? [],
    _baseline: options.baseline ?? -1,
    _view: options.view ?? {},
    _px: 800,
    x_axis: options.x_axis ?? "step",
    log_y: options.log_y ?? false,
    smoothing: options.smoothing ?? 0,
    follow_new: false,
    metrics: null,
  });
  initialize({ model });
  render({ model, el });
  return model;
}
