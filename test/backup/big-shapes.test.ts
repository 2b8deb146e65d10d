/**
 * Large values in tables that read them at insert (issue 17 item 3): a CHECK on the column, stored
 * and virtual generated columns computed from it, a UNIQUE column, STRICT TEXT, and WITHOUT ROWID
 * tables. The value goes through the stage (src/backup/big-write.ts: written over a zeroblob through
 * the pages of a private table, then inserted by the table's own INSERT reading it from there), so
 * SQLite checks, computes and indexes the real bytes while our process never holds them. The
 * big-value size is lowered to 64 KB (test hook). Judged by Python's sqlite3: typeof and sha3 of every
 * column (generated ones included) of the original and of the restored file, integrity_check, and a
 * CHECK that refuses the real value (a zeroblob would pass it). vox's own DDL has none of these shapes
 * (schema-66: no CHECK, generated column, STRICT or WITHOUT ROWID; UNIQUE only on keys such as
 * a2a_messages.message_uuid): the last test is that real case, through the CLI import.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { execaSync } from "execa";
import { BIG_VALUES_ABOVE_64K, cli, sampleChangedBy, tmp, dist, restoreBigValueBytesAfterAll } from "../helpers.js";
import type * as ExportM from "../../src/backup/export.js";
import type * as RestoreM from "../../src/backup/restore.js";

// From dist, as the CLI runs (the export's writer is a worker thread).
const { exportBackup } = await dist<typeof ExportM>("backup/export.js");
const { restoreBackup } = await dist<typeof RestoreM>("backup/restore.js");

const base = { chain: "legacy", maxVersion: 1, baseline: { version: 60, digest: "" }, yieldEvery: false };
restoreBigValueBytesAfterAll();
let dir: string;
const p = (n: string) => join(dir, n);

/** Built by Python's sqlite3 (not our driver). */
const BUILD = String.raw`
import sqlite3, sys, random
random.seed(11)
blob = bytes(random.getrandbits(8) for _ in range(300_000))
text = ("naïve \x00 \"q\" \\ \n 東京 🚀 " * 9000)
def fill(c):
    c.execute("CREATE TABLE chk(id INTEGER PRIMARY KEY, body TEXT CHECK (typeof(body) = 'text' AND substr(body, -3) = 'end'), n INTEGER)")
    c.execute("CREATE TABLE gens(id INTEGER PRIMARY KEY, body BLOB, tailhex TEXT AS (hex(substr(body, -4))) STORED, len INTEGER AS (length(body)) VIRTUAL, after REAL)")
    c.execute("CREATE TABLE uq(id INTEGER PRIMARY KEY, body TEXT UNIQUE, k INTEGER)")
    c.execute("CREATE TABLE st(id INTEGER PRIMARY KEY, body TEXT, any_v ANY, b BLOB) STRICT")
    c.execute("CREATE TABLE wr(k TEXT PRIMARY KEY, body TEXT, b BLOB, n INTEGER) WITHOUT ROWID")
    # (no NUL here: SQLite's substr counts a TEXT's characters up to its first NUL)
    c.execute("INSERT INTO chk VALUES (1, ?, 5)", (text.replace("\x00", "") + "end",))
    c.execute("INSERT INTO chk VALUES (2, 'short end', 6)")
    c.execute("INSERT INTO gens(id, body, after) VALUES (3, ?, -0.0)", (blob,))
    c.execute("INSERT INTO gens(id, body, after) VALUES (4, x'0102', 1.5)")
    # Two values of the same length that differ in their last byte: both must load (zeroblobs would collide).
    c.execute("INSERT INTO uq VALUES (5, ?, 1)", (text + "a",))
    c.execute("INSERT INTO uq VALUES (6, ?, 2)", (text + "b",))
    c.execute("INSERT INTO st VALUES (7, ?, ?, ?)", (text, text + "x", blob))
    c.execute("INSERT INTO st VALUES (8, 'small', 9007199254740993, NULL)")
    c.execute("INSERT INTO wr VALUES ('a', ?, ?, 1)", (text, blob))
    c.execute("INSERT INTO wr VALUES ('b', 'small', ?, 2)", (blob[:100_000],))
    c.commit()
c = sqlite3.connect(sys.argv[1] + "/shapes.db"); fill(c); c.close()
c = sqlite3.connect(sys.argv[1] + "/av.db"); c.execute("PRAGMA auto_vacuum=FULL"); fill(c); c.close()
# A value that breaks its CHECK (written with the CHECK off): the restore's INSERT must see the real bytes.
c = sqlite3.connect(sys.argv[1] + "/badcheck.db")
c.execute("CREATE TABLE chk(id INTEGER PRIMARY KEY, body TEXT CHECK (substr(body, -3) = 'end'))")
c.execute("PRAGMA ignore_check_constraints=1")
c.execute("INSERT INTO chk VALUES (1, ?)", (text.replace("\x00", "") + "xyz",))
c.commit(); c.close()
`;

