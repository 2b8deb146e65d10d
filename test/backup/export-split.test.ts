/**
 * The export on two cores (issue 18): a reader worker reads tables from the last one down into a
 * spill file while the main thread reads from the first one up; the writer copies the worker's
 * tables in. The backup must be byte for byte the one-thread backup (judged here by Python's sqlite3
 * reading the database and the backup file, never by our reader), and of one committed state when a
 * real second process commits meanwhile: then `PRAGMA data_version` shows the commit and the export
 * is made again by the main thread alone. WAL files are read by one thread (export-split.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execa } from "execa";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, sampleInto, sqlite, tmp } from "../helpers.js";
import type * as ExportModule from "../../src/backup/export.js";
import type * as WorkersModule from "../../src/backup/export-workers.js";
import { splitPoint } from "../../dist/src/backup/export-split.js";
import type { BackupTable } from "../../dist/src/backup/format.js";

// The build: the workers run from compiled files.
const { exportBackup } = (await import(join(ROOT, "dist/src/backup/export.js"))) as typeof ExportModule;
const { withWorkersAhead } = (await import(join(ROOT, "dist/src/backup/export-workers.js"))) as typeof WorkersModule;

let dir: string;
let db: string;
const base = { chain: "legacy", maxVersion: 60, baseline: { version: 66, digest: "x" } };

/** Values real files hold, written by the sqlite3 CLI beside the sample filler's (NUL, non-UTF-8, int64 limits, TEXT in INTEGER columns). */
const EXTRA = `
CREATE TABLE zz_values (id INTEGER PRIMARY KEY, a TEXT, b, c INTEGER);
INSERT INTO zz_values VALUES (1, 'keep' || char(0) || 'this', CAST(x'4ce9' AS TEXT), 'text in an INTEGER column');
INSERT INTO zz_values VALUES (2, 'base64:SGVsbG8=', 3.0, 9223372036854775807);
INSERT INTO zz_values VALUES (3, CAST(x'c0af' AS TEXT), 1e308, -9223372036854775808);
INSERT INTO zz_values VALUES (4, '{"t":"AA=="}', x'00ff00', -0.0);
INSERT INTO zz_values VALUES (5, 'plain ü 東京 🚀', CAST(x'eda080' AS TEXT), 9007199254740993);
CREATE TABLE aa_values (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
INSERT INTO aa_values VALUES ('a' || char(0), CAST(x'ff' AS TEXT)), ('b', 2.5), ('c', x'');
`;

/**
 * Python's judgement: every table section of the backup (columns from its header) holds exactly the
 * rows the database holds, value by value (storage class and bytes; REAL by value), as multisets.
 * Prints the number of tables compared, or the first difference.
 */
const JUDGE = `
import base64, json, sqlite3, sys
con = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
def qi(n): return '"' + n.replace('"', '""') + '"'
def from_backup(v):
    if v is None: return ('null', None)
    if isinstance(v, bool): raise Exception('bool')
    if isinstance(v, int): return ('integer', v)
    if isinstance(v, str): return ('text', v.encode('utf-8').hex().upper())
    (k, x), = v.items()
    if k == 'i': return ('integer', int(x))
    if k == 'r': return ('real', repr(float({'-0': '-0.0', 'Infinity': 'inf', '-Infinity': '-inf'}.get(x, x)) if isinstance(x, str) else float(x)))
    if k == 't': return ('text', base64.b64decode(x).hex().upper())
    if k == 'b': return ('blob', base64.b64decode(x).hex().upper())
    raise Exception('bad value ' + json.dumps(v))
def from_db(t, v):
    if t == 'null': return ('null', None)
    if t == 'integer': return ('integer', int(v))
    if t == 'real': return ('real', repr(float(v)))
    return (t, v)
lines = open(sys.argv[2], 'rb').read().split(b'\\n')
header = json.loads(lines[0])
meta = {t['name']: t for t in header['tables']}
got = {}
cur = None
for ln in lines[1:]:
    if not ln: continue
    o = json.loads(ln)
    if isinstance(o, list): got[cur].append(tuple(from_backup(v) for v in o)); continue
    if o['k'] == 'table': cur = o['name']; got[cur] = []
compared = 0
for name, t in meta.items():
    cols = t['columns']
    exprs = []
    for i, c in enumerate(cols):
        ref = c if (i == 0 and t['rowidColumn']) else qi(c)
        exprs.append('typeof(%s)' % ref)
        exprs.append("CASE typeof(%s) WHEN 'real' THEN %s WHEN 'integer' THEN %s ELSE hex(%s) END" % (ref, ref, ref, ref))
    rows = [tuple(from_db(r[2*i], r[2*i+1]) for i in range(len(cols))) for r in con.execute('SELECT %s FROM %s' % (', '.join(exprs), qi(name)))]
    if sorted(rows, key=repr) != sorted(got.get(name, []), key=repr):
        print('DIFF', name, len(rows), len(got.get(name, [])))
        sys.exit(0)
    compared += 1
print(compared)
`;

