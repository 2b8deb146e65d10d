/**
 * The dry-run's integrity_check of the primary beside its trial import (src/db/integrity.ts
 * integrityBeside, issue 18): the same answer as on Stage 0's own thread — a file with problems is
 * refused (3) before anything of its trial is kept or shown; a sound one says where it was checked.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { execFileSync } from "node:child_process";
// The worker is a built file: the check that starts it runs from dist/.
import { integrityOnTwo } from "../../dist/src/db/integrity.js";
import { execa } from "execa";
import { Worker } from "node:worker_threads";
import { BIN, cleanEnv, cli, interruptAt, madeOnce, sampleInto, sampleWithFewerTables, sha256, sqlite, tmp } from "../helpers.js";
import { appendUnusedPage } from "../fixtures/damage.js";

/**
 * The 30-row sample cut to the vox tables that tests of a run's mechanics name (test/helpers.ts
 * sampleWithFewerTables), in `dir`. What these tests run the CLI for — where the primary's integrity_check
 * runs and that its answer is integrity_check's — is the same for every table, while a run pays for each of
 * vox's ~180 (a dry-run ~1.3 CPU-s on the whole sample, ~0.6 on this; a cold apply ~2.3 and ~0.9). The
 * damaged index is on actor_state, in the cut; SLOW_TABLE is added to it. The unused page and the FTS5
 * damage keep the whole 10-row sample (the unused page needs the whole file's free pages).
 */
const cutSample = (dir: string) => sampleWithFewerTables(dir, 30);

/** A sample with its own index made to disagree with its table (the schema names another column): integrity_check finds it, reading the rows does not. */
async function damaged(slow = false): Promise<{ db: string; env: Record<string, string> }> {
  const dir = tmp("vox-beside-");
  const { db } = await cutSample(dir);
  if (slow) await withSlowTable(db, "sample");
  const py = `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE INDEX zz_beside ON actor_state(key)")
c.commit()
c.execute("PRAGMA writable_schema = ON")
c.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX zz_beside ON actor_state(value)' WHERE name = 'zz_beside'")
c.commit()
`;
  await execa("python3", ["-c", py, db]);
  const own = join(dir, "tmp");
  mkdirSync(own);
  return { db, env: { TMPDIR: own } };
}

const besideAlways = { VOX_CUTOVER_INTEGRITY_BESIDE_BYTES: "0" };

/**
 * SLOW_TABLE added to `db`. Its indexes take as long to build as to check (~1.2 CPU-s), so it is built
 * once per worker process in each file it goes into (the 30-row cut sample, or a file of its own) and
 * copied after that (a closed rollback-journal file: the copy is the same database).
 */
async function withSlowTable(db: string, base: "sample" | "alone"): Promise<void> {
  const made = madeOnce(`slow-table-${base}`, async () => {
    const d = mkdtempSync(join(inject("sharedScratch"), "slow-made-")); // the run's scratch: the cache outlives this file
    const f = base === "sample" ? (await cutSample(d)).db : join(d, "slow.db");
    await execa("python3", ["-c", SLOW_TABLE, f]);
    return f;
  });
  copyFileSync(await made, db); // over the sample `cutSample` copied there: the same sample, with the table
}

/** The 30-row cut sample with SLOW_TABLE (a check of ~1.2 s) and a TMPDIR of its own. */
async function slowSample(prefix: string): Promise<{ dir: string; db: string; own: string }> {
  const dir = tmp(prefix);
  const { db } = await cutSample(dir);
  await withSlowTable(db, "sample");
  const own = join(dir, "tmp");
  mkdirSync(own);
  return { dir, db, own };
}

/**
 * A table whose indexes make integrity_check slow (~1.2 s on a quiet machine, 1.5–2.5 s on a loaded one: each
 * entry's expression is recomputed), so a writer meets the check. 1,000 rows since session 32 (2,000 before:
 * the file's 50 → 36 s alone): the tests' marks (300–600 ms into a check) stay inside it.
 */
const SLOW_TABLE = `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE TABLE zz_slow(a INTEGER, b TEXT)")
c.executemany("INSERT INTO zz_slow VALUES (?, 'x')", [(i,) for i in range(1000)])
for k in range(4): c.execute("CREATE INDEX zz_i%d ON zz_slow(length(hex(zeroblob(200000 + a + %d))))" % (k, k))
c.commit()
`;

