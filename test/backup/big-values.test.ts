/**
 * Values above the big-value size (issue 17 item 3) are read from the file's pages in slices and
 * their backup line written and read in pieces. The test hook VOX_CUTOVER_BIG_VALUE_BYTES lowers the
 * size to 64 KB so real-shaped files stay small: blobs, TEXT with NUL, quotes, control characters
 * and multi-byte characters, TEXT that is not UTF-8; 4 KiB and 64 KiB pages, auto_vacuum FULL (the
 * overflow chain crosses pointer-map pages), a value that lives only in a live -wal, a virtual
 * generated column before the value, reserved bytes at the end of each page, a WITHOUT ROWID table
 * (read whole). Judged by Python's sqlite3
 * reading the database and Python's json reading the backup, never by our own reader alone.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { execaSync } from "execa";
import { tmp, dist, restoreBigValueBytesAfterAll } from "../helpers.js";
import type * as ExportM from "../../src/backup/export.js";
import type * as ReadM from "../../src/backup/read.js";
import type * as CompareM from "../../src/backup/compare.js";
import type * as TablesM from "../../src/backup/tables.js";
import type * as BigM from "../../src/backup/big-value.js";
import type * as RowSourceM from "../../src/backup/row-source.js";
import type * as LocalM from "../../src/db/local.js";
import type * as ErrorsM from "../../src/errors.js";

// From dist, as the CLI runs (the export's writer is a worker thread; one module instance for instanceof).
const { exportBackup } = await dist<typeof ExportM>("backup/export.js");
const { readBackup } = await dist<typeof ReadM>("backup/read.js");
const { verifyAgainstDatabase } = await dist<typeof CompareM>("backup/compare.js");
const { listBackupTables } = await dist<typeof TablesM>("backup/tables.js");
const { iterateRows, rowStatement } = await dist<typeof RowSourceM>("backup/row-source.js");
const { BigValue } = await dist<typeof BigM>("backup/big-value.js");
const { openReadOnly } = await dist<typeof LocalM>("db/local.js");
const { VoxError } = await dist<typeof ErrorsM>("errors.js");

let dir: string;
const p = (n: string) => join(dir, n);
restoreBigValueBytesAfterAll();

/** Builds the files with Python's sqlite3 (not our driver). */
const BUILD = String.raw`
import sqlite3, os, random, shutil, sys
d = sys.argv[1]
random.seed(7)
blob = bytes(random.getrandbits(8) for _ in range(300_000))
text = ("héllo\x00wörld \"q\" \\ \n\t\x01 \u2028 東京 🚀 " * 9000).encode()
latin = b"caf\xe9 \xff\xfe legacy " * 12000

def fill(c, big_blob=blob):
    c.execute("CREATE TABLE big(id INTEGER PRIMARY KEY, a TEXT, b BLOB, c)")
    c.execute("CREATE TABLE gen(x TEXT, y TEXT AS (substr(x, 1, 3)) VIRTUAL, z)")
    c.execute("CREATE TABLE wr(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID")
    c.execute("CREATE TABLE filler(v)")
    c.executemany("INSERT INTO filler VALUES (randomblob(3000))", [()] * 300)
    c.execute("INSERT INTO big VALUES (1, 'small', ?, CAST(? AS TEXT))", (big_blob, text))
    c.execute("INSERT INTO big VALUES (2, CAST(? AS TEXT), NULL, 42)", (latin,))
    c.execute("INSERT INTO big VALUES (3, CAST(? AS TEXT), zeroblob(70000), 1.5)", (text[:70001],))
    c.execute("INSERT INTO big VALUES (-5, CAST(? AS TEXT), x'00ff', '')", (text[:65537],))
    c.execute("DELETE FROM filler WHERE rowid % 3 = 0")
    c.execute("INSERT INTO gen(x, z) VALUES ('abcdef', ?)", (big_blob[:200_000],))
    c.execute("INSERT INTO gen(x, z) VALUES (CAST(? AS TEXT), 7)", (text[:100_000],))
    c.execute("INSERT INTO wr VALUES ('k', ?)", (big_blob,))
    c.commit()

def make(name, page, vacuum=0, big_blob=blob):
    c = sqlite3.connect(os.path.join(d, name))
    c.execute(f"PRAGMA page_size={page}")
    c.execute(f"PRAGMA auto_vacuum={vacuum}")
    fill(c, big_blob)
    c.close()

make("p4.db", 4096)
make("p64.db", 65536)
# 5 MB over 4 KiB pages: the chain crosses pointer-map pages (one every ~820 pages).
make("av.db", 4096, 1, bytes(random.getrandbits(8) for _ in range(5_000_000)))

# The values only in a live -wal: copied while the writer holds it (never checkpointed).
c = sqlite3.connect(os.path.join(d, "w.db"))
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("CREATE TABLE seed(v)")
c.commit()
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
fill(c)
shutil.copy(os.path.join(d, "w.db"), os.path.join(d, "wal.db"))
shutil.copy(os.path.join(d, "w.db-wal"), os.path.join(d, "wal.db-wal"))
c.close()
`;

