import { describe, expect, it } from "vitest";
import { classifyChain, type ChainEvidence } from "../../src/db/classify.js";

const B = 60;
const H = [56, 58];
const ev = (versions: unknown[], schemaTable: ChainEvidence["schemaTable"] = "ok"): ChainEvidence => ({ exists: true, schemaTable, versions });

describe("classifyChain (the contract's table, in order)", () => {
  it.each([
    ["missing", { exists: false, schemaTable: "absent", versions: [] } as ChainEvidence],
    ["not-a-database", { exists: true, notADatabase: "garbage", schemaTable: "absent", versions: [] } as ChainEvidence],
    ["empty", ev([], "absent")],
    ["empty", ev([])],
    ["current", ev([60n])],
    ["current", ev([56n, 58n, 60n])],
    ["behind", ev([58n])],
    ["behind", ev([56n, 58n])],
    ["ahead", ev([60n, 61n])],
    ["ahead", ev([56n, 60n, 99n])],
    ["legacy", ev([1n, 2n, 17n, 51n])],
    ["legacy", ev([60n, 51n])],
    ["legacy", ev([57n])],
    ["legacy", ev([61n, 57n])],
    ["legacy", ev(["60"])],
    ["legacy", ev([60n], "other-shape")],
    ["legacy", ev([], "other-shape")],
  ])("%s ← %o", (chain, evidence) => {
    expect(classifyChain(evidence, B, H).chain).toBe(chain);
  });

  it("reports MAX(version) and the unknown rows", () => {
    const c = classifyChain(ev([1n, 60n, 9007199254740993n]), B, H);
    expect(c.chain).toBe("legacy");
    expect(c.maxVersion).toBe(9007199254740993n);
    expect(c.unknownVersions).toEqual(["1", "9007199254740993"]);
  });

  it("a duplicate baseline row does not hide an unknown one", () => {
    expect(classifyChain(ev([60n, 60n]), B, H).chain).toBe("legacy");
  });
});
