/** Step outputs read back from the journal are checked through their schema: typed when they match, absent when they do not (never cast). */
import { describe, expect, it } from "vitest";
import { outputOf, StepOutputs } from "../../src/engine/step-outputs.js";
import { defineStep, type RunContext } from "../../stages/types.js";

describe("outputOf", () => {
  const good = new Map<string, Record<string, unknown>>([
    [
      "export",
      {
        path: "/w/backup.jsonl",
        sha256: "ab",
        rows: 3,
        bytes: 10,
        identity: { size: 1, mtimeNs: "1", changeCounter: 1, walSize: null, walMtimeNs: null },
        tables: [{ name: "users", rows: 3, sha256: "x" }],
        file: { dev: "1", ino: "2", size: 10, mtimeNs: "5", fingerprint: "f" },
        summary: "s",
      },
    ],
    ["swap", { archive: "/w/archive/vox.db", archiveFile: null, summary: "s" }],
    [
      "build-import",
      {
        path: "/n",
        loaded: 2,
        quarantined: 1,
        integrity: "ok",
        foreignKeyViolations: [],
        ftsRebuilt: [],
        sequences: null,
        file: { dev: "1", ino: "3", size: 10, mtimeNs: "5", fingerprint: "f" },
        tables: [{ name: "users", target: "users", rows: 3, loaded: 2, quarantined: 1, reasons: { "not-null": 1 } }],
        evidence: {
          tables: [],
          rowsIn: 3,
          loaded: 2,
          quarantined: 1,
          partial: 0,
          columnsToQuarantine: [],
          orphans: [],
          sequences: { entries: 0, restored: 0, quarantined: 0 },
          backupVerified: true,
          objects: { carried: [], notCarried: [{ type: "index", name: "i", table: "users", sql: "CREATE INDEX i ON users(x)", reason: "no column x" }] },
        },
      },
    ],
  ]);
  it("returns the recorded outputs typed when they match", () => {
    expect(outputOf(good, "export")?.tables[0]).toMatchObject({ name: "users", rows: 3 });
    expect(outputOf(good, "swap")?.archive).toBe("/w/archive/vox.db");
    expect(outputOf(good, "build-import")?.evidence.objects?.notCarried[0]?.reason).toBe("no column x");
    expect(outputOf(good, "verify-backup")).toBeUndefined(); // not run
  });
  it.each([
    ["export", { path: "/w/b", sha256: 12, rows: 3 }], // a field of the wrong type
    ["swap", { archive: null }],
    ["build-import", { path: "/n", loaded: "2", quarantined: 1, tables: [] }],
    ["verify-backup", { verified: "yes", sha256: "x", rows: 1 }],
  ] as const)("a recorded %s output of another shape reads as absent", (id, raw) => {
    expect(outputOf(new Map([[id, raw as Record<string, unknown>]]), id)).toBeUndefined();
  });
});

describe("StepOutputs: what is journaled goes through the step's schema", () => {
  it("records a step's outputs checked (undeclared fields dropped), with its summary", () => {
    const o = new StepOutputs();
    const kept = o.record("verify-backup", { verified: true, sha256: "ab", rows: 3, stray: 1 }, "3 rows");
    expect(kept).toEqual({ verified: true, sha256: "ab", rows: 3, summary: "3 rows" });
    expect(o.get("verify-backup")?.rows).toBe(3);
    expect(o.recorded("verify-backup")?.summary).toBe("3 rows");
  });
  it("refuses outputs of another shape (a defect): nothing is recorded, the error names the field", () => {
    const o = new StepOutputs();
    expect(() => o.record("swap", { archive: 5, archiveFile: null }, "s")).toThrow(/Step swap produced outputs of another shape.*archive/);
    expect(o.recorded("swap")).toBeUndefined();
  });
  it("need: a later step without the outputs it rests on stops with a clear error", () => {
    expect(() => new StepOutputs().need("export")).toThrow(/outputs of step export are missing/);
  });
});

describe("defineStep: reuse reads the recorded outputs checked", () => {
  const step = defineStep({
    id: "verify-backup",
    stage: 1,
    kind: "read",
    title: "t",
    describe: () => "d",
    reuse: "check",
    reusable: (_c, o) => o.verified,
    run: async () => ({ summary: "s", outputs: { verified: true, sha256: "ab", rows: 1 } }),
  });
  const ctx = {} as RunContext;
  it.each([
    [{ verified: true, sha256: "ab", rows: 1, summary: "s" }, true],
    [{ verified: false, sha256: "ab", rows: 1 }, false],
    [{ verified: true }, false], // another shape: not reused
  ])("%j → %s", (raw, want) => expect(step.reusable?.(ctx, raw)).toBe(want));
});