/** Every column (generated ones too) of every table: typeof and sha3 of the bytes, in key order; integrity_check; tables left. */
const JUDGE = String.raw`
import sqlite3, sys, json, hashlib
def rows(path):
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    out = {}
    for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        cols = [r[1] for r in c.execute(f"PRAGMA table_xinfo({t})")]
        q = "SELECT " + ", ".join(f"typeof({x}), CAST({x} AS BLOB)" for x in cols) + f" FROM {t} ORDER BY 1"
        key = "k" if t == "wr" else "rowid"
        q = q.replace("ORDER BY 1", f"ORDER BY {key}")
        out[t] = [[v if i % 2 == 0 else (hashlib.sha3_256(v).hexdigest() if isinstance(v, bytes) else v) for i, v in enumerate(r)] for r in c.execute(q)]
    return out, c.execute("PRAGMA integrity_check").fetchone()[0], c.execute("PRAGMA freelist_count").fetchone()[0]
a, _, _ = rows(sys.argv[1])
b, integrity, free = rows(sys.argv[2])
print(json.dumps({"equal": a == b, "tables": sorted(b), "integrity": integrity, "free": free, "rows": {t: len(v) for t, v in b.items()}}))
`;

beforeAll(() => {
  dir = tmp("vox-big-shapes-");
  execaSync("python3", ["-c", BUILD, dir]);
  process.env.VOX_CUTOVER_BIG_VALUE_BYTES = String(64 << 10);
}, 60_000);

