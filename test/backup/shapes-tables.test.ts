/**
 * Table shapes come from SQLite (PRAGMA table_list / table_xinfo), not from regular expressions:
 * WITHOUT ROWID after a comment or with STRICT, generated columns, rowid aliases, every virtual
 * table (FTS3/FTS4/FTS5/rtree), an ordinary table named like a shadow table, and sqlite_sequence
 * counted apart. Judged with the sqlite3 CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { execaSync } from "execa";
import { cli, rowCounts, sqlite, tmp } from "../helpers.js";

let dir: string;
const p = (n: string) => join(dir, n);

const SQL = `
CREATE TABLE wr_c (k TEXT PRIMARY KEY, v) /* a comment before it */ WITHOUT ROWID;
CREATE TABLE wr_s (k INTEGER PRIMARY KEY, v TEXT) WITHOUT ROWID, STRICT;
CREATE TABLE strict_t (id INTEGER PRIMARY KEY, v ANY) STRICT;
CREATE TABLE gen (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL, c TEXT GENERATED ALWAYS AS (a || 'x') STORED, d);
CREATE TABLE desc_pk (id INTEGER PRIMARY KEY DESC, v);
CREATE TABLE ipk_late ("id" INTEGER, v, PRIMARY KEY ("id"));
CREATE TABLE ai (id INTEGER PRIMARY KEY AUTOINCREMENT, v);
CREATE VIRTUAL TABLE f3 USING fts3(body);
CREATE VIRTUAL TABLE f4 USING fts4(body, tag);
CREATE VIRTUAL TABLE f5 USING fts5(body, note UNINDEXED);
CREATE VIRTUAL TABLE boxes USING rtree(id, minx, maxx, miny, maxy);
CREATE TABLE docs_content (id INTEGER PRIMARY KEY, body TEXT);
CREATE VIRTUAL TABLE docs USING fts5(body, content='docs_content', content_rowid='id');
INSERT INTO wr_c VALUES ('b', 2), ('a', 1);
INSERT INTO wr_s VALUES (7, 'seven'), (-3, 'minus three');
INSERT INTO strict_t VALUES (1, 1.5), (2, x'00'), (3, 'three');
INSERT INTO gen (a, d) VALUES (1, 'one'), (2, 'two'), (NULL, 'none');
INSERT INTO desc_pk (id, v) VALUES (10, 'ten'), (-1, 'minus');
INSERT INTO ipk_late VALUES (5, 'five'), (9, 'nine');
INSERT INTO ai (v) VALUES ('a'), ('b'), ('c');
DELETE FROM ai WHERE id = 3;
INSERT INTO f3 (docid, body) VALUES (4, 'fts three keeps its rows'), (9, 'another fts3 row');
INSERT INTO f4 (docid, body, tag) VALUES (2, 'fts four keeps its rows', 't1'), (11, 'more fts4', 't2');
INSERT INTO f5 (rowid, body, note) VALUES (3, 'fts five keeps its rows', 'n1'), (8, 'second fts5', NULL);
INSERT INTO boxes VALUES (1, 0.0, 1.0, 0.0, 1.0), (5, -2.5, 2.5, -1.0, 1.0);
INSERT INTO docs_content VALUES (1, 'external content survives'), (2, 'second external document');
INSERT INTO docs(docs) VALUES ('rebuild');
`;

/** The tables a backup carries as rows, and what each holds (sqlite3 CLI). */
const CONTENT: Record<string, string> = {
  wr_c: "SELECT k, v FROM wr_c ORDER BY k",
  wr_s: "SELECT k, v FROM wr_s ORDER BY k",
  strict_t: "SELECT id, typeof(v), quote(v) FROM strict_t ORDER BY id",
  gen: "SELECT rowid, a, b, c, d FROM gen ORDER BY rowid",
  desc_pk: "SELECT rowid, id, v FROM desc_pk ORDER BY rowid",
  ipk_late: "SELECT rowid, id, v FROM ipk_late ORDER BY rowid",
  ai: "SELECT id, v FROM ai ORDER BY id",
  f3: "SELECT rowid, body FROM f3 ORDER BY rowid",
  f4: "SELECT rowid, body, tag FROM f4 ORDER BY rowid",
  f5: "SELECT rowid, body, quote(note) FROM f5 ORDER BY rowid",
  boxes: "SELECT id, minx, maxx, miny, maxy FROM boxes ORDER BY id",
  docs_content: "SELECT id, body FROM docs_content ORDER BY id",
};

beforeAll(() => {
  dir = tmp();
  execaSync("sqlite3", [p("src.db")], { input: SQL });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("shapes from SQLite", () => {
  it("export-legacy carries every table with content, counts it like sqlite3, and never a shadow table", async () => {
    const exp = await cli(["export-legacy", p("b.jsonl"), "--db", p("src.db"), "--json"]);
    expect(exp.exitCode, exp.stderr + exp.stdout).toBe(0);
    const names = exp.json.tables.map((t: any) => t.name).sort();
    expect(names).toEqual(Object.keys(CONTENT).sort());
    const tables: { name: string; rows: number }[] = exp.json.tables;
    expect(tables.map((t) => t.rows)).toEqual(
      rowCounts(
        p("src.db"),
        tables.map((t) => t.name),
      ),
    );
    const header = JSON.parse(readFileSync(p("b.jsonl"), "utf8").split("\n")[0]!);
    const gen = header.tables.find((t: any) => t.name === "gen");
    expect(gen.columns).toEqual(["rowid", "a", "d"]); // generated columns are not carried
    expect(header.tables.find((t: any) => t.name === "wr_c")).toMatchObject({ withoutRowid: true, rowidColumn: null, primaryKey: ["k"] });
    expect(header.tables.find((t: any) => t.name === "wr_s")).toMatchObject({ withoutRowid: true, rowidColumn: null });
    expect(header.tables.find((t: any) => t.name === "desc_pk")).toMatchObject({ rowidAlias: null, rowidColumn: "rowid" });
    expect(header.tables.find((t: any) => t.name === "ipk_late")).toMatchObject({ rowidAlias: "id", rowidColumn: null });
    const ver = await cli(["verify-backup", p("b.jsonl"), "--db", p("src.db"), "--json"]);
    expect(ver.exitCode, ver.stderr + ver.stdout).toBe(0);
  });

  it("drill restores every table's content; FTS3/4/5 and rtree answer queries; the external-content index is rebuilt", async () => {
    const r = await cli(["drill", "--db", p("src.db"), "--work-dir", p("work"), "--json"]);
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const restored = r.json.record.restored as string;
    for (const [t, q] of Object.entries(CONTENT)) expect(sqlite(restored, q), t).toBe(sqlite(p("src.db"), q));
    expect(sqlite(restored, "SELECT rowid FROM f3 WHERE f3 MATCH 'three'")).toBe("4");
    expect(sqlite(restored, "SELECT rowid FROM f4 WHERE f4 MATCH 'four'")).toBe("2");
    expect(sqlite(restored, "SELECT rowid FROM f5 WHERE f5 MATCH 'five'")).toBe("3");
    expect(sqlite(restored, "SELECT id FROM boxes WHERE minx <= -1 AND maxx >= 2")).toBe("5");
    expect(sqlite(restored, "SELECT rowid FROM docs WHERE docs MATCH 'survives'")).toBe("1");
    expect(sqlite(restored, "SELECT seq FROM sqlite_sequence WHERE name = 'ai'")).toBe("3");
    expect(sqlite(restored, "PRAGMA integrity_check")).toBe("ok");
  });
});

describe("sqlite_sequence is counted apart, the same way in export, verify-backup and drill", () => {
  it("table rows exclude it; `sequences` counts its rows", async () => {
    const tableRows = rowCounts(p("src.db"), Object.keys(CONTENT)).reduce((n, c) => n + c, 0);
    const seqRows = Number(sqlite(p("src.db"), "SELECT count(*) FROM sqlite_sequence"));
    expect(seqRows).toBe(1);
    const exp = await cli(["export-legacy", p("s.jsonl"), "--db", p("src.db"), "--json"]);
    expect(exp.exitCode).toBe(0);
    expect(exp.json.totalRows).toBe(tableRows);
    expect(exp.json.sequences).toBe(seqRows);
    expect(exp.json.tables.map((t: any) => t.name)).not.toContain("sqlite_sequence");
    const ver = await cli(["verify-backup", p("s.jsonl"), "--db", p("src.db"), "--json"]);
    expect(ver.json.totalRows).toBe(tableRows);
    expect(ver.json.sequences).toBe(seqRows);
    expect(ver.json.tables.map((t: any) => t.name)).not.toContain("sqlite_sequence");
    const dr = await cli(["drill", "--db", p("src.db"), "--work-dir", p("work2"), "--json"]);
    expect(dr.exitCode).toBe(0);
    expect(dr.json.record.tables.map((t: any) => t.name)).not.toContain("sqlite_sequence");
    expect(dr.json.record.sequences).toMatchObject({ source: seqRows, restored: seqRows, match: true });
    expect(dr.json.record.totalRows).toBe(tableRows);
  });
});
