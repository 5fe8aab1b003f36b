import { describe, expect, it } from "vitest";
import {
  DEFAULT_LAYOUT, MIN_COL_GAP, MIN_NODE_WIDTH, edgePath, fitLayout, layoutLineage, layoutWidth,
} from "../lineage-layout";
import { clip, placeText, shortSchema } from "../lineage";
import { decodeLineage, type LineageEdge, type LineageNode } from "../protocol";

function node(id: string, kind: "artifact" | "execution" = id.startsWith("x") ? "execution" : "artifact"): LineageNode {
  return {
    id, kind, label: id, resource_id: id, schema_title: kind === "artifact" ? "system.Dataset" : "system.ContainerExecution",
    state: null, uri: null, side: "start", hops: 0, create_time: null, contexts: [],
  };
}

function edge(source: string, target: string): LineageEdge {
  return { source, target, type: source.startsWith("x") ? "OUTPUT" : "INPUT", path: null };
}

function layers(nodes: LineageNode[], edges: LineageEdge[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of layoutLineage(nodes, edges).nodes) out[p.node.id] = p.layer;
  return out;
}

describe("layoutLineage", () => {
  it("puts inputs left, executions in the middle and outputs right, layer by layer", () => {
    // raw -> xsplit -> train -> xfit -> model
    const nodes = ["model", "xfit", "train", "xsplit", "raw"].map((id) => node(id));
    const edges = [edge("raw", "xsplit"), edge("xsplit", "train"), edge("train", "xfit"), edge("xfit", "model")];
    expect(layers(nodes, edges)).toEqual({ raw: 0, xsplit: 1, train: 2, xfit: 3, model: 4 });
    const lay = layoutLineage(nodes, edges);
    const xs = Object.fromEntries(lay.nodes.map((p) => [p.node.id, p.x]));
    expect(xs.raw).toBeLessThan(xs.xsplit);
    expect(xs.xfit).toBeLessThan(xs.model);
    expect(lay.layers).toBe(5);
    expect(lay.edges.every((e) => !e.back)).toBe(true);
  });

  it("places a node that only feeds others just left of the first one it feeds", () => {
    // config feeds only the late execution xfit: it sits in the layer before it, not far left
    const nodes = ["raw", "xsplit", "train", "xfit", "model", "config"].map((id) => node(id));
    const edges = [edge("raw", "xsplit"), edge("xsplit", "train"), edge("train", "xfit"), edge("xfit", "model"),
      edge("config", "xfit")];
    const got = layers(nodes, edges);
    expect(got.config).toBe(got.xfit - 1);
    expect(got.raw).toBe(0);
  });

  it("gives every node its own slot and a box that holds them", () => {
    const nodes = ["raw", "xa", "xb", "m1", "m2", "m3"].map((id) => node(id));
    const edges = [edge("raw", "xa"), edge("raw", "xb"), edge("xa", "m1"), edge("xb", "m2"), edge("xb", "m3")];
    const lay = layoutLineage(nodes, edges);
    const slots = new Set(lay.nodes.map((p) => `${p.layer}/${p.row}`));
    expect(slots.size).toBe(nodes.length);
    for (const p of lay.nodes) {
      expect(p.x + DEFAULT_LAYOUT.nodeWidth).toBeLessThanOrEqual(lay.width);
      expect(p.y + DEFAULT_LAYOUT.nodeHeight).toBeLessThanOrEqual(lay.height);
    }
    const ys = new Set(lay.nodes.filter((p) => p.layer === 2).map((p) => p.y));
    expect(ys.size).toBe(3); // no two outputs on top of each other
  });

  it("orders a layer by its neighbours, uncrossing edges", () => {
    // given order puts b's output first although b is below a: the sweep swaps them
    const nodes = ["xa", "xb", "ob", "oa"].map((id) => node(id));
    const edges = [edge("xa", "oa"), edge("xb", "ob")];
    const lay = layoutLineage(nodes, edges);
    const row = Object.fromEntries(lay.nodes.map((p) => [p.node.id, p.row]));
    expect(row.xa).toBeLessThan(row.xb);
    expect(row.oa).toBeLessThan(row.ob);
  });

  it("terminates on a cycle and draws the closing edge as a loop", () => {
    // an execution that rewrites its own input table
    const nodes = [node("table"), node("xupdate")];
    const edges = [edge("table", "xupdate"), edge("xupdate", "table")];
    const lay = layoutLineage(nodes, edges);
    expect(lay.nodes.length).toBe(2);
    const back = lay.edges.filter((e) => e.back);
    expect(back.length).toBe(1);
    expect(edgePath(back[0])).toMatch(/^M[\d.]+,[\d.]+ C/);
    expect(lay.height).toBeGreaterThan(DEFAULT_LAYOUT.nodeHeight + 2 * DEFAULT_LAYOUT.pad);
  });

  it("lays out nothing for an empty graph and ignores edges to unknown nodes", () => {
    expect(layoutLineage([], []).width).toBe(0);
    const lay = layoutLineage([node("a")], [edge("a", "zzz")]);
    expect(lay.edges.length).toBe(0);
    expect(lay.nodes[0].layer).toBe(0);
  });
});

