import { describe, expect, it } from "vitest";
import { formatValue } from "../format";

describe("formatValue", () => {
  it("keeps integers whole and rounds floats to 4 significant digits", () => {
    expect(formatValue(32)).toBe("32");
    expect(formatValue(0.123456)).toBe("0.1235");
  });
  it("spells out non-finite numbers and uses exponents for tiny or huge ones", () => {
    expect(formatValue(NaN)).toBe("NaN");
    expect(formatValue(-Infinity)).toBe("-∞");
    expect(formatValue(0.00001234)).toBe("1.234e-5");
  });
  it("shows strings as they are and null as empty", () => {
    expect(formatValue("<b>x</b>")).toBe("<b>x</b>");
    expect(formatValue(null)).toBe("");
  });
});
