/**
 * TEXT is carried as the exact bytes SQLite stores: a NUL inside, bytes that are not UTF-8 (Latin-1
 * legacy data, overlong forms, encoded surrogates). Judged with the sqlite3 CLI (typeof, hex), never
 * with our own reader.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chmodSync, copyFileSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { execaSync } from "execa";
import { baselineSqlText, cli, sqlite, tmp } from "../helpers.js";

let dir: string;
const p = (n: string) => join(dir, n);

/** Values a real file can hold, written by the sqlite3 CLI (not by our driver). */
const DDL = `
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b, c INTEGER);
CREATE TABLE one (v);
`;
const ROWS = `
INSERT INTO t VALUES (1, 'keep' || char(0) || 'this', 'x' || char(0), 5);
INSERT INTO t VALUES (2, CAST(x'4ce9' AS TEXT), CAST(x'ff00fe' AS TEXT), CAST(x'e9' AS TEXT));
INSERT INTO t VALUES (3, CAST(x'c0af' AS TEXT), CAST(x'eda080' AS TEXT), NULL);
INSERT INTO t VALUES (4, CAST(x'' AS TEXT), char(0), 'plain ü 東京 🚀');
INSERT INTO t VALUES (5, 'base64:SGVsbG8=', x'00ff00', '{"t":"AA=="}');
INSERT INTO t VALUES (6, CAST(x'f4908080' AS TEXT), CAST(x'e282' AS TEXT), 9223372036854775807);
INSERT INTO one VALUES (NULL);
INSERT INTO one VALUES (x'00ff');
INSERT INTO one VALUES (CAST(x'ff' AS TEXT));
INSERT INTO one VALUES ('a' || char(0));
`;
const T_Q = "SELECT id, typeof(a), hex(a), typeof(b), hex(b), typeof(c), hex(c) FROM t ORDER BY id";
const ONE_Q = "SELECT rowid, typeof(v), hex(v) FROM one ORDER BY rowid";

function makeDb(path: string, rows = ROWS): void {
  execaSync("sqlite3", [path], { input: DDL + rows });
}

/** A target on the bundled baseline that also has the two tables (so the rows load, not quarantine). */
function makeTarget(path: string): void {
  execaSync("sqlite3", [path], { input: baselineSqlText() + DDL + "INSERT INTO schema_version(version, applied_at) VALUES (66, '2025-01-01T00:00:00Z');\n" });
}

