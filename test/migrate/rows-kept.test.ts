/**
 * A fold may only add rows: for a table it added rows to, every backed-up row must still be in the
 * copy as it was (src/migrate/rows-kept.ts). The copy is changed here by the sqlite3 CLI (an
 * independent writer), then judged against a real backup of the original: rows added anywhere in
 * key order pass; a value changed (its storage class only, or one byte of a big value), a row
 * deleted or replaced, does not.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { execaSync } from "execa";
import Database from "libsql";
import { BIG_VALUES_ABOVE_64K, cli, dist, restoreBigValueBytesAfterAll, tmp } from "../helpers.js";

type RowsKept = typeof import("../../src/migrate/rows-kept.js");

let dir: string;
let orig: string;
let backup: string;
let backupSha: string; // the backup's own hash (its trailer's: every line before it)
let mod: RowsKept;

restoreBigValueBytesAfterAll();

beforeAll(async () => {
  Object.assign(process.env, BIG_VALUES_ABOVE_64K); // the big value below is read from the pages in slices
  mod = await dist<RowsKept>("migrate/rows-kept.js");
  dir = tmp("vox-rows-kept-");
  orig = join(dir, "orig.db");
  const fill = [
    "CREATE TABLE t(id INTEGER PRIMARY KEY, v);",
    "CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID;",
    "CREATE TABLE big(id INTEGER PRIMARY KEY, v);",
    // 300 rows with gaps in their ids: REAL 3.0, a BLOB, ±2^63-ish integers, text with a NUL.
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)",
    "INSERT INTO t SELECT i * 3, CASE i % 5 WHEN 0 THEN 3.0 WHEN 1 THEN x'00ff' WHEN 2 THEN 9223372036854775807 WHEN 3 THEN 'a' || char(0) || 'b' ELSE -9223372036854775808 END FROM n;",
    "INSERT INTO w VALUES ('b', 1), ('d', 2.5), ('f', NULL);",
    "INSERT INTO big VALUES (1, 'small'), (2, printf('%.*c', 200000, 'x')), (3, 'after');",
  ].join("\n");
  execaSync("sqlite3", [orig], { input: fill });
  backup = join(dir, "backup.jsonl");
  const e = await cli(["export-legacy", backup, "--db", orig, "--json"], { env: BIG_VALUES_ABOVE_64K });
  expect(e.exitCode, e.stderr).toBe(0);
  backupSha = e.json.backup.sha256;
});

/** A copy of the original changed by `sql` (sqlite3 CLI), judged for `tables`. */
function judged(sql: string, tables: string[]): string | null {
  const copy = join(tmp("vox-rows-kept-copy-"), "copy.db");
  copyFileSync(orig, copy);
  execaSync("sqlite3", [copy], { input: sql });
  const db = new Database(copy);
  db.defaultSafeIntegers(true);
  try {
    return mod.firstTableNotKept(db, backup, backupSha, new Set(tables));
  } finally {
    db.close();
  }
}

const ADDED =
  "INSERT INTO t VALUES (1, 'first'), (4, 'between'), (100000, 'last'); INSERT INTO w VALUES ('a', 0), ('e', 'e'), ('z', x'01'); INSERT INTO big VALUES (0, 'zero'), (9, 'nine');";

describe("a table the fold added rows to keeps every backed-up row as it was", () => {
  it("rows added before, between and after the backed-up ones (rowid and WITHOUT ROWID tables, a big value among them): kept", () => {
    expect(judged(ADDED, ["t", "w", "big"])).toBeNull();
  });

  it("a REAL 3.0 made the INTEGER 3 (its storage class only) while rows were added: not kept", () => {
    expect(judged(`${ADDED} UPDATE t SET v = 3 WHERE id = 15;`, ["w", "big", "t"])).toBe("t");
  });

  it("a row deleted, or replaced under its key, while rows were added: not kept", () => {
    expect(judged(`${ADDED} DELETE FROM w WHERE k = 'd';`, ["t", "w", "big"])).toBe("w");
    expect(judged(`${ADDED} INSERT OR REPLACE INTO t VALUES (6, 'replaced');`, ["t"])).toBe("t");
  });

  it("one byte of a big value changed (its length kept) while rows were added: not kept", () => {
    expect(judged(`${ADDED} UPDATE big SET v = substr(v, 1, 199999) || 'y' WHERE id = 2;`, ["t", "w", "big"])).toBe("big");
  });

  it("a backup that is not the verified one is refused", () => {
    const copy = join(tmp("vox-rows-kept-copy-"), "copy.db");
    copyFileSync(orig, copy);
    const db = new Database(copy);
    try {
      expect(() => mod.firstTableNotKept(db, backup, "0".repeat(64), new Set(["t"]))).toThrow(/changed since it was verified/);
    } finally {
      db.close();
    }
  });
});
