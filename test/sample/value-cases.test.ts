/**
 * The sample holds each awkward value its generator documents (VALUE_CASES in src/sample/fill.ts), in
 * the storage class the table says SQLite keeps: judged by Python's sqlite3 (typeof per column, the
 * column's affinity by SQLite's rules), not by our own reader.
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { VALUE_CASES } from "../../src/sample/fill.js";
import { sampleInto, tmp } from "../helpers.js";

const PY = `
import sqlite3, sys, json
c = sqlite3.connect(sys.argv[1])
def affinity(t):
    t = (t or "").upper()
    if "INT" in t: return "integer"
    if "CHAR" in t or "CLOB" in t or "TEXT" in t: return "text"
    if t == "" or "BLOB" in t: return "blob"
    if "REAL" in t or "FLOA" in t or "DOUB" in t: return "real"
    return "numeric"
seen = set()
for (name,) in c.execute("SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'sqlite_%'"):
    for col in c.execute(f'PRAGMA table_info("{name}")').fetchall():
        a = "json" if col[1].endswith("_json") and affinity(col[2]) == "text" else affinity(col[2])
        for (t,) in c.execute(f'SELECT DISTINCT typeof("{col[1]}") FROM "{name}"'):
            seen.add(a + ":" + t)
print(json.dumps(sorted(seen)))
`;

describe("the sample holds every documented value case", async () => {
  const { db } = await sampleInto(tmp("vox-value-cases-"), 10);
  const seen = new Set(JSON.parse(execFileSync("python3", ["-c", PY, db], { encoding: "utf8" })) as string[]);
  // storedAs: the storage class first, then (where it differs from the value written) what SQLite keeps.
  const cases = VALUE_CASES.filter((c) => c.affinity !== "key").map((c) => [c.name, c.affinity, c.storedAs.split(" ")[0]!] as const);

  it.each(cases)("%s: a %s column holds a value stored as %s", (_name, affinity, storedAs) => {
    expect(seen.has(`${affinity}:${storedAs}`), [...seen].join(" ")).toBe(true);
  });

  it("the cases cover integer, real, text, JSON text, blob and key columns", () => {
    expect(new Set(VALUE_CASES.map((c) => c.affinity))).toEqual(new Set(["integer", "text", "blob", "real", "json", "key"]));
  });
});