/**
 * Python's judgement: every row of every table section of the backup equals the database's row
 * (read by Python, ordered by rowid or key): same storage class, same bytes. Prints a JSON summary.
 */
const JUDGE = String.raw`
import sqlite3, json, base64, sys, hashlib
db, backup = sys.argv[1], sys.argv[2]
c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
def val(v):
    if v is None: return ("null", None)
    if isinstance(v, bool): raise Exception("bool")
    if isinstance(v, int): return ("integer", v)
    if isinstance(v, str): return ("text", hashlib.sha3_256(v.encode()).hexdigest())
    (k, x), = v.items()
    if k == "i": return ("integer", int(x))
    if k == "r": return ("real", float(x))
    if k == "b": return ("blob", hashlib.sha3_256(base64.b64decode(x, validate=True)).hexdigest())
    if k == "t": return ("text", hashlib.sha3_256(base64.b64decode(x, validate=True)).hexdigest())
    raise Exception(k)
def dbval(t, v):
    if t == "text": return ("text", hashlib.sha3_256(v).hexdigest())
    if t == "blob": return ("blob", hashlib.sha3_256(v).hexdigest())
    return (t, v)
out = {}
lines = open(backup, "rb").read().split(b"\n")
header = json.loads(lines[0])
shapes = {t["name"]: t for t in header["tables"]}
cur = None; rows = []
for raw in lines[1:]:
    if not raw: continue
    o = json.loads(raw)
    if isinstance(o, dict):
        if o["k"] == "table": cur = shapes[o["name"]]; rows = []
        elif o["k"] == "end":
            t = cur
            cols = t["columns"]
            exprs = ", ".join(f'typeof("{x}"), CAST("{x}" AS BLOB)' if x != t["rowidColumn"] else f"'integer', {x}" for x in cols)
            order = t["rowidColumn"] or t["rowidAlias"] or ", ".join(t["primaryKey"]) or "rowid"
            live = c.execute(f'SELECT {exprs} FROM "{t["name"]}" ORDER BY {order}').fetchall()
            assert len(live) == len(rows), (t["name"], len(live), len(rows))
            n = 0
            for r, l in zip(rows, live):
                for i, v in enumerate(r):
                    a = val(v); b = dbval(l[2*i], l[2*i+1])
                    if a[0] == "real": b = (b[0], float(b[1]))
                    if b[0] == "integer": b = ("integer", int(b[1]))
                    assert a == b, (t["name"], cols[i], a, b)
                    n += 1
            out[t["name"]] = n
            cur = None
        continue
    rows.append(o)
print(json.dumps(out))
`;

function judge(db: string, backup: string): Record<string, number> {
  return JSON.parse(execaSync("python3", ["-c", JUDGE, db, backup]).stdout);
}

const base = { chain: "legacy", maxVersion: 1, baseline: { version: 60, digest: "" }, yieldEvery: false };

