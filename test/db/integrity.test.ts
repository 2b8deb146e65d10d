/**
 * The preflight's integrity_check without SQLite reading a WITHOUT ROWID table's big values whole
 * (issue 17 item 3; src/db/integrity.ts). SQLite checks such a table's key order by comparing each
 * row's whole record with the one before it, so a big value was read whole (420 MB: the cutover
 * peaked at 510 MB). The same checks in parts must find what integrity_check finds (rows out of key
 * order: judged by the sqlite3 CLI's own integrity_check on the same file), never a false alarm on
 * sound tables of every key shape, and keep memory flat (a child process's VmHWM, against plain
 * integrity_check on the same file as the control). The choice and the parts see one snapshot: a
 * writer process committing between them (Python's sqlite3) is not seen.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execaSync } from "execa";
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT, sqlite, tmp } from "../helpers.js";
import type * as IntegrityM from "../../src/db/integrity.js";
import type * as LocalM from "../../src/db/local.js";
import type { LibsqlDatabase } from "../../src/db/local.js";

const { integrityCheck } = (await import(join(ROOT, "dist/src/db/integrity.js"))) as typeof IntegrityM;
const { openReadOnly } = (await import(join(ROOT, "dist/src/db/local.js"))) as typeof LocalM;

const KB64 = 64 << 10;
let dir: string;
const p = (n: string) => join(dir, n);

/** WITHOUT ROWID tables of every key shape, each with values above 64 KB (and a rowid table with an index). */
const BUILD = String.raw`
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
big = lambda i: bytes([i % 251]) * (70_000 + i)
c.execute("CREATE TABLE tk(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID")
c.execute("CREATE TABLE dk(k INTEGER, v BLOB, PRIMARY KEY(k DESC)) WITHOUT ROWID")
c.execute("CREATE TABLE ck(a TEXT, b INTEGER, c REAL, v BLOB, PRIMARY KEY(a, b, c)) WITHOUT ROWID")
c.execute("CREATE TABLE nk(k TEXT COLLATE NOCASE PRIMARY KEY, v BLOB) WITHOUT ROWID")
c.execute("CREATE TABLE mk(a TEXT, b INTEGER, v BLOB, PRIMARY KEY(a, b DESC)) WITHOUT ROWID")
c.execute("CREATE TABLE ak(k PRIMARY KEY, v BLOB) WITHOUT ROWID")
c.execute("CREATE TABLE ik(k TEXT PRIMARY KEY, n INTEGER, v BLOB) WITHOUT ROWID")
c.execute("CREATE INDEX ik_n ON ik(n)")
c.execute("CREATE TABLE plain(id INTEGER PRIMARY KEY, u TEXT UNIQUE, v BLOB)")
c.execute("CREATE INDEX plain_v ON plain(length(v))")
c.execute("CREATE VIRTUAL TABLE notes USING fts5(body)")
c.execute("INSERT INTO notes VALUES ('hello world'), ('naïve 東京')")
for i in range(300):
    b = big(i) if i % 50 == 7 else b"x"
    c.execute("INSERT INTO tk VALUES (?, ?)", ("key-%04d" % (i * 7 % 300), b))
    c.execute("INSERT INTO dk VALUES (?, ?)", (i * 3 - 400, b))
    c.execute("INSERT INTO ck VALUES (?, ?, ?, ?)", ("a%d" % (i % 4), i // 4, i / 3, b))
    c.execute("INSERT INTO nk VALUES (?, ?)", (("K%d" if i % 2 else "k%d_") % i, b))
    c.execute("INSERT INTO mk VALUES (?, ?, ?)", ("m%d" % (i % 5), i, b))
    # No affinity: integers, reals, texts and blobs in one key (numbers < text < blob; 2 < 2.5 < 3).
    c.execute("INSERT INTO ak VALUES (?, ?)", ([i, i + 0.5, "t%d" % i, bytes([i % 256, i // 256])][i % 4], b))
    c.execute("INSERT INTO ik VALUES (?, ?, ?)", ("i%d" % i, i % 7, b))
    c.execute("INSERT INTO plain VALUES (?, ?, ?)", (i, "u%d" % i, b))
c.commit()
`;

/** A copy whose schema text changes how a table's key orders (its pages keep the old order): rows out of key order. */
const MISORDER = String.raw`
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA writable_schema = ON")
c.execute("UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE name = ?", (sys.argv[2], sys.argv[3], sys.argv[4]))
c.commit()
`;