function judge(dbPath: string, backup: string): string {
  return execFileSync("python3", ["-c", JUDGE, dbPath, backup]).toString().trim();
}

/** The backup without what differs run to run (its creation time, hence the file's hash). */
function comparable(path: string): string {
  const lines = readFileSync(path, "utf8").split("\n");
  const head = JSON.parse(lines[0]!);
  delete head.createdAt;
  const trailer = JSON.parse(lines[lines.length - 2]!);
  delete trailer.fileSha256;
  return [JSON.stringify(head), ...lines.slice(1, -2), JSON.stringify(trailer)].join("\n");
}

/** Rows the writer process committed, per table, as Python reads them from a backup file. */
function writerRowsIn(backup: string): { users: number; names: number } {
  const out = execFileSync("python3", [
    "-c",
    `import json,sys
n = {'users': 0, 'names': 0}
cur = None
for ln in open(sys.argv[1], 'rb'):
    o = json.loads(ln)
    if isinstance(o, dict):
        cur = o.get('name') if o['k'] == 'table' else cur
        continue
    if cur in n and 'writer' in o: n[cur] += 1
print(n['users'], n['names'])`,
    backup,
  ])
    .toString()
    .trim()
    .split(" ")
    .map(Number);
  return { users: out[0]!, names: out[1]! };
}

/** Each table the main thread finishes waits `ms`: the reader worker (started meanwhile) gets its share of a small file. */
function slow(ms: number): () => void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  return () => void Atomics.wait(pause, 0, 0, ms);
}