beforeAll(() => {
  dir = tmp("vox-big-");
  execaSync("python3", ["-c", BUILD, dir]);
  // 32 reserved bytes at the end of every page (usable size 4064): the sqlite3 CLI rewrites a copy with them.
  copyFileSync(p("p4.db"), p("rb.db"));
  execaSync("sqlite3", [p("rb.db"), ".filectrl reserve_bytes 32", "VACUUM"]);
  expect(readFileSync(p("rb.db"))[20]).toBe(32);
  process.env.VOX_CUTOVER_BIG_VALUE_BYTES = String(64 << 10);
}, 120_000);

/** The backup of p4.db (exported once, by whichever test needs it first). */
async function p4Backup(): Promise<string> {
  const out = p("p4.db.jsonl");
  if (!existsSync(out)) await exportBackup({ ...base, dbPath: p("p4.db"), outPath: out });
  return out;
}

/** How many values of a table the row reader hands over as BigValues (read from the pages). */
function bigCount(db: string, table: string): number {
  const d = openReadOnly(db);
  try {
    d.exec("BEGIN");
    const t = listBackupTables(d).find((x) => x.name === table)!;
    let n = 0;
    for (const r of iterateRows(rowStatement(d, t))) for (const v of r) if (v instanceof BigValue) n++;
    return n;
  } finally {
    d.close();
  }
}

