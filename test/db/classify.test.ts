import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { classifyChain, type ChainEvidence } from "../../src/db/classify.js";
import { chainOf, diagnose, diagnoseStructure } from "../../src/diagnose/diagnose.js";
import type { ResolvedDb } from "../../src/db/resolve.js";
import { makeBaselineDb, makeVoxDb, sqlite, tmp } from "../helpers.js";

// vox's own: baseline 66, and the integers vox used as its baseline before.
const B = 66;
const H = [1, 33, 35, 37, 38, 40, 41, 42, 59, 60, 61, 62, 63, 64];
const ev = (versions: unknown[], schemaTable: ChainEvidence["schemaTable"] = "ok"): ChainEvidence => ({ exists: true, schemaTable, versions });

describe("classifyChain (the contract's table, in order)", () => {
  it.each([
    ["missing", { exists: false, schemaTable: "absent", versions: [] } as ChainEvidence],
    ["not-a-database", { exists: true, notADatabase: "garbage", schemaTable: "absent", versions: [] } as ChainEvidence],
    ["empty", ev([], "absent")],
    ["empty", ev([])],
    ["current", ev([66n])],
    ["current", ev([59n, 60n, 61n, 62n, 63n, 64n, 66n])], // vox upgraded through releases
    ["behind", ev([59n, 60n])], // vox 60
    ["behind", ev([41n, 42n])], // vox 42
    ["behind", ev([1n])],
    ["ahead", { ...ev([66n, 67n]), holdsBaseline: true }], // a newer vox wrote it
    ["ahead", ev([60n, 66n, 99n])], // structure unknown (remote): the rows decide
    ["legacy", { ...ev([66n, 67n]), holdsBaseline: false }], // above the baseline but lacking parts of it
    ["legacy", ev([66n, 100n, 101n, 116n])], // vox HEAD with ad-hoc apply_migrations rows
    ["legacy", { ...ev([60n, 110n]), holdsBaseline: false }], // baseline + 50 on a vox-60 file
    ["legacy", ev(Array.from({ length: 23 }, (_, i) => BigInt(i + 1)))], // the incremental era, rows 1..23
    ["legacy", ev([59n, 60n, 61n, 62n, 63n, 64n, 65n, 66n])], // 65 was never a vox baseline
    ["legacy", ev([43n])],
    ["legacy", ev(["66"])],
    ["legacy", ev([66n], "other-shape")],
    ["legacy", ev([], "other-shape")],
  ])("%s ← %o", (chain, evidence) => {
    expect(classifyChain(evidence, B, H).chain).toBe(chain);
  });

  it("reports MAX(version) and the unknown rows", () => {
    const c = classifyChain(ev([2n, 66n, 9007199254740993n]), B, H);
    expect(c.chain).toBe("legacy");
    expect(c.maxVersion).toBe(9007199254740993n);
    expect(c.unknownVersions).toEqual(["2", "9007199254740993"]);
  });

  it("a duplicate baseline row does not hide an unknown one", () => {
    expect(classifyChain(ev([66n, 66n]), B, H).chain).toBe("legacy");
  });
});

describe("chainOf: the chain a finished run reports, read the way diagnose reads it", () => {
  it("gives diagnose's chain for each kind of file, without counting rows or comparing structure", async () => {
    const dir = tmp("vox-test-chain-of-");
    const files: [string, string][] = [];
    const add = (name: string, make: (p: string) => void) => {
      const p = join(dir, `${name}.db`);
      make(p);
      files.push([name, p]);
    };
    add("current", (p) => makeBaselineDb(p));
    add("current-drifted", (p) => makeBaselineDb(p, [66]));
    add("behind", (p) => makeVoxDb(p, "60", [59, 60]));
    add("ahead", (p) => makeBaselineDb(p, [66, 67]));
    add("legacy", (p) => makeVoxDb(p, "60", [60, 101]));
    add("legacy-missing-column", (p) => makeBaselineDb(p, [66, 67]));
    add("empty-file", (p) => writeFileSync(p, ""));
    add("not-a-database", (p) => writeFileSync(p, "not sqlite at all, not sqlite at all, not sqlite at all, not sqlite at all, not sqlite at all"));
    files.push(["missing", join(dir, "absent.db")]);
    sqlite(join(dir, "current-drifted.db"), "DROP INDEX IF EXISTS idx_agents_name");
    sqlite(join(dir, "legacy-missing-column.db"), "ALTER TABLE agents DROP COLUMN description");
    const seen = new Set<string>();
    for (const [name, path] of files) {
      const resolved: ResolvedDb = { kind: "file", path, display: path, source: "--db", why: "test", warnings: [] };
      const d = await diagnose(resolved);
      expect(await chainOf(resolved), name).toBe(d.chain);
      // The cutover's check of its new file: diagnose's chain, missing parts and structure, without the counts or objects.
      const s = await diagnoseStructure(resolved);
      expect(s.chain, name).toBe(d.chain);
      expect([s.missingTables, s.missingColumns, s.structure], name).toEqual([d.missingTables, d.missingColumns, d.structure]);
      expect(
        s.tables.map((t) => [t.name, t.rows]),
        name,
      ).toEqual(d.tables.map((t) => [t.name, 0n]));
      expect(s.operatorObjects, name).toBeNull();
      seen.add(d.chain);
    }
    expect([...seen].sort()).toEqual(["ahead", "behind", "current", "empty", "legacy", "missing", "not-a-database"]);
    // The drifted file is "current" but not the target's structure: what makes the check refuse a new file.
    const drifted = await diagnoseStructure({ kind: "file", path: join(dir, "current-drifted.db"), display: "x", source: "--db", why: "test", warnings: [] });
    expect([drifted.chain, drifted.structure?.equal]).toEqual(["current", false]);
  });
});
