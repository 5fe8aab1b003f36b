import { describe, expect, it } from "vitest";
import { savedCopyRule } from "../saved-copy";

describe("the static copy's rule", () => {
  it("hides the copy of one board and its JupyterLab output", () => {
    const rule = savedCopyRule("0f3a9c");
    expect(rule).toContain('[data-trackbook-saved="0f3a9c"]');
    expect(rule).toContain('.jp-OutputArea-child:has([data-trackbook-saved="0f3a9c"])');
    expect(rule).toMatch(/display: none !important;/);
  });

  it("makes no rule from a uid that could escape the selector", () => {
    for (const uid of ['a"] * {display:none} [x="', "", "a b", "x".repeat(65), "a\\"]) {
      expect(savedCopyRule(uid)).toBe("");
    }
  });
});
