import { describe, expect, it } from "vitest";
import { decodeRow, decodeValue, unpackParts } from "../protocol";
import { pack } from "./pack";

describe("protocol", () => {
  it("decodes tagged values", () => {
    expect(Number.isNaN(decodeValue({ $f: "NaN" }) as number)).toBe(true);
    expect(decodeValue({ $f: "-Infinity" })).toBe(-Infinity);
    expect(decodeValue({ $i: "12345678901234567890" })).toBe(BigInt("12345678901234567890"));
    expect(decodeValue("<img src=x onerror=alert(1)>")).toBe("<img src=x onerror=alert(1)>");
    expect(decodeValue(undefined)).toBeNull();
  });

  it("decodes a row's params, metrics and last values", () => {
    const r = decodeRow({
      id: 1, name: "a", exp: "e", state: "COMPLETE", start: 0, end: 1, updated: 1,
      params: { lr: 0.1 }, metrics: { m: { $f: "Infinity" } as never }, last: { loss: [5, { $f: "NaN" } as never] },
    });
    expect(r.metrics.m).toBe(Infinity);
    expect(r.last.loss[0]).toBe(5);
    expect(Number.isNaN(r.last.loss[1] as number)).toBe(true);
  });

  it("unpacks parts from an unaligned buffer", () => {
    const { headers, buffer } = pack(
      [{ run: 3, key: "k", x: [1, 2], t: [1_700_000_000_000, 1_700_000_002_000], y: [0.5, -1] }], 3,
    );
    expect(buffer.byteOffset % 8).toBe(3);
    const [p] = unpackParts(headers, buffer);
    expect([...p.x]).toEqual([1, 2]);
    expect([...p.t]).toEqual([1_700_000_000_000, 1_700_000_002_000]);
    expect([...p.y]).toEqual([0.5, -1]);
  });

  it("unpacks float64 values exactly, beside float32 parts, from an unaligned buffer", () => {
    const wide = [1e39, -3.5e38, 1e-40, 123456789, Number.NaN];
    const { headers, buffer } = pack([
      { run: 1, key: "k", x: [0, 1, 2, 3, 4], y: wide, f64: true }, // odd n: the values start 4 bytes later
      { run: 2, key: "k", x: [0, 1], y: [0.25, 2] },
      { run: 3, key: "k", x: [7], y: [1e300], f64: true },
    ], 5);
    const [a, b, c] = unpackParts(headers, buffer);
    expect(a.y).toBeInstanceOf(Float64Array);
    expect([...a.y.subarray(0, 4)]).toEqual([1e39, -3.5e38, 1e-40, 123456789]);
    expect(Number.isNaN(a.y[4])).toBe(true);
    expect([...a.x]).toEqual([0, 1, 2, 3, 4]);
    expect([...b.y]).toEqual([0.25, 2]);
    expect([...c.x, ...c.y]).toEqual([7, 1e300]);
    expect(() => unpackParts([{ ...headers[2], n: 2 }], buffer)).toThrow(/overruns/);
  });

  it("refuses a header that overruns its buffer", () => {
    const { headers, buffer } = pack([{ run: 1, key: "k", x: [1], y: [1] }]);
    expect(() => unpackParts([{ ...headers[0], n: 5 }], buffer)).toThrow(/overruns/);
  });
});