beforeAll(() => {
  dir = tmp("vox-integrity-");
  execaSync("python3", ["-c", BUILD, p("shapes.db")]);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(file: string, bigAbove = KB64) {
  const db = openReadOnly(file);
  try {
    return integrityCheck(db, { above: bigAbove, size: "64 KB" });
  } finally {
    db.close();
  }
}

describe("integrity_check of WITHOUT ROWID tables with big values, in parts (64 KB threshold)", () => {
  it("sound tables of every key shape pass, as SQLite's own integrity_check says; a table with other indexes is checked by SQLite whole, and named", () => {
    expect(sqlite(p("shapes.db"), "PRAGMA integrity_check")).toBe("ok");
    const r = check(p("shapes.db"));
    expect(r.problems).toEqual(["ok"]);
    expect(r.how).toBe(
      "ak, ck, dk, mk, nk, tk: quick_check and the primary key's order, without reading values above 64 KB whole as integrity_check would; ik: integrity_check, which read values above 64 KB whole (indexes of their own)",
    );
    // Above every value: one integrity_check, nothing said.
    expect(check(p("shapes.db"), 1 << 20)).toEqual({ problems: ["ok"], how: "" });
  });

  it.each([
    ["a collation", "tk", "k TEXT PRIMARY KEY", "k TEXT COLLATE NOCASE PRIMARY KEY"],
    ["a direction", "dk", "PRIMARY KEY(k DESC)", "PRIMARY KEY(k ASC)"],
    ["the second key column's direction", "mk", "PRIMARY KEY(a, b DESC)", "PRIMARY KEY(a, b)"],
  ])("rows out of key order (%s changed under them) are found, as SQLite's integrity_check finds them", (_what, table, from, to) => {
    const f = p(`misorder-${table}.db`);
    copyFileSync(p("shapes.db"), f);
    // tk's keys mix case: 'key-…' all lower case, so NOCASE alone would keep the order; add 'KEY-…'.
    if (table === "tk") sqlite(f, "INSERT INTO tk VALUES ('KEY-9', x'00'), ('kez', x'00')");
    execaSync("python3", ["-c", MISORDER, f, from, to, table]);
    expect(sqlite(f, `PRAGMA integrity_check`)).toMatch(new RegExp(`row not in PRIMARY KEY order for ${table}`));
    const r = check(f);
    expect(r.problems).toEqual([expect.stringMatching(new RegExp(`^row not in PRIMARY KEY order for ${table} \\(\\d+ row\\(s\\)\\)$`))]);
  });

  it("another table's index that disagrees with its rows is still found (integrity_check of each other table)", () => {
    const f = p("index-wrong.db");
    copyFileSync(p("shapes.db"), f);
    execaSync("python3", ["-c", MISORDER, f, "length(v)", "id", "plain_v"]);
    expect(sqlite(f, "PRAGMA integrity_check")).toMatch(/missing from index plain_v/);
    const r = check(f);
    expect(r.problems.length).toBeGreaterThan(0);
    expect(
      r.problems.every((m) => /missing from index plain_v|wrong # of entries in index plain_v|non-unique entry in index plain_v/.test(m)),
      r.problems.join("; "),
    ).toBe(true);
    expect(r.how).toMatch(/^ak, ck, dk, mk, nk, tk: quick_check/);
  });

  it("memory stays flat: a 48 MB value is not read by the check (a child's peak RSS; plain integrity_check as the control)", () => {
    const f = p("big48.db");
    execaSync("python3", [
      "-c",
      String.raw`
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE TABLE w(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID")
c.executemany("INSERT INTO w VALUES (?, x'00')", [("k%03d" % i,) for i in range(200)])
c.execute("INSERT INTO w VALUES ('k100x', zeroblob(48 * 1024 * 1024))")
c.commit()`,
      f,
    ]);
    const probe = (plain: boolean) => {
      const js = `
        const { integrityCheck } = await import(${JSON.stringify(join(ROOT, "dist/src/db/integrity.js"))});
        const { openReadOnly, allRows } = await import(${JSON.stringify(join(ROOT, "dist/src/db/local.js"))});
        const { readFileSync } = await import("node:fs");
        const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]) / 1024;
        const db = openReadOnly(${JSON.stringify(f)});
        allRows(db, "SELECT count(*) FROM w");
        const before = hwm();
        const r = ${plain ? `allRows(db, "PRAGMA integrity_check").map((x) => String(Object.values(x)[0]))` : `integrityCheck(db, { above: 65536, size: "64 KB" }).problems`};
        console.log(JSON.stringify({ r, grew: hwm() - before }));`;
      return JSON.parse(execaSync("node", ["--input-type=module", "-e", js]).stdout) as { r: string[]; grew: number };
    };
    const control = probe(true);
    const parts = probe(false);
    rmSync(f);
    expect(control.r).toEqual(["ok"]);
    expect(parts.r).toEqual(["ok"]);
    // SQLite's own check reads the 48 MB record whole; the check in parts stays within a few MB.
    expect(control.grew).toBeGreaterThan(40);
    expect(parts.grew).toBeLessThan(12);
  });
});

describe("the choice and the parts see one snapshot (one read transaction)", () => {
  /** A WITHOUT ROWID table with one value above 1 KB and no index but its key's: checked in parts at a 1 KB threshold. */
  const make = (name: string, wal: boolean) => {
    const f = p(name);
    execaSync("python3", [
      "-c",
      String.raw`
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
if sys.argv[2] == "wal": c.execute("PRAGMA journal_mode=WAL")
c.execute("CREATE TABLE w(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID")
c.executemany("INSERT INTO w VALUES (?, ?)", [("k%02d" % i, b"x" * (3000 if i == 5 else 10)) for i in range(20)])
c.commit()
c.close()`,
      f,
      wal ? "wal" : "delete",
    ]);
    return f;
  };

  /**
   * Runs the check on a connection whose statements are watched: before the first part (quick_check,
   * after the choice was made) another process adds an index to the big table, which would move it
   * from "checked in parts" to "integrity_check whole" if the parts saw it. Its answer is returned.
   */
  const checkWithWriterBetween = (f: string) => {
    const db = openReadOnly(f);
    const inTx: boolean[] = [];
    let writer = "";
    const watched = new Proxy(db, {
      get(t, k) {
        if (k === "prepare")
          return (sql: string) => {
            if (!writer && /quick_check/.test(sql))
              writer = execaSync("python3", [
                "-c",
                "import sqlite3,sys\ntry:\n  c=sqlite3.connect(sys.argv[1], timeout=0)\n  c.execute('CREATE INDEX w_len ON w(length(v))')\n  c.commit()\n  print('committed')\nexcept sqlite3.OperationalError as e:\n  print(e)",
                f,
              ]).stdout.trim();
            inTx.push(t.inTransaction);
            return t.prepare(sql);
          };
        const v = Reflect.get(t, k) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    }) as LibsqlDatabase;
    try {
      const r = integrityCheck(watched, { above: 1024, size: "1 KB" });
      return { r, writer, inTx, after: db.inTransaction };
    } finally {
      db.close();
    }
  };

  it("WAL: a writer commits an index between the choice and the parts; the parts do not see it (every statement inside one transaction, ended after)", () => {
    const f = make("snap-wal.db", true);
    const { r, writer, inTx, after } = checkWithWriterBetween(f);
    expect(writer).toBe("committed");
    expect(r).toEqual({
      problems: ["ok"],
      how: "w: quick_check and the primary key's order, without reading values above 1 KB whole as integrity_check would",
    });
    expect(inTx.length).toBeGreaterThan(3);
    expect(inTx.every(Boolean)).toBe(true);
    expect(after).toBe(false);
    // The index is really there (sqlite3 CLI), and the next check, a new snapshot, sees it.
    expect(sqlite(f, "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'w_len'")).toBe("w_len");
    expect(check(f, 1024).how).toBe("w: integrity_check, which read values above 64 KB whole (indexes of their own)");
  });

  it("rollback journal: the read lock is held from the choice through the last part, so the writer cannot commit between them", () => {
    const f = make("snap-delete.db", false);
    const { r, writer, inTx, after } = checkWithWriterBetween(f);
    expect(writer).toMatch(/database is locked/);
    expect(r.how).toMatch(/^w: quick_check and the primary key's order/);
    expect(inTx.every(Boolean)).toBe(true);
    expect(after).toBe(false);
    expect(sqlite(f, "SELECT count(*) FROM sqlite_master WHERE name = 'w_len'")).toBe("0");
  });

  it("inside the caller's own transaction: its snapshot is used, and its transaction is left open", () => {
    const f = make("snap-caller.db", true);
    const db = openReadOnly(f);
    try {
      db.exec("BEGIN");
      db.prepare("SELECT count(*) FROM w").get();
      execaSync("python3", ["-c", "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute('CREATE INDEX w_len ON w(length(v))')\nc.commit()", f]);
      expect(integrityCheck(db, { above: 1024, size: "1 KB" }).how).toMatch(/^w: quick_check and the primary key's order/);
      expect(db.inTransaction).toBe(true);
      db.exec("ROLLBACK");
    } finally {
      db.close();
    }
  });
});
