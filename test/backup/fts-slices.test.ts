/**
 * Own-content FTS tables' big values read in slices (issue 17 item 3): an FTS3/FTS4/FTS5 table
 * without `content=` keeps its rows in its `<name>_content` shadow table, an ordinary rowid table,
 * so the row statement reads that table (the same values, in rowid order) and each big value comes
 * from its pages, never whole (src/backup/big-source.ts ftsContent). Big-value size lowered to
 * 64 KB (test hook); the file built by Python's sqlite3, the restored file judged by the sqlite3 CLI
 * (typeof and sha3 of every value in rowid order, a word near the end of each big text found by
 * MATCH, FTS5's and FTS4's own integrity checks). FTS4's languageid column, which SQLite reports
 * hidden, is carried with its rows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { rmSync } from "node:fs";
import { execaSync } from "execa";
import { BIG_VALUES_ABOVE_64K, sqlite, tmp, dist, restoreBigValueBytesAfterAll } from "../helpers.js";
import type * as ExportM from "../../src/backup/export.js";
import type * as RestoreM from "../../src/backup/restore.js";
import type * as CompareM from "../../src/backup/compare.js";
import type * as TablesM from "../../src/backup/tables.js";
import type * as RowSourceM from "../../src/backup/row-source.js";
import type * as LocalM from "../../src/db/local.js";
import type * as ValueM from "../../src/backup/big-value.js";

// From dist, as the CLI runs (the export's writer is a worker thread).
const { exportBackup } = await dist<typeof ExportM>("backup/export.js");
const { restoreBackup } = await dist<typeof RestoreM>("backup/restore.js");
const { verifyAgainstDatabase } = await dist<typeof CompareM>("backup/compare.js");
const { listBackupTables } = await dist<typeof TablesM>("backup/tables.js");
const { rowStatement, iterateRows } = await dist<typeof RowSourceM>("backup/row-source.js");
const { openReadOnly } = await dist<typeof LocalM>("db/local.js");
const { BigValue } = await dist<typeof ValueM>("backup/big-value.js");

const base = { chain: "legacy", maxVersion: 1, baseline: { version: 60, digest: "" }, yieldEvery: false };
restoreBigValueBytesAfterAll();
let dir: string;
const p = (n: string) => join(dir, n);

const TABLES = ["f3", "f4", "f4l", "f5"] as const;
/** Columns per table, as the FTS table names them. */
const COLS: Record<(typeof TABLES)[number], string[]> = { f3: ["a", "b"], f4: ["title", "body"], f4l: ["body", "lid"], f5: ["title", "body", "tag"] };

const BUILD = String.raw`
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE VIRTUAL TABLE f3 USING fts3(a, b)")
c.execute("CREATE VIRTUAL TABLE f4 USING fts4(title, body, notindexed=title)")
c.execute("CREATE VIRTUAL TABLE f4l USING fts4(body, languageid=lid)")
c.execute("CREATE VIRTUAL TABLE f5 USING fts5(title, body, tag UNINDEXED)")
# UTF-8 text with multi-byte characters across slice boundaries, quotes, backslashes and newlines.
text = lambda i, w: ("naïve façade \"q\" \\ 東京 🚀 line %d\n" % i) * (2500 + 40 * i) + " " + w
for i in range(1, 61):
    big = i % 13 == 5
    t = text(i, "zebra%d" % i) if big else "small %d" % i
    c.execute("INSERT INTO f3(rowid, a, b) VALUES (?, ?, ?)", (i * 3, "a%d" % i, t))
    c.execute("INSERT INTO f4(docid, title, body) VALUES (?, ?, ?)", (i, text(i, "title%d" % i) if i == 44 else None, t))
    c.execute("INSERT INTO f4l(rowid, body, lid) VALUES (?, ?, ?)", (i, t, i % 3))
    c.execute("INSERT INTO f5(rowid, title, body, tag) VALUES (?, ?, ?, ?)", (1000 - i, "t%d" % i, t, i if i % 2 else 2.5))
c.commit()
`;

beforeAll(() => {
  dir = tmp("vox-fts-slices-");
  execaSync("python3", ["-c", BUILD, p("fts.db")]);
  process.env.VOX_CUTOVER_BIG_VALUE_BYTES = BIG_VALUES_ABOVE_64K.VOX_CUTOVER_BIG_VALUE_BYTES;
}, 60_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** typeof and sha3 of every value of a table, in rowid order, by the sqlite3 CLI. */
const values = (file: string, t: (typeof TABLES)[number]) =>
  sqlite(file, `SELECT rowid, ${COLS[t].map((c) => `typeof(${c}), hex(sha3(CAST(${c} AS BLOB)))`).join(", ")} FROM ${t} ORDER BY rowid`);

describe("own-content FTS tables' large values come from their content tables' pages (64 KB threshold)", () => {
  it("every big value is read in slices (counted by the sqlite3 CLI), none whole", () => {
    const db = openReadOnly(p("fts.db"));
    try {
      db.exec("BEGIN");
      for (const t of listBackupTables(db).filter((x) => (TABLES as readonly string[]).includes(x.name))) {
        const want = Number(
          sqlite(
            p("fts.db"),
            `SELECT ${COLS[t.name as (typeof TABLES)[number]].map((c) => `coalesce(sum(length(CAST(${c} AS BLOB)) > 65536), 0)`).join(" + ")} FROM ${t.name}`,
          ),
        );
        const src = rowStatement(db, t);
        let sliced = 0;
        for (const row of iterateRows(src)) for (const v of row) if (v instanceof BigValue) sliced++;
        expect({ table: t.name, sliced, whole: src.whole }).toEqual({ table: t.name, sliced: want, whole: null });
        expect(want, t.name).toBeGreaterThanOrEqual(4);
      }
    } finally {
      db.close();
    }
  });

  it("export → verify-backup --db → restore: every value and storage class exact, words near the end found, the FTS indexes sound", async () => {
    const exp = await exportBackup({ ...base, dbPath: p("fts.db"), outPath: p("fts.jsonl") });
    expect(exp.readWhole).toEqual([]);
    const v = await verifyAgainstDatabase(p("fts.jsonl"), p("fts.db"));
    expect(v.comparison.ok, v.comparison.firstDifference ?? "").toBe(true);
    await restoreBackup(p("fts.jsonl"), p("fts.restored"));
    for (const t of TABLES) {
      const want = values(p("fts.db"), t);
      expect(want.split("\n")).toHaveLength(60);
      expect(values(p("fts.restored"), t), t).toBe(want);
    }
    const r = p("fts.restored");
    expect(sqlite(r, "SELECT rowid FROM f3 WHERE f3 MATCH 'zebra57'")).toBe(String(57 * 3));
    expect(sqlite(r, "SELECT docid FROM f4 WHERE f4 MATCH 'zebra44'")).toBe("44");
    expect(sqlite(r, "SELECT rowid FROM f5 WHERE f5 MATCH 'zebra5'")).toBe("995");
    // FTS4's languageid column is carried (SQLite reports it hidden): a MATCH finds a row only under its language id.
    expect(sqlite(r, "SELECT rowid FROM f4l WHERE f4l MATCH 'zebra31' AND lid = 1")).toBe("31");
    sqlite(r, "INSERT INTO f5(f5) VALUES ('integrity-check'); INSERT INTO f4(f4) VALUES ('integrity-check'); INSERT INTO f3(f3) VALUES ('integrity-check')");
    expect(sqlite(r, "PRAGMA integrity_check")).toBe("ok");
  }, 120_000);
});