describe("the dry-run's integrity_check beside its trial import", () => {
  it("a file with problems is refused (3) as on Stage 0's own thread; nothing of its trial is kept", async () => {
    const { db, env } = await damaged();
    expect((await execa("sqlite3", [db, "PRAGMA integrity_check"], { reject: false })).stdout).not.toBe("ok"); // the independent reader
    const orig = sha256(db);
    for (const extra of [besideAlways, {}]) {
      const r = await cli(["cutover", "--db", db, "--json"], { env: { ...env, ...extra } });
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/integrity_check of .*vox\.db reports problems: .*zz_beside/);
      expect(r.stderr).toMatch(/Repair it first \(sqlite3 \.recover/);
      expect(readdirSync(env.TMPDIR!)).toEqual([]); // no scratch folder, no kept trial
    }
    expect(sha256(db)).toBe(orig);
  });

  it("a sound file: the step says it was checked beside the trial import, and the trial is kept", async () => {
    const dir = tmp("vox-beside-");
    const { db } = await cutSample(dir);
    const own = join(dir, "tmp");
    mkdirSync(own);
    const r = await cli(["cutover", "--db", db, "--json"], { env: { TMPDIR: own, ...besideAlways } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.steps.find((s: any) => s.id === "integrity").summary).toBe("ok (checked beside the trial import)");
    expect(r.stderr).toContain("integrity_check of the primary: ok (checked beside the trial import).");
    expect(r.json.trial.integrity).toBeUndefined(); // the step's, not the trial's
    expect(existsSync(r.json.trial.kept)).toBe(true);
  });

  it("a writer committing while the dry-run runs (its check beside the trial starts with the trial): never a false refusal", async () => {
    const { dir, db, own } = await slowSample("vox-beside-");
    // It commits whenever the run's locks let it (between the export's, the check's and the build's reads), from the run's start until it has ended.
    const stop = join(dir, "stop");
    const writer = `
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)
n = 0
while not os.path.exists(sys.argv[2]):
    try:
        c.execute("BEGIN IMMEDIATE"); c.execute("UPDATE zz_slow SET b = b || 'y' WHERE a % 500 = 0"); c.execute("COMMIT"); print(time.time(), flush=True)
    except sqlite3.OperationalError:
        try: c.execute("ROLLBACK")
        except sqlite3.OperationalError: pass
    time.sleep(0.05)
`;
    const w = execa("python3", ["-c", writer, db, stop]);
    await new Promise((res) => setTimeout(res, 300));
    const from = Date.now() / 1000 + 0.5; // the run has started and read its plan by then
    const r = await cli(["cutover", "--db", db, "--json"], { env: { TMPDIR: own, ...besideAlways } });
    const to = Date.now() / 1000;
    writeFileSync(stop, "");
    const during = (await w).stdout
      .split("\n")
      .map(Number)
      .filter((t) => t > from && t < to);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.steps.find((s: any) => s.id === "integrity").summary).toMatch(
      /^ok \(checked (beside the trial import|on this thread: beside the trial import, the file was written during the check)\)$/,
    );
    expect(during.length, "commits while the run ran").toBeGreaterThan(0);
    expect((await execa("sqlite3", [db, "PRAGMA integrity_check"])).stdout).toBe("ok"); // the independent reader
  }, 60_000);

  it("the worker's lock dropped mid-check (this process opened and closed the file outside SQLite) and a writer committing then: the worker answers that the file was written during the check", async () => {
    const dir = tmp("vox-beside-");
    const db = join(dir, "slow.db");
    await withSlowTable(db, "alone");
    const worker = new Worker(new URL("../../dist/src/db/integrity-worker.js", import.meta.url), {
      workerData: { path: db, limit: { above: 1 << 20, size: "1 MB" } },
    });
    const answer = new Promise((res) => worker.once("message", res));
    await new Promise((res) => setTimeout(res, 400)); // the worker inside its check (~1.2 s), holding SQLite's shared lock
    closeSync(openSync(db, "r")); // POSIX locks belong to the process: this drops the worker's
    const writer = `
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=1.5, isolation_level=None)
c.execute("BEGIN IMMEDIATE"); c.execute("UPDATE zz_slow SET b = b || 'y' WHERE a % 500 = 0"); c.execute("COMMIT")
print("committed")
`;
    expect((await execa("python3", ["-c", writer, db])).stdout).toBe("committed");
    expect(await answer).toEqual({ error: "the file was written during the check" });
    await worker.terminate();
  });

  it("the worker answers that it did not check a file switched to WAL since the main thread looked (the main thread checks it then)", async () => {
    const dir = tmp("vox-beside-");
    const db = join(dir, "wal.db");
    sqlite(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    const worker = new Worker(new URL("../../dist/src/db/integrity-worker.js", import.meta.url), {
      workerData: { path: db, limit: { above: 1 << 20, size: "1 MB" } },
    });
    const answer = await new Promise((res) => worker.once("message", res));
    expect(answer).toEqual({ error: "the file is in WAL mode now" });
  });
});

/**
 * A fresh apply's Stage 0 integrity_check, started on a worker as the run begins, beside its plan
 * (src/db/integrity.ts startIntegrityAhead, session 24): its step takes the answer — the same refusal
 * (3) before anything is written for a file with problems, the same "ok" for a sound one.
 */
describe("a fresh apply's integrity_check started ahead, beside its plan", () => {
  it("a file with problems: refused (3) at Stage 0 as on its own thread, nothing written", async () => {
    const { db, env } = await damaged();
    const orig = sha256(db);
    const r = await cli(["cutover", "--db", db, "--apply", "--json"], { env: { ...env, ...besideAlways } });
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/integrity_check of .*vox\.db reports problems: .*zz_beside/);
    expect(sha256(db)).toBe(orig);
    expect(readdirSync(dirname(db)).filter((f) => f.startsWith("vox-cutover-runs"))).toEqual([]);
  });

  it("a sound file: the step says it was checked on another thread, and the apply goes on", async () => {
    const dir = tmp("vox-ahead-");
    const { db } = await cutSample(dir);
    const own = join(dir, "tmp");
    mkdirSync(own);
    const r = await cli(["cutover", "--db", db, "--apply", "--json"], { env: { TMPDIR: own, ...besideAlways } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.steps.find((s: any) => s.id === "integrity").summary).toBe("ok (checked on another thread while the plan was made)");
    expect(sqlite(r.json.archive.path, "PRAGMA integrity_check")).toBe("ok"); // the independent reader, on the file it checked
  });

  it("refused (3) before its integrity step (another process holds the file) or interrupted in its trial (SIGINT) while a check runs on a worker: the refusal's or the interruption's words, never a thread ended inside SQLite (neon's panic on stderr)", async () => {
    const { db, own } = await slowSample("vox-ahead-");
    const holds =
      "import sqlite3, sys, time\nconn = sqlite3.connect(sys.argv[1])\nconn.execute('SELECT 1 FROM zz_slow LIMIT 1').fetchall()\nprint('open', flush=True)\ntime.sleep(30)";
    const holder = execa("python3", ["-c", holds, db]);
    await new Promise<void>((res) => holder.stdout!.once("data", () => res()));
    try {
      const r = await cli(["cutover", "--db", db, "--apply"], { env: { TMPDIR: own, ...besideAlways } });
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/Another process holds the database .* open/);
      expect(r.stderr).not.toMatch(/panicked|backtrace/);
    } finally {
      holder.kill();
      await holder.catch(() => {});
    }
    const dry = await interruptAt(["cutover", "--db", db], "trial-progress", "SIGINT", besideAlways);
    expect(dry.res.exitCode, dry.res.stderr).toBe(130);
    expect(dry.res.stderr).not.toMatch(/panicked|backtrace/);
    expect(dry.tmpdirAfter).toEqual([]); // no scratch folder, no kept trial
  }, 60_000);

  it("its output's reader gone after one line (a closed pipe) while a check runs on a worker: the run goes on to its end with its own exit code, no native panic", async () => {
    const { db, own } = await slowSample("vox-ahead-");
    const script = `node "$BIN" cutover --db "$DB" --apply | python3 -c 'import sys; sys.stdin.readline()'; echo "status \${PIPESTATUS[0]}" >&2`;
    const r = await execa("bash", ["-c", script], { env: cleanEnv({ BIN, DB: db, TMPDIR: own, ...besideAlways }), extendEnv: false, reject: false });
    expect(r.stderr).toMatch(/status 0$/);
    expect(r.stderr).not.toMatch(/panicked|backtrace/);
    expect(sqlite(db, "SELECT max(version) FROM schema_version")).toBe("66"); // the run went on to its end: the new file took the name
  }, 60_000);
});

