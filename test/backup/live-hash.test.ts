/**
 * The live database's hashes for verify-backup --db. A rollback-journal file: a worker hashes
 * tables in its read snapshot and the main thread takes the ones left once it is free — only when
 * `PRAGMA data_version` proves its own snapshot is the same state. A real second process (Python's
 * sqlite3) commits to every table after the worker's snapshot opened: every hash must be of one
 * state. A WAL file is never read by two threads at once (twoThreadReads): this thread hashes it
 * alone, and a writer committing and checkpointing all along never makes the hash differ from the
 * file's content (a torn read on the main thread was seen there, 2026-12-03).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { execa } from "execa";
import { sqlite, tmp } from "../helpers.js";
// The build: the worker runs from compiled files.
import { LiveHash, liveHashFailed, type LiveTable } from "../../dist/src/backup/live-hash.js";
import { fromWire, refused, toWire, VoxError } from "../../dist/src/errors.js";
import { hashDatabase, hashTable, listBackupTables } from "../../dist/src/backup/tables.js";
import { openReadOnly } from "../../dist/src/db/local.js";
import { untilStarted } from "../fixtures/writer-process.js";

let dir: string;
const TABLES = 16;

beforeAll(() => {
  dir = tmp();
  // Enough rows that the worker cannot hash every table before the main thread joins.
  const sql = ["PRAGMA journal_mode=delete;"];
  for (let t = 0; t < TABLES; t++) {
    sql.push(`CREATE TABLE t${t} (id INTEGER PRIMARY KEY, a TEXT, b REAL, c BLOB);`);
    sql.push(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) INSERT INTO t${t} SELECT i, 'row ' || i || ' é', i * 0.5, randomblob(8) FROM n;`,
    );
  }
  execFileSync("sqlite3", [join(dir, "journal.db")], { input: sql.join("\n") });
  // The WAL file is hashed by one thread: no race to make, so fewer rows (each table still in the WAL's way).
  execFileSync("sqlite3", [join(dir, "wal.db")], {
    input: sql.join("\n").replace("journal_mode=delete", "journal_mode=wal").replaceAll("i < 10000", "i < 3000"),
  });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function copyOf(from: "journal" | "wal", name: string): string {
  const f = join(dir, name);
  copyFileSync(join(dir, `${from}.db`), f);
  return f;
}

const sorted = (t: LiveTable[]) => [...t].sort((a, b) => a.name.localeCompare(b.name));
const updateEveryTable = Array.from({ length: TABLES }, (_, t) => `UPDATE t${t} SET a = 'changed' WHERE id = 3000;`).join(" ");

describe("live hashes of a rollback-journal file: two threads, one snapshot", () => {
  it("the main thread joins in when nothing was committed, and the hashes are the database's", async () => {
    const db = copyOf("journal", "quiet.db");
    expect(sqlite(db, "PRAGMA journal_mode")).toBe("delete");
    const expected = hashDatabase(db);
    const live = new LiveHash(db, 0);
    expect(live.readers).toBe("both");
    await live.ready();
    await live.help();
    const got = await live.result;
    expect(live.helped).toBeGreaterThan(0);
    expect(sorted(got)).toEqual(sorted(expected));
  });

  it("a commit tried after the worker's snapshot opened: every hash is of one state, and the commit is kept", async () => {
    const db = copyOf("journal", "busy.db");
    const before = sorted(hashDatabase(db));
    const live = new LiveHash(db, 0);
    await live.ready();
    // The worker holds its SHARED lock: the writer waits for it (busy timeout), then commits.
    const writer = execa("python3", [
      "-c",
      `import sqlite3,sys; c = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None); c.executescript(sys.argv[2]); c.close()`,
      db,
      updateEveryTable,
    ]);
    await live.help();
    const got = sorted(await live.result);
    expect((await writer).exitCode).toBe(0);
    const after = sorted(hashDatabase(db));
    expect(after).not.toEqual(before); // the commit changed every table
    expect([before, after]).toContainEqual(got);
    expect(sqlite(db, "SELECT count(*) FROM t0 WHERE a = 'changed'")).toBe("1");
  });
});

describe("a hash leaves no read lock behind", () => {
  it("a table whose rows switch to the row statement (REAL, BLOB): after COMMIT another process gets EXCLUSIVE at once", () => {
    const db = copyOf("journal", "unlocked.db");
    const c = openReadOnly(db);
    try {
      c.exec("BEGIN");
      const t = listBackupTables(c).find((x) => x.name === "t0")!;
      expect(hashTable(c, t).rows).toBe(10000);
      c.exec("COMMIT");
      // libsql's iterator, left at the switch, kept stepping: SQLite's read lock stayed until GC (and its late close dropped other connections' locks).
      const got = execFileSync("python3", [
        "-c",
        "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)\ntry:\n  c.execute('BEGIN EXCLUSIVE'); print('free'); c.execute('ROLLBACK')\nexcept Exception as e: print('locked:', e)",
        db,
      ])
        .toString()
        .trim();
      expect(got).toBe("free");
    } finally {
      c.close();
    }
  });
});

describe("live hashes of a WAL file: one thread", () => {
  it("this thread hashes it alone (no worker), and the hashes are the database's", async () => {
    const db = copyOf("wal", "wal.db");
    expect(sqlite(db, "PRAGMA journal_mode")).toBe("wal");
    const expected = hashDatabase(db);
    const live = new LiveHash(db, 0);
    expect(live.readers).toBe("this thread");
    await live.ready();
    await live.help();
    expect(sorted(await live.result)).toEqual(sorted(expected));
    expect(live.helped).toBe(0);
  });

  it("a commit before this thread is free: the hashes are of the committed state", async () => {
    const db = copyOf("wal", "wal-busy.db");
    const before = sorted(hashDatabase(db));
    const live = new LiveHash(db, 0);
    execFileSync("python3", [
      "-c",
      `import sqlite3,sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.executescript(sys.argv[2]); c.close()`,
      db,
      updateEveryTable,
    ]);
    await live.help();
    const got = sorted(await live.result);
    const after = sorted(hashDatabase(db));
    expect(after).not.toEqual(before);
    expect(got).toEqual(after);
  });

  it("another process committing and checkpointing all along (content unchanged): the hash is always the file's", async () => {
    const db = copyOf("wal", "wal-writer.db");
    const expected = sorted(hashDatabase(db));
    const stop = join(dir, "stop");
    // Rewrites rows with their own values (new WAL frames, same content) and checkpoints, over and over.
    const writer = execa(
      "python3",
      [
        "-c",
        `import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=5, isolation_level=None)
i = 0
while not os.path.exists(sys.argv[2]):
    t = i % ${TABLES}
    c.execute('UPDATE t%d SET a = a, b = b WHERE id %% 50 = %d' % (t, i % 50))
    if i % 3 == 2: c.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    i += 1
    if i == 1: print('started', flush=True)
print(i, flush=True)`,
        db,
        stop,
      ],
      { reject: false, stdin: "ignore" },
    );
    await untilStarted(writer);
    try {
      for (let run = 0; run < 3; run++) {
        const live = new LiveHash(db, 0);
        await live.help();
        expect(sorted(await live.result), `run ${run}`).toEqual(expected);
      }
    } finally {
      writeFileSync(stop, "");
    }
    const w = await writer;
    expect(w.exitCode, w.stderr).toBe(0);
    expect(Number(w.stdout.trim().split("\n").pop())).toBeGreaterThan(3); // it committed all along
    expect(existsSync(db)).toBe(true);
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
  });
});

describe("a failure while the live database is hashed", () => {
  it("a refusal stays a refusal (its exit code), also when a worker thread posts it; another error is a failure, its message not doubled at its full stop", () => {
    const r = refused({ what: "x-journal is a hot rollback journal.", next: "Stop it first." });
    expect(liveHashFailed("/db", r)).toBe(r);
    const back = fromWire(toWire(r));
    expect(back).toBeInstanceOf(VoxError);
    expect((back as VoxError).kind).toBe("refused");
    expect((back as VoxError).exitCode).toBe(3);
    expect(liveHashFailed("/db", back)).toBe(back);
    const f = liveHashFailed("/db", fromWire(toWire(new Error("disk I/O error."))));
    expect((f as VoxError).kind).toBe("failed");
    expect((f as VoxError).what).toBe("Could not read /db to compare it with the backup: disk I/O error.");
  });
});
