/**
 * verify-backup --db hashes the backup's rows without parsing them and proves them through the
 * database's canonical hashes; a backup edited by hand with every hash recomputed must still be
 * refused at its first bad line, as the full row-by-row check names it (tamper-backup.py is an
 * independent editor: Python's json and hashlib).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { execa } from "execa";
import { cli, dist, sqlite, tmp } from "../helpers.js";
import { makeTortureDb } from "../fixtures/torture.js";

let dir: string;
const p = (n: string) => join(dir, n);
const TAMPER = join(import.meta.dirname, "..", "guard", "tamper-backup.py");

/** A copy of the good backup named `name`, edited by tamper-backup.py with `args` (every hash recomputed). */
async function tampered(name: string, ...args: string[]): Promise<string> {
  const f = p(name);
  copyFileSync(p("good.jsonl"), f);
  await execa("python3", [TAMPER, f, ...args]);
  return f;
}

/** The verify step and the content-version probe, from the build (as the CLI runs them). */
const verifyParts = async () => ({ ...(await dist<Verify>("backup/compare.js")), ...(await dist<Probe>("db/probe.js")) });

beforeAll(async () => {
  dir = tmp();
  makeTortureDb(p("src.db"));
  const r = await cli(["export-legacy", p("good.jsonl"), "--db", p("src.db")]);
  if (r.exitCode !== 0) throw new Error(r.stderr);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("verify-backup --db: rows proven by the database's hashes, damage still named at its line", () => {
  it("passes a good backup", async () => {
    const r = await cli(["verify-backup", p("good.jsonl"), "--db", p("src.db"), "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.ok).toBe(true);
  });

  it.each([
    ["a non-canonical spelling, every hash recomputed", ["plain"], /at line \d+ \(table plain\): the row is not in canonical form/],
    ["two rows swapped, every hash recomputed", ["ipk", "swap"], /at line \d+ \(table ipk\): rows are not in ascending rowid order/],
  ])("refuses %s (exit 3)", async (_name, args, message) => {
    const f = await tampered(`t-${args.join("-")}.jsonl`, ...args);
    // Internally consistent: a read without the database's proof would not see it by its hashes.
    const v = await cli(["verify-backup", f, "--db", p("src.db"), "--json"]);
    expect(v.exitCode, v.stderr).toBe(3);
    expect(v.stderr).toMatch(message);
  });
});

type Verify = typeof import("../../src/backup/compare.js");
type Probe = typeof import("../../src/db/probe.js");

/** The export's record as the cutover journals it, read from the file's own last line (the trailer): per table, sqlite_sequence apart. */
function recordOf(file: string, identity: ReturnType<Probe["contentState"]> | null) {
  const lines = readFileSync(file, "utf8").trimEnd().split("\n");
  const trailer = JSON.parse(lines.at(-1)!) as { tables: { name: string; rows: number; sha256: string }[] };
  return {
    sha256: createHash("sha256").update(readFileSync(file)).digest("hex"),
    identity,
    tables: trailer.tables.filter((t) => t.name !== "sqlite_sequence"),
    sequenceTable: trailer.tables.find((t) => t.name === "sqlite_sequence") ?? null,
  };
}

describe("the verify right after an export (verifyExport): the export's reading while the database is unchanged, else a re-read", () => {
  const count = (db: string, t: string) => Number(sqlite(db, `SELECT count(*) FROM "${t.replace(/"/g, '""')}"`));

  it("unchanged since the export: counted by SQLite, not re-read; every count is the database's (WITHOUT ROWID, FTS5, sqlite_sequence)", async () => {
    const { verifyExport, contentState } = await verifyParts();
    const v = await verifyExport(p("good.jsonl"), p("src.db"), recordOf(p("good.jsonl"), contentState(p("src.db"))));
    expect(v.live).toBe("content-version");
    expect(v.comparison.ok, String(v.comparison.firstDifference)).toBe(true);
    for (const t of ["wr", "notes_fts", "sqlite_sequence", "ipk", `we"ird name's`]) {
      expect(v.comparison.tables.find((x) => x.name === t)?.dbRows, t).toBe(count(p("src.db"), t)); // the sqlite3 CLI's count
    }
  });

  it("a value edited with every hash and the trailer recomputed: refused by the export's record, the journal's sha256 of the file or not", async () => {
    const { verifyExport, contentState } = await verifyParts();
    const f = await tampered("t-letter.jsonl", "autoinc", "letter");
    const rec = recordOf(p("good.jsonl"), contentState(p("src.db")));
    const v = await verifyExport(f, p("src.db"), rec);
    expect(v.live).toBe("content-version");
    expect(v.read.fileSha256).not.toBe(rec.sha256); // the step refuses on this first
    expect(v.comparison.ok).toBe(false);
    // Even with the journal's whole-file hash made to match, the per-table record names the table.
    const w = await verifyExport(f, p("src.db"), { ...rec, sha256: v.read.fileSha256 });
    expect(w.comparison.ok).toBe(false);
    expect(w.comparison.firstDifference).toMatch(/^table autoinc .* the export recorded/);
  });

  it("a backup one row short whose record says so too: SQLite's count of the live table refuses it, naming the table", async () => {
    const { verifyExport, contentState } = await verifyParts();
    const f = await tampered("t-drop.jsonl", "wr", "drop");
    const v = await verifyExport(f, p("src.db"), recordOf(f, contentState(p("src.db"))));
    expect(v.live).toBe("content-version");
    expect(v.comparison.ok).toBe(false);
    const n = count(p("src.db"), "wr");
    expect(v.comparison.firstDifference).toBe(`table wr has ${n} rows in the database, ${n - 1} in the backup`);
  });

  it("re-reads the database when its content version moved (a row written after the export: refused naming the table) or the record is older", async () => {
    const { verifyExport, contentState } = await verifyParts();
    const db = p("written.db");
    copyFileSync(p("src.db"), db);
    const rec = recordOf(p("good.jsonl"), contentState(db));
    const { sequenceTable: _older, ...older } = rec;
    const same = await verifyExport(p("good.jsonl"), db, older);
    expect(same.live).toBe("re-read");
    expect(same.reReadBecause).toMatch(/older run/);
    expect(same.comparison.ok, String(same.comparison.firstDifference)).toBe(true);
    await execa("python3", [
      "-c",
      "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute(\"INSERT INTO ipk(id, v) VALUES (424242, 'late')\")\nc.commit()",
      db,
    ]);
    const v = await verifyExport(p("good.jsonl"), db, rec);
    expect(v.live).toBe("re-read");
    expect(v.reReadBecause).toMatch(/content version changed/);
    expect(v.comparison.ok).toBe(false);
    expect(v.comparison.firstDifference).toMatch(/^table ipk has \d+ rows in the database/);
  });
});

describe("the verify right after an export with the whole-file hash on another core (from 32 MB; here VOX_CUTOVER_HASH_BESIDE_BYTES=0)", () => {
  /** The sha256 of the bytes before the last line (the trailer), by Python's hashlib: what the trailer's fileSha256 claims. */
  const beforeTrailer = async (f: string) =>
    (
      await execa("python3", [
        "-c",
        "import hashlib,sys\nb=open(sys.argv[1],'rb').read()\nprint(hashlib.sha256(b[:b.rstrip(b'\\n').rfind(b'\\n')+1]).hexdigest())",
        f,
      ])
    ).stdout.trim();
  /** The export's record as the run keeps it: the whole-file hash is the writer's (the bytes before the trailer). */
  const record = async (f: string, db: string) => {
    const { contentState } = await verifyParts();
    return { ...recordOf(f, contentState(db)), sha256: await beforeTrailer(f) };
  };
  const beside = async <T>(fn: () => Promise<T>): Promise<T> => {
    process.env.VOX_CUTOVER_HASH_BESIDE_BYTES = "0";
    try {
      return await fn();
    } finally {
      delete process.env.VOX_CUTOVER_HASH_BESIDE_BYTES;
    }
  };
  /** A copy of the good backup edited by a Python script (`sys.argv[1]` its path). */
  const edited = async (name: string, py: string) => {
    const f = p(name);
    copyFileSync(p("good.jsonl"), f);
    await execa("python3", ["-c", py, f]);
    return f;
  };

  it("a good backup: the worker's hash is taken, it is the bytes before the trailer (an independent reader's) and the export's record; the comparison passes", async () => {
    const { verifyExport } = await verifyParts();
    const rec = await record(p("good.jsonl"), p("src.db"));
    const v = await beside(() => verifyExport(p("good.jsonl"), p("src.db"), rec));
    expect(v.hashedBeside).toBe(true);
    expect(v.comparison.ok, String(v.comparison.firstDifference)).toBe(true);
    expect(v.read.fileSha256).toBe(rec.sha256);
    const here = await verifyExport(p("good.jsonl"), p("src.db"), rec);
    expect(here.hashedBeside).toBe(false); // below 32 MB: one thread
    expect(here.read.fileSha256).toBe(rec.sha256);
  });

  /** Refused with and without the worker, in the same words. */
  const refusedAlike = async (f: string, words: RegExp) => {
    const { verifyExport } = await verifyParts();
    const rec = await record(p("good.jsonl"), p("src.db"));
    await expect(beside(() => verifyExport(f, p("src.db"), rec))).rejects.toThrow(words);
    await expect(verifyExport(f, p("src.db"), rec)).rejects.toThrow(words);
  };

  it("a section line rewritten to the same JSON (only the whole-file hash sees it): refused alike", async () => {
    const f = await edited(
      "t-spaced.jsonl",
      'import sys\nb=open(sys.argv[1],\'rb\').read()\nassert b\'{"k":"table"\' in b\nopen(sys.argv[1],\'wb\').write(b.replace(b\'{"k":"table"\', b\'{"k": "table"\', 1))',
    );
    await refusedAlike(f, /does not verify: the whole-file hash \([0-9a-f]{64}\) differs from the trailer's/);
  });

  it("a row line made non-canonical with its table's hash recomputed (the trailer's whole-file hash kept): refused alike, naming the line", async () => {
    const PY = [
      "import hashlib,json,sys",
      "L=open(sys.argv[1],'rb').read().split(b'\\n')[:-1]",
      "i=next(j for j,l in enumerate(L) if l.startswith(b'[') and b',' in l)",
      "L[i]=L[i].replace(b',',b', ',1)",
      's=max(j for j in range(i) if L[j].startswith(b\'{"k":"table"\'))',
      'e=next(j for j in range(i,len(L)) if L[j].startswith(b\'{"k":"end"\'))',
      "h=hashlib.sha256(b''.join(l+b'\\n' for l in L[s+1:e])).hexdigest()",
      "end=json.loads(L[e]); end['sha256']=h; L[e]=json.dumps(end,separators=(',',':'),ensure_ascii=False).encode()",
      "tr=json.loads(L[-1]); [t.update(sha256=h) for t in tr['tables'] if t['name']==end['name']]",
      "L[-1]=json.dumps(tr,separators=(',',':'),ensure_ascii=False).encode()",
      "open(sys.argv[1],'wb').write(b''.join(l+b'\\n' for l in L))",
    ].join("\n");
    await refusedAlike(await edited("t-noncanon.jsonl", PY), /does not verify at line \d+ \(table [^)]+\): the row is not in canonical form/);
  });

  it("a trailer whose whole-file hash is not a string (the right hash inside an array): refused alike", async () => {
    const PY = [
      "import json,sys",
      "L=open(sys.argv[1],'rb').read().split(b'\\n')[:-1]",
      "tr=json.loads(L[-1]); tr['fileSha256']=[tr['fileSha256']]",
      "L[-1]=json.dumps(tr,separators=(',',':'),ensure_ascii=False).encode()",
      "open(sys.argv[1],'wb').write(b''.join(l+b'\\n' for l in L))",
    ].join("\n");
    await refusedAlike(await edited("t-array.jsonl", PY), /does not verify: the whole-file hash \([0-9a-f]{64}\) differs from the trailer's/);
  });
});

describe("a table whose count(*) reads a damaged index: the export reads every row anyway and refuses", () => {
  // The fast verify holds the live database to SQLite's count(*); a damaged index can make that
  // count wrong (here 0 for a table of 4 rows: two indexes' root pages swapped). The export reads
  // every table whatever it was counted at, so it sees the 4 rows and refuses; a table counted 0
  // and skipped would have been "verified" empty (review of session 11).
  const DAMAGE = [
    "import sqlite3,sys",
    "c=sqlite3.connect(sys.argv[1]); c.isolation_level=None",
    "c.execute('CREATE TABLE scheduled (id INTEGER PRIMARY KEY, function_hash TEXT NOT NULL, args BLOB)')",
    "c.execute('CREATE INDEX s_f ON scheduled(function_hash)')",
    "c.execute('CREATE TABLE e (a TEXT)'); c.execute('CREATE INDEX e_a ON e(a)')",
    "[c.execute('INSERT INTO scheduled VALUES (?, ?, ?)', (900+i, 'f', bytes([i,0,255]))) for i in range(4)]",
    "ra=c.execute(\"SELECT rootpage FROM sqlite_master WHERE name='s_f'\").fetchone()[0]",
    "rb=c.execute(\"SELECT rootpage FROM sqlite_master WHERE name='e_a'\").fetchone()[0]",
    "v=c.execute('PRAGMA schema_version').fetchone()[0]",
    "c.execute('PRAGMA writable_schema=ON')",
    "c.execute('UPDATE sqlite_master SET rootpage=? WHERE name=?', (rb,'s_f')); c.execute('UPDATE sqlite_master SET rootpage=? WHERE name=?', (ra,'e_a'))",
    "c.execute(f'PRAGMA schema_version={v+1}')",
  ].join("\n");

  it("export-legacy and drill exit 1 naming the table and both counts; nothing written", async () => {
    const db = p("damaged.db");
    await execa("python3", ["-c", DAMAGE, db]);
    // the independent reader sees the damage: count(*) by the index says 0, the table itself holds 4
    expect(sqlite(db, "SELECT (SELECT count(*) FROM scheduled) || '/' || (SELECT count(*) FROM scheduled NOT INDEXED)")).toBe("0/4");
    const before = readFileSync(db);
    const ex = await cli(["export-legacy", p("damaged.jsonl"), "--db", db]);
    expect(ex.exitCode, ex.stderr).toBe(1);
    expect(ex.stderr).toMatch(/read 4 rows of table scheduled where SQLite's count\(\*\) gives 0/);
    expect(ex.stderr).toMatch(/PRAGMA integrity_check/);
    const drill = await cli(["drill", "--db", db, "--work-dir", p("damaged-drill")]);
    expect(drill.exitCode, drill.stderr).toBe(1);
    expect(drill.stderr).toMatch(/read 4 rows of table scheduled/);
    expect(() => readFileSync(p("damaged.jsonl"))).toThrow();
    expect(readFileSync(db).equals(before)).toBe(true);
  });
});