beforeAll(() => {
  dir = tmp();
  makeDb(p("src.db"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("TEXT as exact bytes", () => {
  it("export-legacy carries NUL-bearing and non-UTF-8 TEXT without a crash, a stale .partial or a lost byte", async () => {
    const exp = await cli(["export-legacy", p("b.jsonl"), "--db", p("src.db"), "--json"]);
    expect(exp.exitCode, exp.stderr).toBe(0);
    expect(readdirSync(dir).filter((f) => f.includes(".partial"))).toEqual([]);
    const text = readFileSync(p("b.jsonl"), "utf8");
    const lines = text.split("\n");
    const start = lines.findIndex((l) => l === '{"k":"table","name":"t","columns":["id","a","b","c"]}');
    expect(start).toBeGreaterThan(0);
    const rows = lines.slice(start + 1, start + 7).map((l) => JSON.parse(l));
    // valid UTF-8 with a NUL stays a string, whole
    expect(rows).toContainEqual([1, "keep\u0000this", "x\u0000", 5]);
    // not UTF-8: an explicit typed value with the bytes
    const r2 = rows.find((r) => r[0] === 2);
    expect(r2[1]).toEqual({ t: Buffer.from([0x4c, 0xe9]).toString("base64") });
    expect(r2[2]).toEqual({ t: Buffer.from([0xff, 0x00, 0xfe]).toString("base64") });
    // text that looks like a typed value is just text
    expect(rows.find((r) => r[0] === 5)[3]).toBe('{"t":"AA=="}');
    const ver = await cli(["verify-backup", p("b.jsonl"), "--db", p("src.db"), "--json"]);
    expect(ver.exitCode, ver.stderr).toBe(0);
    expect(ver.json.firstDifference).toBe(null);
  });

  it("import-legacy writes every value back as TEXT with the same bytes (sqlite3 hex/typeof)", async () => {
    makeTarget(p("dst.db"));
    const imp = await cli(["import-legacy", p("b.jsonl"), "--db", p("dst.db"), "--apply", "--json"]);
    expect(imp.exitCode, imp.stderr + imp.stdout).toBe(0);
    expect(sqlite(p("dst.db"), T_Q)).toBe(sqlite(p("src.db"), T_Q));
    expect(sqlite(p("dst.db"), ONE_Q)).toBe(sqlite(p("src.db"), ONE_Q));
    expect(sqlite(p("dst.db"), "SELECT count(*) FROM legacy_quarantine")).toBe("0");
  });

  it("drill restores the same bytes and storage classes", async () => {
    const r = await cli(["drill", "--db", p("src.db"), "--work-dir", p("work"), "--json"]);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const restored = r.json.record.restored as string;
    expect(sqlite(restored, T_Q)).toBe(sqlite(p("src.db"), T_Q));
    expect(sqlite(restored, ONE_Q)).toBe(sqlite(p("src.db"), ONE_Q));
  });

  it("verify-backup --db finds a backup that lost the bytes after a NUL", async () => {
    makeDb(p("cut.db"), ROWS.replace("'keep' || char(0) || 'this'", "'keep'"));
    expect((await cli(["export-legacy", p("cut.jsonl"), "--db", p("cut.db")])).exitCode).toBe(0);
    const ver = await cli(["verify-backup", p("cut.jsonl"), "--db", p("src.db"), "--json"]);
    expect(ver.exitCode).toBe(3);
    expect(ver.json.firstDifference).toMatch(/table t /);
  });

  it("verify-backup --db finds a backup whose non-UTF-8 bytes differ", async () => {
    makeDb(p("latin.db"), ROWS.replace("x'4ce9'", "x'4cea'"));
    expect((await cli(["export-legacy", p("latin.jsonl"), "--db", p("latin.db")])).exitCode).toBe(0);
    const ver = await cli(["verify-backup", p("latin.jsonl"), "--db", p("src.db"), "--json"]);
    expect(ver.exitCode).toBe(3);
    expect(ver.json.firstDifference).toMatch(/table t /);
  });

  it("a table the baseline lacks is quarantined with its raw text as an explicit typed value", async () => {
    copyFileSync(p("src.db"), p("legacy.db"));
    execaSync("sqlite3", [p("legacy.db"), "CREATE TABLE extra (v); INSERT INTO extra VALUES (CAST(x'4ce9' AS TEXT));"]);
    expect((await cli(["export-legacy", p("legacy.jsonl"), "--db", p("legacy.db")])).exitCode).toBe(0);
    const imp = await cli(["import-legacy", p("legacy.jsonl"), "--db", p("legacy-new.db"), "--apply", "--json"]);
    expect(imp.exitCode, imp.stderr + imp.stdout).toBe(0);
    const json = sqlite(p("legacy-new.db"), "SELECT row_json FROM legacy_quarantine WHERE source_table = 'extra'");
    expect(JSON.parse(json).v).toEqual({ t: "TOk=" });
  });
});

describe("backup files are never more readable than the database", () => {
  for (const mode of [0o600, 0o640]) {
    it(`a ${mode.toString(8)} database gives a ${mode.toString(8)} backup (export-legacy and drill)`, async () => {
      const db = p(`perm-${mode.toString(8)}.db`);
      makeDb(db);
      chmodSync(db, mode);
      const out = p(`perm-${mode.toString(8)}.jsonl`);
      expect((await cli(["export-legacy", out, "--db", db])).exitCode).toBe(0);
      expect(statSync(out).mode & 0o777).toBe(mode);
      const work = p(`perm-work-${mode.toString(8)}`);
      expect((await cli(["drill", "--db", db, "--work-dir", work])).exitCode).toBe(0);
      expect(statSync(join(work, "drill-backup.jsonl")).mode & 0o777).toBe(mode);
    });
  }
});
