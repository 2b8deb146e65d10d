/** Step outputs read back from the journal are checked through their schema: typed when they match, absent when they do not (never cast). */
import { describe, expect, it } from "vitest";
import { outputOf } from "../../src/engine/step-outputs.js";

describe("outputOf", () => {
  const good = new Map<string, Record<string, unknown>>([
    ["export", { path: "/w/backup.jsonl", sha256: "ab", rows: 3, bytes: 10, tables: [{ name: "users", rows: 3, sha256: "x" }], summary: "s" }],
    ["swap", { archive: "/w/archive/vox.db", archiveFile: null, summary: "s" }],
    ["build-import", { path: "/n", loaded: 2, quarantined: 1, tables: [{ name: "users", target: "users", rows: 3, loaded: 2, quarantined: 1, reasons: { "not-null": 1 } }], evidence: { objects: { carried: [], notCarried: [{ type: "index", name: "i", table: "users", sql: "CREATE INDEX i ON users(x)", reason: "no column x" }] } } }],
  ]);
  it("returns the recorded outputs typed when they match", () => {
    expect(outputOf(good, "export")?.tables?.[0]).toMatchObject({ name: "users", rows: 3 });
    expect(outputOf(good, "swap")?.archive).toBe("/w/archive/vox.db");
    expect(outputOf(good, "build-import")?.evidence?.objects?.notCarried[0]?.reason).toBe("no column x");
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