describe("fitting the panel", () => {
  // load -> data -> train -> model: four layers, 968 px at the default sizes
  const nodes = ["xload", "data", "xtrain", "model"].map((id) => node(id));
  const edges = [edge("xload", "data"), edge("data", "xtrain"), edge("xtrain", "model")];

  it("narrows gaps, then boxes, so a four-layer graph fits a 950 px panel", () => {
    expect(layoutLineage(nodes, edges).width).toBeGreaterThan(950);
    for (const available of [950, 800, 700]) {
      const opts = fitLayout(4, available);
      const lay = layoutLineage(nodes, edges, opts);
      expect(lay.width).toBeLessThanOrEqual(available);
      for (const p of lay.nodes) expect(p.x + opts.nodeWidth).toBeLessThanOrEqual(available);
      expect(opts.nodeWidth).toBeGreaterThanOrEqual(MIN_NODE_WIDTH);
      expect(opts.colGap).toBeGreaterThanOrEqual(MIN_COL_GAP);
    }
    expect(fitLayout(4, 950).nodeWidth).toBe(DEFAULT_LAYOUT.nodeWidth); // the gaps alone make room
  });

  it("keeps the default sizes when the graph fits or the width is unknown, and its minimum beyond", () => {
    expect(fitLayout(3, 950)).toBe(DEFAULT_LAYOUT);
    expect(fitLayout(9, 0)).toBe(DEFAULT_LAYOUT);
    const tight = fitLayout(12, 600); // too many layers for any box width: scrolls at the minimum sizes
    expect(tight.nodeWidth).toBe(MIN_NODE_WIDTH);
    expect(tight.colGap).toBe(MIN_COL_GAP);
    expect(layoutWidth(12, tight)).toBeGreaterThan(600);
  });
});

describe("nodes no event links", () => {
  it("puts a pipeline run's own execution in a row below the flow, not in its first layer", () => {
    const run: LineageNode = { ...node("xpipe"), schema_title: "system.Run", label: "pipe-1" };
    const nodes = [run, ...["xload", "data", "xtrain", "model"].map((id) => node(id))];
    const edges = [edge("xload", "data"), edge("data", "xtrain"), edge("xtrain", "model")];
    const lay = layoutLineage(nodes, edges);
    const placed = Object.fromEntries(lay.nodes.map((p) => [p.node.id, p]));
    const flowBottom = Math.max(...["xload", "data", "xtrain", "model"].map((id) => placed[id].y));
    expect(lay.looseY).not.toBeNull();
    expect(lay.looseY as number).toBeGreaterThan(flowBottom + DEFAULT_LAYOUT.nodeHeight - 1);
    expect(placed.xpipe.y).toBeGreaterThan(lay.looseY as number);
    expect(placed.xpipe.y + DEFAULT_LAYOUT.nodeHeight).toBeLessThanOrEqual(lay.height);
    expect(placed.xload.row).toBe(0); // the flow's first layer holds load alone
    expect(lay.nodes.filter((p) => p.layer === 0 && p.y < (lay.looseY as number)).length).toBe(1);
    expect(shortSchema("system.Run")).toBe("pipeline run");
    expect(shortSchema("system.Dataset")).toBe("Dataset");
  });

  it("keeps a graph of unlinked nodes alone as it was: no caption", () => {
    const lay = layoutLineage([node("a"), node("b")], []);
    expect(lay.looseY).toBeNull();
    expect(lay.nodes.every((p) => p.layer === 0)).toBe(true);
  });
});

describe("lineage data", () => {
  it("decodes a graph defensively: text stays text, bad edges are dropped", () => {
    const g = decodeLineage({
      nodes: [
        { id: "artifacts/1", kind: "artifact", label: "<img src=x onerror=alert(1)>", schema_title: "system.Model",
          side: "upstream", hops: 2, contexts: ["exp-r1"], uri: null },
        { id: "executions/2", kind: "weird", label: null, resource_id: "r2" },
        { id: "artifacts/1", kind: "artifact", label: "duplicate" },
      ],
      edges: [{ source: "artifacts/1", target: "executions/2", type: "INPUT" }, { source: "x", target: "y" }],
      total: 9,
    });
    expect(g.nodes.map((n) => n.label)).toEqual(["<img src=x onerror=alert(1)>", "r2"]);
    expect(g.nodes[1].kind).toBe("artifact");
    expect(g.edges.length).toBe(1);
    expect(g.total).toBe(9);
    expect(placeText(g.nodes[0])).toBe("upstream, 2 hops");
    expect(clip("a".repeat(40), 10)).toBe(`${"a".repeat(9)}…`);
  });
});