/**
 * Stage 0's integrity_check on two connections (src/db/integrity.ts integrityOnTwo, session 21): a
 * large rollback-journal file's check is shared as parts — quick_check of the whole file and
 * integrity_check(T) of each table — between this thread and a worker. Forced on the samples here
 * (VOX_CUTOVER_INTEGRITY_PARTS_BYTES=0). The answer must be the one integrity_check's: a problem only
 * a table's part sees and one only the whole-file part sees are both refused; a commit between the
 * two connections' reads is never taken for the file's state.
 */
const partsAlways = { VOX_CUTOVER_INTEGRITY_PARTS_BYTES: "0" };

describe("Stage 0's integrity_check on two connections (a large rollback-journal file)", () => {
  // The checks called in this process (integrityOnTwo) take the same threshold from its environment.
  beforeAll(() => void Object.assign(process.env, partsAlways));
  afterAll(() => void delete process.env.VOX_CUTOVER_INTEGRITY_PARTS_BYTES);

  it("an index that disagrees with its table, a page nothing uses, a damaged FTS5 index: the apply is refused (3) before anything is written, as on one connection", async () => {
    const { db, env } = await damaged();
    const dir = tmp("vox-parts-");
    const { db: unused } = await sampleInto(dir, 10);
    appendUnusedPage(unused, Number(sqlite(unused, "PRAGMA page_size")));
    // An FTS5 table has no part of its own (quick_check runs its whole check): its index made to disagree with its content.
    const ftsDir = tmp("vox-parts-");
    const { db: fts } = await sampleInto(ftsDir, 10);
    sqlite(
      fts,
      "CREATE VIRTUAL TABLE zz_fts USING fts5(t); INSERT INTO zz_fts VALUES ('hello world'), ('foo bar'); UPDATE zz_fts_content SET c0 = 'changed' WHERE id = 1;",
    );
    // The independent reader: Python's sqlite3 names the first two; its SQLite (older than 3.44) runs no virtual
    // table's check in integrity_check, so FTS5's own 'integrity-check' command judges the third.
    const said = (f: string) =>
      execFileSync("python3", ["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchall())", f]).toString();
    expect(said(db)).toContain("zz_beside");
    expect(said(unused)).toMatch(/never used/);
    const ftsCheck =
      "import sqlite3,sys\ntry:\n  sqlite3.connect(sys.argv[1]).execute(\"INSERT INTO zz_fts(zz_fts) VALUES('integrity-check')\"); print('ok')\nexcept sqlite3.DatabaseError as e: print(e)";
    expect(execFileSync("python3", ["-c", ftsCheck, fts]).toString().trim()).toBe("database disk image is malformed");
    for (const [file, problem] of [
      [db, /zz_beside/],
      [unused, /never used/],
      [fts, /malformed inverted index for FTS5 table main\.zz_fts/],
    ] as const) {
      const orig = sha256(file);
      const r = await cli(["cutover", "--db", file, "--apply", "--json"], { env: { ...env, ...partsAlways } });
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/integrity_check of .*vox\.db reports problems: /);
      expect(r.stderr).toMatch(problem);
      expect(sha256(file)).toBe(orig);
      expect(readdirSync(dirname(file)).filter((f) => f.startsWith("vox-cutover-runs"))).toEqual([]);
    }
  });

  it("a sound file: the same answer as one integrity_check, and the apply goes on", async () => {
    const dir = tmp("vox-parts-");
    const { db } = await cutSample(dir);
    const parts = await integrityOnTwo(db, { above: 16 << 20, size: "16 MB" });
    expect(parts).toEqual({ problems: ["ok"], how: "" });
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
    const r = await cli(["cutover", "--db", db, "--apply", "--json"], { env: partsAlways });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json.steps.find((s: any) => s.id === "integrity").summary).toBe("ok");
  });

  it("a worker that fails with a part claimed: this thread runs the parts it had, in its same transaction — problems still found, a sound file still ok", async () => {
    // Parts slow enough (SLOW_TABLE) that the worker has started and claimed one before this thread has taken them all.
    const { db } = await damaged(true);
    const dir = tmp("vox-parts-");
    const sound = join(dir, "slow.db");
    await withSlowTable(sound, "alone");
    process.env.VOX_CUTOVER_TEST_PARTS_WORKER_FAIL = "1";
    try {
      const bad = await integrityOnTwo(db, { above: 16 << 20, size: "16 MB" });
      expect(bad?.problems.join("; ")).toMatch(/zz_beside/);
      expect(await integrityOnTwo(sound, { above: 16 << 20, size: "16 MB" })).toEqual({ problems: ["ok"], how: "" });
    } finally {
      delete process.env.VOX_CUTOVER_TEST_PARTS_WORKER_FAIL;
    }
  });

  it("both connections' locks dropped mid-check (this process opened and closed the file outside SQLite) and a writer committing then: no answer from the parts (null: the caller checks on one connection)", async () => {
    const dir = tmp("vox-parts-");
    const db = join(dir, "slow.db");
    await withSlowTable(db, "alone");
    // A writer waiting for the lock, and a thread of this process that drops the locks (closing any
    // descriptor of the file does) while both connections read: the writer commits in the middle.
    const writer = execa("python3", [
      "-c",
      `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=20, isolation_level=None)
c.execute("BEGIN IMMEDIATE"); c.execute("UPDATE zz_slow SET b = b || 'y' WHERE a % 500 = 0"); c.execute("COMMIT")
print("committed")
`,
      db,
    ]);
    // From 300 ms into the check, every 100 ms (a fixed 600 ms came after the whole check in a quick state): the first drop inside it lets the writer commit.
    const dropper = new Worker(
      `const { closeSync, openSync } = require("node:fs"); const { workerData } = require("node:worker_threads");
       setTimeout(() => setInterval(() => closeSync(openSync(workerData, "r")), 100), 300);`,
      { eval: true, workerData: db },
    );
    const parts = await integrityOnTwo(db, { above: 16 << 20, size: "16 MB" });
    expect((await writer).stdout).toBe("committed");
    await dropper.terminate();
    expect(parts).toBeNull();
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
  });
});
