import { beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, readdirSync, readFileSync, writeFileSync, symlinkSync, mkdirSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { cli, makeBaselineDb, sampleInto, sha256, snapshotDir, sqlite, tmp, fixtureDb } from "../helpers.js";
import { makeTortureDb } from "../fixtures/torture.js";

let dir: string;
let good: string;
/** A baseline database made once (in a folder of its own) and copied wherever a test needs an existing target. */
let baselineTemplate: string;
const p = (n: string) => join(dir, n);

beforeAll(async () => {
  baselineTemplate = join(tmp(), "baseline.db");
  makeBaselineDb(baselineTemplate);
  dir = tmp();
  makeTortureDb(p("src.db"));
  const r = await cli(["export-legacy", p("good.jsonl"), "--db", p("src.db")]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  good = readFileSync(p("good.jsonl"), "utf8");
});

const lines = () => good.split("\n");
function rowLineIndex(table: string, nth = 0): number {
  const ls = lines();
  const start = ls.findIndex((l) => l.startsWith('{"k":"table"') && JSON.parse(l).name === table);
  return start + 1 + nth;
}

const BAD: [string, () => string, RegExp][] = [
  ["truncated mid-line", () => good.slice(0, Math.floor(good.length / 2)), /truncated|ends/],
  ["truncated at a line boundary (no trailer)", () => lines().slice(0, -2).join("\n") + "\n", /no trailer|truncated/],
  [
    "a tampered value",
    () => {
      const ls = lines();
      const i = rowLineIndex("ipk", 16);
      const arr = JSON.parse(ls[i]!);
      arr[1] = "tampered";
      ls[i] = JSON.stringify(arr);
      return ls.join("\n");
    },
    /content hash recomputed/,
  ],
  ["a tampered count", () => good.replace(/("k":"end","name":"ipk","rows":)(\d+)/, (_, a, n) => `${a}${Number(n) - 1}`), /rows/],
  [
    "reordered rows",
    () => {
      const ls = lines();
      const i = rowLineIndex("plain", 2);
      [ls[i], ls[i + 1]] = [ls[i + 1]!, ls[i]!];
      return ls.join("\n");
    },
    /order/,
  ],
  [
    "reordered sections",
    () => {
      const ls = lines();
      const a = ls.findIndex((l) => l.includes('"k":"table","name":"ipk"'));
      const b = ls.findIndex((l, j) => j > a && l.includes('"k":"end","name":"ipk"'));
      const sec = ls.splice(a, b - a + 1);
      ls.splice(1, 0, ...sec);
      return ls.join("\n");
    },
    /reordered|expected table/,
  ],
  ["a 3 turned into 3.0", () => good.replace('{"r":3}', '{"r":3.0}'), /canonical/],
  ["a REAL turned into an INTEGER", () => good.replace('{"r":3}', "3"), /hash|canonical/],
  [
    'valid UTF-8 text written as raw bytes {"t"}',
    () => good.replace('"plain text"', `{"t":"${Buffer.from("plain text").toString("base64")}"}`),
    /cannot be decoded.*valid UTF-8/,
  ],
  ["a wrong format", () => '{"hello":"world"}\n', /not a vox-cutover backup/],
  ["a newer format version", () => good.replace('"version":1,', '"version":2,'), /version 2 is not supported/],
  ["not JSON", () => "SQLite format 3\u0000garbage\n", /not valid JSON/],
  ["an empty file", () => "", /empty/],
  ["data after the trailer", () => good + "[1,2]\n", /after the trailer/],
  ["a changed whole-file hash", () => good.replace(/"fileSha256":"[0-9a-f]{8}/, '"fileSha256":"00000000'), /whole-file hash/],
];

describe("bad backups are refused (exit 3) and nothing is touched", () => {
  // Two processes a case: verify-backup names the damage; import-legacy refuses it. The import goes to an
  // existing baseline file in even cases and to a path with no file in odd ones (nothing may appear there).
  it.each(BAD.map((c, i) => [...c, i % 2 === 0] as const))("%s", async (_name, make, message, existing) => {
    const f = p(`bad-${Math.random().toString(36).slice(2)}.jsonl`);
    writeFileSync(f, make());
    const v = await cli(["verify-backup", f, "--db", p("src.db"), "--json"]);
    expect(v.exitCode, v.stderr).toBe(3);
    expect(v.stderr).toMatch(message);
    expect(v.stderr).toMatch(/does not verify|not a vox-cutover|not supported|not valid/);
    expect(v.json.ok).toBe(false);
    const target = p(`target-${Math.random().toString(36).slice(2)}.db`);
    if (existing) copyFileSync(baselineTemplate, target);
    const before = snapshotDir(dir);
    const i = await cli(["import-legacy", f, "--db", target, "--apply"]);
    expect(i.exitCode, i.stderr).toBe(3);
    expect(i.stderr).not.toMatch(/Unexpected failure/);
    expect(snapshotDir(dir)).toEqual(before);
  });
});

describe("verify-backup against the database", () => {
  it("names the first table that differs (exit 3), and passes on the source", async () => {
    const copy = p("changed.db");
    makeTortureDb(copy);
    const f = fixtureDb(copy);
    f.exec("UPDATE ipk SET v = 'changed' WHERE id = 1000");
    f.close();
    const r = await cli(["verify-backup", p("good.jsonl"), "--db", copy, "--json"]);
    expect(r.exitCode).toBe(3);
    expect(r.json.firstDifference).toMatch(/table ipk has the same \d+ rows count but different content/);
    expect(r.stdout + r.stderr).toMatch(/MISMATCH/);
  });
});

describe("a failure mid-import", () => {
  it("leaves an existing target byte-identical (its run resumable or rolled back), and creates no file for a new one", async () => {
    // An existing file is imported into in a copy beside it (stages/stage1-import.ts): the failure stops that run before its swap.
    const own = tmp();
    const target = join(own, "t-fail.db");
    copyFileSync(baselineTemplate, target);
    const before = sha256(target);
    const r = await cli(["import-legacy", p("good.jsonl"), "--db", target, "--apply"], { env: { VOX_CUTOVER_FAULT_AFTER_ROWS: "10" } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/injected failure/);
    expect(r.stderr).toMatch(/is untouched.*Resume: vox-cutover cutover .*--resume --apply · Roll back: vox-cutover cutover .*--rollback --apply/s);
    expect(sha256(target)).toBe(before);
    const rb = await cli(["cutover", "--db", target, "--rollback", "--apply"]);
    expect(rb.exitCode, rb.stderr).toBe(0);
    expect(sha256(target)).toBe(before);
    expect(readdirSync(own).filter((f) => f.startsWith(".t-fail.db.vox-cutover"))).toEqual([]);
    // Into a path where nothing is: in place, one transaction; nothing is left.
    const snap = snapshotDir(dir);
    const r2 = await cli(["import-legacy", p("good.jsonl"), "--db", p("t-new.db"), "--apply"], { env: { VOX_CUTOVER_FAULT_AFTER_ROWS: "10" } });
    expect(r2.exitCode).toBe(1);
    expect(snapshotDir(dir)).toEqual(snap);
  });

  it("refuses a target that is not on the baseline (exit 3)", async () => {
    const d = tmp();
    await sampleInto(d, 10); // a legacy file: the worker's sample, copied
    const before = snapshotDir(d);
    const r = await cli(["import-legacy", p("good.jsonl"), "--db", join(d, "vox.db"), "--apply"]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/legacy/);
    expect(snapshotDir(d)).toEqual(before);
  });
});

describe("export-legacy refuses a bad OUT", () => {
  it("the database itself, a link to it, its -wal", async () => {
    const before = snapshotDir(dir);
    expect((await cli(["export-legacy", p("src.db"), "--db", p("src.db"), "--force"])).exitCode).toBe(3);
    symlinkSync(p("src.db"), p("link.jsonl"));
    const r = await cli(["export-legacy", p("link.jsonl"), "--db", p("src.db"), "--force"]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/itself|link/);
    expect((await cli(["export-legacy", p("src.db-wal"), "--db", p("src.db")])).exitCode).toBe(3);
    expect(sha256(p("src.db"))).toBe(before["src.db"]);
  });
  it("a folder that does not exist (2), one that is not writable (3), an existing file without --force (3)", async () => {
    expect((await cli(["export-legacy", p("nope/b.jsonl"), "--db", p("src.db")])).exitCode).toBe(2);
    mkdirSync(p("ro"));
    chmodSync(p("ro"), 0o500);
    if (process.getuid?.() !== 0) expect((await cli(["export-legacy", p("ro/b.jsonl"), "--db", p("src.db")])).exitCode).toBe(3);
    const r = await cli(["export-legacy", p("good.jsonl"), "--db", p("src.db")]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/already holds a file .*pass --force to replace it/);
    expect(readFileSync(p("good.jsonl"), "utf8")).toBe(good);
    const f = await cli(["export-legacy", p("good.jsonl"), "--db", p("src.db"), "--force"]);
    expect(f.exitCode).toBe(0);
  });
  it("a missing, corrupt or directory database: exit 1, nothing written", async () => {
    const d = tmp();
    writeFileSync(join(d, "junk.db"), "not sqlite".repeat(100));
    const before = snapshotDir(d);
    for (const db of ["missing.db", "junk.db", "."]) {
      const r = await cli(["export-legacy", join(d, "b.jsonl"), "--db", join(d, db)]);
      expect(r.exitCode, db).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(snapshotDir(d)).toEqual(before);
  });
});

describe("the reference runbook's export format", () => {
  const ref =
    [
      {
        columns: ["id", "source_type", "source_id", "dim", "vector", "metadata", "created_at"],
        row: { id: 1, source_type: "base64:dGV4dA==", source_id: "s1", dim: 3, vector: "base64:AAEC", metadata: null, created_at: "2025-01-01" },
        table: "embeddings",
      },
      { columns: ["agent", "kind", "wins", "losses", "score"], row: { agent: "a", kind: "k", wins: 1, losses: 2, score: 3 }, table: "routing_scores" },
    ]
      .map((o) => JSON.stringify(o))
      .join("\n") + "\n";

  it("is refused without --accept-unverified (exit 3)", async () => {
    writeFileSync(p("ref.jsonl"), ref);
    const r = await cli(["import-legacy", p("ref.jsonl"), "--db", p("ref.db"), "--apply"]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/cannot be verified/);
    expect((await cli(["verify-backup", p("ref.jsonl")])).exitCode).toBe(3);
  });
  it("with --accept-unverified: base64 becomes a BLOB only where the column has BLOB affinity", async () => {
    const r = await cli(["import-legacy", p("ref.jsonl"), "--db", p("ref.db"), "--apply", "--accept-unverified"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sqlite(p("ref.db"), "SELECT typeof(vector), hex(vector), typeof(source_type), source_type FROM embeddings")).toBe(
      "blob|000102|text|base64:dGV4dA==",
    );
    // a table vox 66 does not have is quarantined whole, never dropped
    expect(sqlite(p("ref.db"), "SELECT count(*) FROM legacy_quarantine WHERE source_table = 'routing_scores'")).toBe("1");
  });
});
