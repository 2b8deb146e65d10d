import { describe, expect, it } from "vitest";
import { existsSync, rmSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { settleReadersSideFiles, writeTransactionInto } from "../../src/db/files.js";
import { allRows, openReadOnly } from "../../src/db/local.js";
import { releaseClosedHandles } from "../../src/safety/hold.js";
import { execa } from "execa";
import { settleAfterRun } from "../../src/cutover/steps.js";
import { tmp } from "../helpers.js";

// Peak RSS (issue 18): the loading connection's page cache also bounds SQLite's sorter (an index
// build keeps up to cache_size of keys in memory), so the build holds up to twice it. 16 MB put the
// 1 GB cutover at the 200 MB line; this guards the smaller size without a timed test.
describe("a private new file's loading connection", () => {
  it.each([false, true])("has a page cache of at most 8 MiB (readers beside: %s)", async (readersBeside) => {
    const dir = tmp();
    try {
      const cache = await writeTransactionInto({ path: join(dir, "new.db"), mode: "scratch", tag: "cachetest", fast: true, readersBeside }, (db) =>
        Number(allRows(db, "PRAGMA main.cache_size")[0]!.cache_size),
      );
      // Negative: KiB; positive: pages (of at most 64 KiB each).
      const kib = cache < 0 ? -cache : cache * 64;
      expect(kib).toBeGreaterThanOrEqual(2048); // not below SQLite's default
      expect(kib).toBeLessThanOrEqual(8192);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The swap renames the new file alone: the empty -wal and the -shm that a read-only look at a WAL-mode
// file leaves must be gone by then (helper-91), removed by SQLite itself when a read-write connection
// closes last — at once, not when a GC finalizes a statement that kept the connection open.
describe("a WAL-mode file's side files after a read-only look", () => {
  it("are removed by settleReadersSideFiles once the look's connection is released (as the swap does before its hold), the file unwritten; a -wal holding frames is left as it is", async () => {
    const dir = tmp();
    try {
      const db = join(dir, "new.db");
      execFileSync("sqlite3", [db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1);"]);
      const before = execFileSync("sqlite3", [db, ".sha3sum"]).toString();
      const ro = openReadOnly(db, { copy: false });
      expect(allRows(ro, "SELECT count(*) AS n FROM t")[0]!.n).toBe(1n);
      ro.close();
      // libsql ends a closed connection only once its statements are collected: the swap releases them before its hold.
      await releaseClosedHandles();
      expect([existsSync(db + "-wal"), existsSync(db + "-shm")]).toEqual([true, true]);
      settleReadersSideFiles(db);
      expect([existsSync(db + "-wal"), existsSync(db + "-shm")]).toEqual([false, false]);
      expect(execFileSync("sqlite3", [db, ".sha3sum"]).toString()).toBe(before);
      // A -wal with frames (a writer that stopped without a checkpoint): nothing is opened, the frames stay for the swap's refusal.
      execFileSync("python3", [
        "-c",
        "import sqlite3,sys,os; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA wal_autocheckpoint=0'); c.execute('INSERT INTO t VALUES (2)'); c.commit(); os._exit(0)",
        db,
      ]);
      const frames = statSync(db + "-wal").size;
      expect(frames).toBeGreaterThan(0);
      settleReadersSideFiles(db);
      expect(statSync(db + "-wal").size).toBe(frames);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("at the end of a finished run (settleAfterRun): an application holding the file with SQLite's exclusive lock is never waited for (helper-98: 5 s before), and nothing is touched", async () => {
    const dir = tmp();
    const db = join(dir, "vox.db");
    execFileSync("sqlite3", [db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1);"]);
    const app = execa("python3", [
      "-c",
      "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1], isolation_level=None)\nc.execute('PRAGMA locking_mode=EXCLUSIVE')\nc.execute('BEGIN EXCLUSIVE')\nc.execute('SELECT count(*) FROM t').fetchall()\nprint('held', flush=True)\ntime.sleep(60)",
      db,
    ]);
    try {
      await new Promise<void>((res, rej) => {
        app.stdout!.once("data", () => res());
        app.catch(rej);
      });
      expect(statSync(db + "-wal").size).toBe(0); // what the settle acts on: an empty -wal
      const before = { mtimeMs: statSync(db).mtimeMs, side: [existsSync(db + "-wal"), existsSync(db + "-shm")] };
      const t0 = performance.now();
      await settleAfterRun(db);
      expect(performance.now() - t0).toBeLessThan(2000);
      expect({ mtimeMs: statSync(db).mtimeMs, side: [existsSync(db + "-wal"), existsSync(db + "-shm")] }).toEqual(before);
    } finally {
      app.kill("SIGKILL");
      await app.catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