beforeAll(async () => {
  dir = tmp("vox-split-");
  ({ db } = await sampleInto(dir, 30));
  execFileSync("sqlite3", [db], { input: EXTRA });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("export-legacy on two cores (rollback-journal files)", () => {
  it("gives the one-thread backup byte for byte (NUL, non-UTF-8, ±2^63, 3.0, 1e308, base64: text, TEXT in INTEGER columns, WITHOUT ROWID), judged by Python", async () => {
    expect(sqlite(db, "PRAGMA journal_mode")).toBe("delete");
    const one = join(dir, "one.jsonl");
    const two = join(dir, "two.jsonl");
    const r1 = await exportBackup({ ...base, dbPath: db, outPath: one, splitAbove: Number.MAX_SAFE_INTEGER });
    const r2 = await exportBackup({ ...base, dbPath: db, outPath: two, splitAbove: 0, onProgress: slow(5) });
    expect(r1.readerTables).toBe(0);
    expect(r2.readerTables).toBeGreaterThan(10); // the worker read its share (tables are claimed one at a time from both ends)
    expect(r2.readerTables).toBeLessThan(r2.header.tables.length);
    expect(comparable(two)).toBe(comparable(one));
    expect(r2.tables).toEqual(r1.tables);
    expect(Number(judge(db, two))).toBe(r2.header.tables.length);
    expect(readdirSync(dir).filter((f) => f.includes("partial"))).toEqual([]); // the spill file is gone
  });

  it("workers started ahead (export-legacy starts them before its diagnosis) are the ones the export takes, and write the same bytes; read on one thread, only the writer is taken", async () => {
    const one = join(dir, "ahead-one.jsonl");
    await exportBackup({ ...base, dbPath: db, outPath: one, splitAbove: Number.MAX_SAFE_INTEGER, writerWorkerAbove: Number.MAX_SAFE_INTEGER });
    const saved = { split: process.env.VOX_CUTOVER_SPLIT_BYTES, writer: process.env.VOX_CUTOVER_WRITER_WORKER_BYTES };
    process.env.VOX_CUTOVER_SPLIT_BYTES = "0"; // this small file gets both, as a large one does
    process.env.VOX_CUTOVER_WRITER_WORKER_BYTES = "0";
    try {
      const ahead = join(dir, "ahead.jsonl");
      const r = await withWorkersAhead(db, true, () => exportBackup({ ...base, dbPath: db, outPath: ahead, onProgress: slow(5) }));
      expect(r.startedAhead).toEqual(["reader", "writer"]);
      expect([r.writerWorker, r.readerTables > 0]).toEqual([true, true]);
      expect(comparable(ahead)).toBe(comparable(one));
      // Read on one thread (here: the hook says so): the writer started ahead is taken, the reader is not.
      const r2 = await withWorkersAhead(db, true, () =>
        exportBackup({ ...base, dbPath: db, outPath: join(dir, "ahead1.jsonl"), splitAbove: Number.MAX_SAFE_INTEGER }),
      );
      expect(r2.startedAhead).toEqual(["writer"]);
      expect(r2.readerTables).toBe(0);
      expect(comparable(join(dir, "ahead1.jsonl"))).toBe(comparable(one));
      // Not started ahead: started by the export itself.
      expect((await exportBackup({ ...base, dbPath: db, outPath: join(dir, "ahead2.jsonl"), splitAbove: Number.MAX_SAFE_INTEGER })).startedAhead).toEqual([]);
    } finally {
      for (const [k, v] of [
        ["VOX_CUTOVER_SPLIT_BYTES", saved.split],
        ["VOX_CUTOVER_WRITER_WORKER_BYTES", saved.writer],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
    expect(readdirSync(dir).filter((f) => f.includes("partial"))).toEqual([]);
  });

  it("a row changed in the spill file between the reader worker and the writer (bytes on disk): the export fails naming the table, no backup is left", async () => {
    // The writer's per-table hashes are checked against the read side's (src/backup/writer-sink.ts
    // assertWritten): the cutover's verify may stand on the export's record without reading the
    // database again, so the record must be of the rows as they were read.
    const out = join(dir, "flipped.jsonl");
    const pause = slow(5);
    let flipped = "";
    const flip = () => {
      pause();
      if (flipped) return;
      const spill = readdirSync(dir).find((f) => f.startsWith(".flipped.jsonl.spill.partial-"));
      if (!spill) return;
      const path = join(dir, spill);
      const b = readFileSync(path);
      // The last line the worker wrote: its table's turn has not come yet (the writer copies a table in when it comes).
      const m = [...b.toString("latin1").matchAll(/\n\["?[0-9a-z]/g)].pop();
      if (!m) return;
      const at = m.index + m[0].length - 1;
      b[at] = b[at] === 0x7a || b[at] === 0x39 ? b[at]! - 1 : b[at]! + 1; // a letter or digit for another
      writeFileSync(path, b);
      flipped = spill;
    };
    const err = await exportBackup({ ...base, dbPath: db, outPath: out, splitAbove: 0, onProgress: flip }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(flipped).not.toBe("");
    expect(err?.message).toMatch(/did not write the rows of table \S+ as they were read/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes("flipped"))).toEqual([]);
  });

  it("no room for the spill file beside the backup: one thread reads (the disk gate counts one backup)", async () => {
    const file = join(dir, "full.db");
    copyFileSync(db, file);
    const bothFit = 2 * Math.ceil(1.5 * statSync(file).size); // the backup and, at worst, a spill as large
    const saved = process.env.VOX_CUTOVER_FREE_BYTES;
    try {
      process.env.VOX_CUTOVER_FREE_BYTES = String(bothFit - 1);
      const r1 = await exportBackup({ ...base, dbPath: file, outPath: join(dir, "full1.jsonl"), splitAbove: 0, onProgress: slow(5) });
      expect(r1.readerTables).toBe(0);
      expect(Number(judge(file, join(dir, "full1.jsonl")))).toBe(r1.header.tables.length);
      process.env.VOX_CUTOVER_FREE_BYTES = String(bothFit);
      const r2 = await exportBackup({ ...base, dbPath: file, outPath: join(dir, "full2.jsonl"), splitAbove: 0, onProgress: slow(5) });
      expect(r2.readerTables).toBeGreaterThan(0);
      expect(comparable(join(dir, "full2.jsonl"))).toBe(comparable(join(dir, "full1.jsonl")));
    } finally {
      if (saved === undefined) delete process.env.VOX_CUTOVER_FREE_BYTES;
      else process.env.VOX_CUTOVER_FREE_BYTES = saved;
    }
    expect(readdirSync(dir).filter((f) => f.includes("partial"))).toEqual([]);
  });

  it("a second process tries to commit all along: the backup is one committed state, and the writer's commits are kept", async () => {
    const file = join(dir, "busy.db");
    copyFileSync(db, file);
    const users0 = Number(sqlite(file, "SELECT count(*) FROM users"));
    const names0 = Number(sqlite(file, "SELECT count(*) FROM names"));
    const stop = join(dir, "stop");
    // Two rows per transaction, one in users and one in names; a commit the export's lock holds up is rolled back and tried again.
    const writer = execa(
      "python3",
      [
        "-c",
        `import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=0.01, isolation_level=None)
i = 0
while not os.path.exists(sys.argv[2]):
    try:
        c.execute('BEGIN IMMEDIATE')
        c.execute("INSERT INTO users(id, display_name) VALUES (?, 'writer')", ('w%07d' % i,))
        c.execute("INSERT INTO names(namespace, name, hash) VALUES ('writer', ?, 'h')", ('w%07d' % i,))
        c.execute('COMMIT')
        i += 1
        if i == 1: print('started', flush=True)
    except sqlite3.OperationalError:
        if c.in_transaction: c.execute('ROLLBACK')
    time.sleep(0.002)
print(i, flush=True)`,
        file,
        stop,
      ],
      { reject: false, stdin: "ignore" },
    );
    await new Promise<void>((res, rej) => {
      writer.stdout!.on("data", (d: Buffer) => d.toString().includes("started") && res());
      void writer.then((r) => rej(new Error(`writer ended: ${r.stderr}`)));
    });
    const out = join(dir, "busy.jsonl");
    let r!: Awaited<ReturnType<typeof exportBackup>>;
    try {
      // The product refuses to open a file whose journal is hot (the writer mid-transaction at that instant): tried again then.
      for (let attempt = 1; ; attempt++) {
        try {
          r = await exportBackup({ ...base, dbPath: file, outPath: out, splitAbove: 0, onProgress: slow(5) });
          break;
        } catch (e) {
          if (attempt >= 50 || !/hot rollback journal/.test(String(e))) throw e;
        }
      }
    } finally {
      writeFileSync(stop, "");
    }
    const w = await writer;
    expect(w.exitCode, w.stderr).toBe(0);
    const total = Number(w.stdout.trim().split("\n").pop());
    const rows = (t: string) => r.tables.find((x) => x.name === t)!.rows;
    // One committed state: as many writer rows in users as in names (each transaction wrote one to each) …
    expect(rows("users") - users0).toBe(rows("names") - names0);
    expect(rows("users") - users0).toBeGreaterThan(0);
    // … and the rows are those of that state, value by value, as Python reads the backup.
    expect(writerRowsIn(out)).toEqual({ users: rows("users") - users0, names: rows("names") - names0 });
    expect(sqlite(file, "SELECT count(*) FROM users WHERE display_name = 'writer'")).toBe(String(total));
    expect(sqlite(file, "PRAGMA integrity_check")).toBe("ok");
  });

  it("a file of no table, or one, is read by one thread (two readers need two tables): exported, not failed", async () => {
    for (const [name, sql, rows] of [
      ["none", "CREATE TABLE t(x); DROP TABLE t;", 0],
      ["one", "CREATE TABLE only_one(x); INSERT INTO only_one VALUES (3.0), (x'00'), ('a' || char(0));", 3],
    ] as const) {
      const file = join(dir, `tables-${name}.db`);
      sqlite(file, sql);
      const out = join(dir, `tables-${name}.jsonl`);
      const r = await exportBackup({ ...base, dbPath: file, outPath: out, splitAbove: 0 });
      expect(r.readerTables).toBe(0);
      expect(r.totalRows).toBe(rows);
      expect(Number(judge(file, out))).toBe(r.header.tables.length);
    }
    expect(readdirSync(dir).filter((f) => f.includes("partial"))).toEqual([]);
  });

  it("a WAL file (a live -wal) is read by one thread", async () => {
    const file = join(dir, "wal.db");
    copyFileSync(db, file);
    sqlite(file, "PRAGMA journal_mode=WAL");
    // A live -wal: a row committed after the switch, not checkpointed (the writer exits without closing).
    execFileSync("python3", [
      "-c",
      "import os,sqlite3,sys\nc=sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('PRAGMA wal_autocheckpoint=0')\nc.execute(\"INSERT INTO zz_values VALUES (6, 'in the wal', 1e-300, 7)\")\nos._exit(0)",
      file,
    ]);
    expect(existsSync(`${file}-wal`)).toBe(true);
    const out = join(dir, "wal.jsonl");
    const r = await exportBackup({ ...base, dbPath: file, outPath: out, splitAbove: 0 });
    expect(r.readerTables).toBe(0);
    expect(Number(judge(file, out))).toBe(r.header.tables.length);
  });
});

describe("splitPoint: where the reader worker starts", () => {
  const t = (rows: number, columns = 2) => ({ rows, columns: Array.from({ length: columns }, (_, i) => `c${i}`) }) as unknown as BackupTable;
  it.each([
    ["the first table after half of the values", [t(10), t(10), t(10), t(10)], 2],
    ["a large first table: the worker takes the rest", [t(1000), t(1), t(1)], 1],
    ["a large last table: at most the last one", [t(1), t(1), t(1000)], 2],
    ["columns count as values", [t(10, 1), t(10, 1), t(10, 8)], 2],
    ["nothing counted: at least 1", [t(0), t(0)], 1],
  ])("%s", (_, tables, at) => {
    expect(splitPoint(tables)).toBe(at);
  });
});

describe("the backup writer on the exporting thread (a small database, issue 18)", () => {
  it("writes the file the writer worker writes, byte for byte, judged by Python", async () => {
    const here = join(dir, "here.jsonl");
    const worker = join(dir, "worker.jsonl");
    const split = join(dir, "here-split.jsonl");
    // The default: a database of a few hundred KB is written by this thread.
    const r1 = await exportBackup({ ...base, dbPath: db, outPath: here, splitAbove: Number.MAX_SAFE_INTEGER });
    const r2 = await exportBackup({ ...base, dbPath: db, outPath: worker, splitAbove: Number.MAX_SAFE_INTEGER, writerWorkerAbove: 0 });
    // With the reader worker's tables spliced in from its spill file.
    const r3 = await exportBackup({ ...base, dbPath: db, outPath: split, splitAbove: 0, writerWorkerAbove: Number.MAX_SAFE_INTEGER, onProgress: slow(5) });
    expect([r1.writerWorker, r2.writerWorker, r3.writerWorker]).toEqual([false, true, false]);
    expect(r3.readerTables).toBeGreaterThan(0);
    expect(comparable(here)).toBe(comparable(worker));
    expect(comparable(split)).toBe(comparable(worker));
    expect(r1.tables).toEqual(r2.tables);
    // The whole-file hash is that of the bytes before the trailer (sha256sum's), and Python reads every row back.
    for (const [r, f] of [
      [r1, here],
      [r3, split],
    ] as const) {
      expect(execFileSync("bash", ["-c", 'head -n -1 "$1" | sha256sum', "-", f]).toString().split(" ")[0]).toBe(r.sha256);
      expect(Number(judge(db, f))).toBe(r.header.tables.length);
    }
    expect(readdirSync(dir).filter((f) => f.includes("partial"))).toEqual([]);
  });
});