describe("large values in tables that read them at insert (64 KB threshold)", () => {
  for (const name of ["shapes.db", "av.db"]) {
    it(`${name}: CHECK, generated columns, UNIQUE, STRICT TEXT and WITHOUT ROWID restore with every byte and storage class`, async () => {
      await exportBackup({ ...base, dbPath: p(name), outPath: p(`${name}.jsonl`) });
      await restoreBackup(p(`${name}.jsonl`), p(`${name}.restored`));
      const r = JSON.parse(execaSync("python3", ["-c", JUDGE, p(name), p(`${name}.restored`)]).stdout) as {
        equal: boolean;
        tables: string[];
        integrity: string;
        free: number;
        rows: Record<string, number>;
      };
      expect(r.equal).toBe(true);
      expect(r.integrity).toBe("ok");
      // The stage is gone; its pages are free (the values went through it: at least one 64 KB value of 4 KiB pages).
      expect(r.tables).toEqual(["chk", "gens", "st", "uq", "wr"]);
      expect(r.free).toBeGreaterThan(16);
      expect(r.rows).toEqual({ chk: 2, gens: 2, st: 2, uq: 2, wr: 2 });
    }, 60_000);
  }

  it("an own-content FTS5 table: its large text is inserted back through the stage, found by MATCH, FTS5's integrity-check passes", async () => {
    const make = String.raw`
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE VIRTUAL TABLE notes USING fts5(title, body)")
c.execute("INSERT INTO notes(rowid, title, body) VALUES (3, 'big', ?)", ("lorem ipsum 東京 " * 9000 + " zebrafinch",))
c.execute("INSERT INTO notes(rowid, title, body) VALUES (4, 'small', 'hello')")
c.commit()`;
    execaSync("python3", ["-c", make, p("fts.db")]);
    await exportBackup({ ...base, dbPath: p("fts.db"), outPath: p("fts.jsonl") });
    await restoreBackup(p("fts.jsonl"), p("fts.restored"));
    const judge = String.raw`
import sqlite3, sys, json
a, b = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
q = "SELECT rowid, typeof(body), CAST(body AS BLOB) FROM notes ORDER BY rowid"
b.execute("INSERT INTO notes(notes) VALUES ('integrity-check')")
print(json.dumps([a.execute(q).fetchall() == b.execute(q).fetchall(), [r[0] for r in b.execute("SELECT rowid FROM notes WHERE notes MATCH 'zebrafinch'")],
  b.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'vox_cutover_big_stage%'").fetchone()[0], b.execute("PRAGMA integrity_check").fetchone()[0]]))`;
    expect(JSON.parse(execaSync("python3", ["-c", judge, p("fts.db"), p("fts.restored")]).stdout)).toEqual([true, [3], 0, "ok"]);
  }, 60_000);

  it("a CHECK is evaluated on the real bytes: a value that breaks it is refused, and nothing is left", async () => {
    await exportBackup({ ...base, dbPath: p("badcheck.db"), outPath: p("badcheck.jsonl") });
    await expect(restoreBackup(p("badcheck.jsonl"), p("badcheck.restored"))).rejects.toThrow(/CHECK constraint/);
    expect(execaSync("ls", [dir]).stdout.split("\n")).not.toContain("badcheck.restored");
  }, 60_000);

  it("vox's real UNIQUE key (a2a_messages.message_uuid) and an indexed column hold large values: import-legacy loads them exactly", async () => {
    const fill = String.raw`
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
u = "uuid-" + "0123456789abcdef" * 6000
ids = [r[0] for r in c.execute("SELECT id FROM a2a_messages ORDER BY id LIMIT 2")]
c.execute("UPDATE a2a_messages SET message_uuid = ?, receiver_agent = ?, payload = ? WHERE id = ?", (u + "1", "agent-" + "r" * 80000, "{" + "p" * 90000 + "}", ids[0]))
c.execute("UPDATE a2a_messages SET message_uuid = ? WHERE id = ?", (u + "2", ids[1]))
c.commit()`;
    const { d, db } = await sampleChangedBy("vox-big-uq-", fill);
    const env = BIG_VALUES_ABOVE_64K;
    const backup = join(d, "b.jsonl");
    expect((await cli(["export-legacy", backup, "--db", db], { env })).exitCode).toBe(0);
    const out = join(d, "new.db");
    const r = await cli(["import-legacy", backup, "--db", out, "--apply"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    const judge = String.raw`
import sqlite3, sys, json, hashlib
q = "SELECT id, typeof(message_uuid), typeof(receiver_agent), typeof(payload), CAST(message_uuid AS BLOB), CAST(receiver_agent AS BLOB), CAST(payload AS BLOB) FROM a2a_messages ORDER BY id"
h = lambda r: [r[0], r[1], r[2], r[3]] + [hashlib.sha3_256(x).hexdigest() for x in r[4:]]
a = [h(r) for r in sqlite3.connect(sys.argv[1]).execute(q)]
c = sqlite3.connect(sys.argv[2])
b = [h(r) for r in c.execute(q)]
print(json.dumps({"equal": a == b, "rows": len(b), "integrity": c.execute("PRAGMA integrity_check").fetchone()[0],
  "stage": c.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'vox_cutover_big_stage%'").fetchone()[0],
  "quarantined": c.execute("SELECT count(*) FROM legacy_quarantine WHERE source_table = 'a2a_messages'").fetchone()[0],
  "byIndex": c.execute("SELECT count(*) FROM a2a_messages INDEXED BY idx_a2a_receiver WHERE receiver_agent = ?", ("agent-" + "r" * 80000,)).fetchone()[0]}))`;
    const j = JSON.parse(execaSync("python3", ["-c", judge, db, out]).stdout) as Record<string, unknown>;
    expect(j).toEqual({ equal: true, rows: 10, integrity: "ok", stage: 0, quarantined: 0, byIndex: 1 });
  }, 120_000);

  it("a UTF-16 file: a big row's quarantined row_json is stored as UTF-16 text (it was written as UTF-8 bytes in place)", async () => {
    const d = tmp("vox-big-u16-");
    const make = String.raw`
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA encoding='UTF-16le'")
c.execute("CREATE TABLE big_values(id INTEGER PRIMARY KEY, v TEXT)")
c.execute("INSERT INTO big_values VALUES (1, ?)", ("héllo 東京 🚀 " * 10000,)); c.commit()`;
    execaSync("python3", ["-c", make, join(d, "vox.db")]);
    const env = { VOX_CUTOVER_BIG_VALUE_BYTES: String(64 << 10) };
    expect((await cli(["export-legacy", join(d, "b.jsonl"), "--db", join(d, "vox.db")], { env })).exitCode).toBe(0);
    const r = await cli(["import-legacy", join(d, "b.jsonl"), "--db", join(d, "new.db"), "--apply"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    const judge = String.raw`
import sqlite3, sys, json
c = sqlite3.connect(sys.argv[1])
row = json.loads(c.execute("SELECT row_json FROM legacy_quarantine WHERE source_table = 'big_values'").fetchone()[0])
print(json.dumps([c.execute("PRAGMA encoding").fetchone()[0], row["v"] == "héllo 東京 🚀 " * 10000, c.execute("PRAGMA integrity_check").fetchone()[0]]))`;
    expect(JSON.parse(execaSync("python3", ["-c", judge, join(d, "new.db")]).stdout)).toEqual(["UTF-16le", true, "ok"]);
  }, 120_000);

  it("a WITHOUT ROWID table whose pages are in another order than SQLite returns its rows (a NOCASE key on a BINARY column): its large values are read whole, named in the dry-run's text and --json", async () => {
    const add = String.raw`
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE TABLE own_wr(k TEXT, v BLOB, PRIMARY KEY(k COLLATE NOCASE)) WITHOUT ROWID")
c.execute("INSERT INTO own_wr VALUES ('a', randomblob(100000)), ('B', x'01')")
c.commit()`;
    const { db } = await sampleChangedBy("vox-big-wr-", add);
    const env = BIG_VALUES_ABOVE_64K;
    const j = await cli(["cutover", "--db", db, "--json"], { env });
    expect(j.exitCode, j.stderr).toBe(0);
    const readWhole = (j.json as { trial?: { readWhole?: unknown } }).trial?.readWhole;
    expect(readWhole).toEqual([
      {
        table: "own_wr",
        values: 1,
        reason: expect.stringMatching(
          /^WITHOUT ROWID: each value above 64 KB was read whole by the export \(SQLite reads it in an order other than its pages'/,
        ) as unknown,
      },
    ]);
    const t = await cli(["cutover", "--db", db], { env });
    expect(t.exitCode, t.stderr).toBe(0);
    expect(t.stdout + t.stderr).toMatch(/own_wr: 1 large value read whole — WITHOUT ROWID/);
  }, 180_000);

  it("a large key that breaks vox's UNIQUE (the legacy table lacked it) is refused by SQLite on its real bytes: quarantined with the reason and exact row_json", async () => {
    const dup = String.raw`
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
sql = c.execute("SELECT sql FROM sqlite_master WHERE name = 'a2a_messages'").fetchone()[0]
assert ",\n  UNIQUE (message_uuid)" in sql
c.execute("ALTER TABLE a2a_messages RENAME TO a2a_old")
c.execute(sql.replace(",\n  UNIQUE (message_uuid)", ""))
c.execute("INSERT INTO a2a_messages SELECT * FROM a2a_old"); c.execute("DROP TABLE a2a_old")
for i in [r[0] for r in c.execute("SELECT id FROM a2a_messages ORDER BY id LIMIT 2")]:
    c.execute("UPDATE a2a_messages SET message_uuid = ? WHERE id = ?", ("dup-" + "x" * 100000, i))
c.commit()`;
    const { d, db } = await sampleChangedBy("vox-big-dup-", dup);
    const env = BIG_VALUES_ABOVE_64K;
    expect((await cli(["export-legacy", join(d, "b.jsonl"), "--db", db], { env })).exitCode).toBe(0);
    const r = await cli(["import-legacy", join(d, "b.jsonl"), "--db", join(d, "new.db"), "--apply"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    const judge = String.raw`
import sqlite3, sys, json
c = sqlite3.connect(sys.argv[1])
q = c.execute("SELECT source_rowid, reason, row_json FROM legacy_quarantine WHERE source_table = 'a2a_messages'").fetchall()
print(json.dumps({"rows": c.execute("SELECT count(*) FROM a2a_messages").fetchone()[0],
  "held": c.execute("SELECT count(*) FROM a2a_messages WHERE message_uuid = ?", ("dup-" + "x" * 100000,)).fetchone()[0],
  "quarantined": [[x[0], x[1], json.loads(x[2])["message_uuid"] == "dup-" + "x" * 100000] for x in q],
  "stage": c.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'vox_cutover_big_stage%'").fetchone()[0],
  "integrity": c.execute("PRAGMA integrity_check").fetchone()[0]}))`;
    const j = JSON.parse(execaSync("python3", ["-c", judge, join(d, "new.db")]).stdout) as { quarantined: [number, string, boolean][] };
    expect(j).toEqual({
      rows: 9,
      held: 1,
      quarantined: [[expect.any(Number), "constraint: UNIQUE constraint failed: a2a_messages.message_uuid", true]],
      stage: 0,
      integrity: "ok",
    });
  }, 120_000);
});
