/**
 * Stage 2 --merge into a UTF-16le canonical DB of sidecar rows whose long TEXT starts with U+FEFF:
 * the merged value keeps that character (SQLite 3.45 drops it when a copy of the row passes through
 * an ephemeral table of ordinary page size — see src/sidecar/copy.ts). Judged by the sqlite3 CLI on
 * the stored bytes (`length(CAST(a AS BLOB))` and the first bytes, from a SQLite that reads it whole).
 */
import { describe, expect, it } from "vitest";
import { execaSync } from "execa";
import { join } from "node:path";
import { rmSync } from "node:fs";
import { cli, sqlite, tmp } from "../helpers.js";
import { openReadWrite } from "../../src/db/local.js";
import { S } from "../../src/sidecar/carry.js";
import { copyMissing, textNet } from "../../src/sidecar/copy.js";
import { setup } from "./fixture.js";

const LONG = "char(65279) || printf('%.*c', 3000, 'x')";

describe("sidecar merge of long U+FEFF-led texts into a UTF-16le vox.db", () => {
  it("a new row (rowid table) is merged with every stored byte; the text's bytes judged by the sqlite3 CLI", async () => {
    const { d, db, side } = setup("UTF-16le", `CREATE TABLE notes(id INTEGER PRIMARY KEY, a TEXT); INSERT INTO notes VALUES (7, ${LONG}), (8, 'short');`);
    execaSync("sqlite3", [db, "CREATE TABLE notes(id INTEGER PRIMARY KEY, a TEXT); INSERT INTO notes VALUES (1, 'kept');"]);
    expect(sqlite(side, "SELECT length(CAST(a AS BLOB)) FROM notes WHERE id = 7")).toBe("3003"); // UTF-8: EF BB BF + 3000
    const r = await cli(["sidecar", "--db", db, "--apply", "--merge", "--work-dir", join(d, "work"), "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.tables.find((t: any) => t.name === "notes")).toMatchObject({ rows: 2, merged: 2, conflicts: 0 });
    // U+FEFF + 3000 × 'x' in UTF-16le: 6002 stored bytes (6000 was the silent loss)
    expect(sqlite(db, "SELECT id, typeof(a), length(CAST(a AS BLOB)), hex(substr(CAST(a AS BLOB), 1, 4)) FROM notes ORDER BY id")).toBe(
      "1|text|8|6B006500\n7|text|6002|FFFE7800\n8|text|10|73006800",
    );
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
  });
});

describe("the merge's text-bytes net (src/sidecar/copy.ts)", () => {
  it("an INSERT … SELECT that reads the table it writes (an ephemeral copy) stores the text short: the net refuses with a worded error", () => {
    const d = tmp();
    const main = join(d, "vox.db");
    const scratch = join(d, "scratch.db");
    const py = `import sqlite3,sys
for p,ps in ((sys.argv[1],4096),(sys.argv[2],65536)):
  c=sqlite3.connect(p); c.execute(f"PRAGMA page_size={ps}"); c.execute("PRAGMA encoding='UTF-16le'")
  c.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, a TEXT)"); c.commit(); c.close()
c=sqlite3.connect(sys.argv[2]); c.execute("INSERT INTO notes VALUES (1, ?)", ("\\ufeff" + "x"*3000,)); c.commit()`;
    execaSync("python3", ["-c", py, main, scratch]);
    expect(sqlite(scratch, "SELECT length(CAST(a AS BLOB)) FROM notes")).toBe("6002");
    const db = openReadWrite(main);
    try {
      db.exec(`ATTACH DATABASE '${scratch}' AS ${S}`);
      db.exec("BEGIN IMMEDIATE");
      const net = textNet(db, "notes", ["id", "a"]);
      db.exec(`INSERT INTO main.notes (id, a) SELECT s.id, s.a FROM ${S}.notes s WHERE NOT EXISTS (SELECT 1 FROM main.notes m WHERE m.id IS s.id)`);
      net.add("1");
      expect(() => net.check()).toThrow(/would store 6000 bytes of text where the sidecar's merged rows hold 6002.*Nothing was merged/s);
      db.exec("ROLLBACK");
      db.exec("BEGIN IMMEDIATE");
      const ok = textNet(db, "notes", ["id", "a"]);
      expect(copyMissing(db, "notes", ["id", "a"], "s.rowid", `NOT EXISTS (SELECT 1 FROM main.notes m WHERE m.id IS s.id)`, ok)).toBe(1);
      expect(() => ok.check()).not.toThrow();
      db.exec("COMMIT");
    } finally {
      db.close();
    }
    expect(sqlite(main, "SELECT id, length(CAST(a AS BLOB)), hex(substr(CAST(a AS BLOB), 1, 4)) FROM notes")).toBe("1|6002|FFFE7800");
    rmSync(d, { recursive: true, force: true });
  });
});

describe("a table without a declared key (every column its key)", () => {
  it("an identical row with a long U+FEFF-led text is present, never merged again; a new row merges", async () => {
    const { d, db } = setup("UTF-16le", `CREATE TABLE tags(a TEXT, b INTEGER); INSERT INTO tags VALUES (${LONG}, 1), ('new', 2);`);
    execaSync("sqlite3", [db, `CREATE TABLE tags(a TEXT, b INTEGER); INSERT INTO tags VALUES (${LONG}, 1);`]);
    expect(sqlite(db, "SELECT length(CAST(a AS BLOB)), hex(substr(CAST(a AS BLOB), 1, 4)) FROM tags")).toBe("6002|FFFE7800");
    const dry = await cli(["sidecar", "--db", db, "--json"]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.json.tables.find((t: any) => t.name === "tags")).toMatchObject({ rows: 2, present: 1, merged: 1, conflicts: 0 });
    const r = await cli(["sidecar", "--db", db, "--apply", "--merge", "--work-dir", join(d, "work"), "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.tables.find((t: any) => t.name === "tags")).toMatchObject({ rows: 2, present: 1, merged: 1, conflicts: 0 });
    expect(sqlite(db, "SELECT b, length(CAST(a AS BLOB)), hex(substr(CAST(a AS BLOB), 1, 4)) FROM tags ORDER BY b")).toBe("1|6002|FFFE7800\n2|6|6E006500");
    expect(sqlite(db, "SELECT count(*) FROM legacy_quarantine WHERE source_table = 'tags'")).toBe("0");
  });
});