describe("values above the big-value size: export and verify in slices", () => {
  for (const name of ["p4.db", "p64.db", "av.db", "wal.db", "rb.db"]) {
    it(`${name}: read from the pages, the backup equals the database (Python), verifies and compares equal`, async () => {
      const db = p(name);
      // The page path is taken for the rowid tables and the WITHOUT ROWID one (its index b-tree walked in key order).
      expect(bigCount(db, "big")).toBe(6);
      expect(bigCount(db, "gen")).toBe(2);
      expect(bigCount(db, "wr")).toBe(1);
      const out = p(`${name}.jsonl`);
      const exp = await exportBackup({ ...base, dbPath: db, outPath: out });
      const counts = judge(db, out);
      expect(counts.big).toBe(4 * 4);
      expect(counts.gen).toBe(2 * 3);
      expect(counts.wr).toBe(2);
      expect(counts.filler).toBe(200 * 2);
      // The whole-value path (threshold above every value) writes the same bytes.
      process.env.VOX_CUTOVER_BIG_VALUE_BYTES = String(1 << 30);
      try {
        const old = await exportBackup({ ...base, dbPath: db, outPath: p(`${name}.whole.jsonl`) });
        expect(old.tables).toEqual(exp.tables);
        const body = (f: string) => readFileSync(f, "utf8").split("\n").slice(1, -2).join("\n");
        expect(body(out) === body(p(`${name}.whole.jsonl`))).toBe(true);
      } finally {
        process.env.VOX_CUTOVER_BIG_VALUE_BYTES = String(64 << 10);
      }
      const { read, comparison } = await verifyAgainstDatabase(out, db);
      expect(read.fileSha256).toBe(exp.sha256);
      expect(comparison.firstDifference).toBeNull();
      expect(comparison.ok).toBe(true);
    }, 120_000);
  }

  it("a snapshot too small to hold a big value is read without the page reader; the decision is the snapshot's, not the file's now (WAL)", () => {
    // A small WAL file (a few pages, under the 64 KB big-value size), written by Python.
    const db = p("grow.db");
    const py = (code: string) => execaSync("python3", ["-c", `import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\n${code}\nc.commit()\nc.close()`, db]);
    py(`c.execute("PRAGMA journal_mode=WAL")\nc.execute("CREATE TABLE g(id INTEGER PRIMARY KEY, v)")\nc.execute("INSERT INTO g VALUES (1, x'00ff')")`);
    const d = openReadOnly(db);
    try {
      d.exec("BEGIN");
      const t = listBackupTables(d).find((x) => x.name === "g")!; // the snapshot starts here
      // A writer commits a 300 KB BLOB after the snapshot began: the file (with its WAL) now holds a big value.
      py(`c.execute("INSERT INTO g VALUES (2, randomblob(300000))")`);
      const old = rowStatement(d, t);
      expect(old.big).toBeNull();
      const rows = [...iterateRows(old)];
      expect(rows.map((r) => [r[0], Buffer.from(r[1] as Uint8Array).toString("hex")])).toEqual([[1n, "00ff"]]);
      d.exec("COMMIT");
      // The next snapshot holds it: the page reader is back, and the value comes as a BigValue, bit-exact.
      d.exec("BEGIN");
      const now = rowStatement(d, t);
      expect(now.big).not.toBeNull();
      const vals = [...iterateRows(now)].map((r) => r[1]);
      expect(vals[1]).toBeInstanceOf(BigValue);
      const chunks: Buffer[] = [];
      for (const s of (vals[1] as InstanceType<typeof BigValue>).open()) chunks.push(Buffer.from(s));
      const want = execaSync("python3", [
        "-c",
        `import sqlite3, sys, hashlib\nprint(hashlib.sha3_256(sqlite3.connect(sys.argv[1]).execute("SELECT v FROM g WHERE id = 2").fetchone()[0]).hexdigest())`,
        db,
      ]).stdout;
      expect(createHash("sha3-256").update(Buffer.concat(chunks)).digest("hex")).toBe(want);
      d.exec("COMMIT");
      // Outside a transaction every statement reads its own snapshot: the page reader is always kept.
      py(`c.execute("DELETE FROM g WHERE id = 2")\nc.commit()\nc.execute("VACUUM")`);
      expect(rowStatement(d, t).big).not.toBeNull();
    } finally {
      d.close();
    }
  });

  it("a row that is not canonical inside a long line is refused at its line; an edited byte fails the hash", async () => {
    const text = readFileSync(await p4Backup(), "latin1");
    const lines = text.split("\n");
    const at = lines.findIndex((l) => l.startsWith('[1,"small"'));
    expect(at).toBeGreaterThan(0);
    const edit = (f: (l: string) => string, name: string) => {
      const copy = [...lines];
      copy[at] = f(copy[at]!);
      writeFileSync(p(name), copy.join("\n"), "latin1");
      try {
        readBackup(p(name));
      } catch (e) {
        expect(e).toBeInstanceOf(VoxError);
        return (e as Error).message;
      }
      return "accepted";
    };
    // "h" written as \u0068: the same text, not as JSON.stringify writes it.
    expect(edit((l) => l.replace('"h\u00c3\u00a9llo', '"\\u0068\u00c3\u00a9llo'), "esc.jsonl")).toMatch(new RegExp(`line ${at + 1}.*not in canonical form`));
    // A base64 character that is not in the alphabet.
    expect(edit((l) => l.replace('{"b":"', '{"b":"*'), "b64.jsonl")).toMatch(/line \d+.*base64/);
    // One byte of the value changed (still canonical): the table's hash no longer matches.
    expect(edit((l) => l.replace(/\{"b":"(.)/, (_m, c: string) => `{"b":"${c === "A" ? "B" : "A"}`), "byte.jsonl")).toMatch(/content hash/);
    // Cut in the middle of the long line: truncated.
    writeFileSync(p("cut.jsonl"), lines.slice(0, at).join("\n") + "\n" + lines[at]!.slice(0, 150_000), "latin1");
    expect(() => readBackup(p("cut.jsonl"))).toThrow(/ends (inside a string|in the middle)/);
  });

  it('a {"t"} holding valid UTF-8 in a long line is refused (not canonical)', async () => {
    const lines = readFileSync(await p4Backup(), "latin1").split("\n");
    const at = lines.findIndex((l) => l.startsWith('[1,"small"'));
    const valid = Buffer.from("é".repeat(70_000)).toString("base64");
    lines[at] = lines[at]!.replace(/^\[1,"small"/, `[1,{"t":"${valid}"}`);
    writeFileSync(p("t.jsonl"), lines.join("\n"), "latin1");
    expect(() => readBackup(p("t.jsonl"))).toThrow(/valid UTF-8/);
  });
});
