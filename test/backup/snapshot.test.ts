/**
 * Consistent snapshots (issue 16 point 3): no reader uses `immutable=1` on a file another process
 * may write; a reader holds one read transaction from its first row to its last. A real second
 * process (Python's sqlite3) commits in a loop — two rows per transaction, one in `users` and one in
 * `names`, with frequent checkpoints so the main file changes under the reader — while the command
 * reads. What it produced must be one committed state (as many writer rows in one table as in the
 * other), verified, never "malformed". Judged with Python's sqlite3.
 */
import { afterEach, describe, expect, it } from "vitest";
import { execa, type ResultPromise } from "execa";
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FEWER_TABLES, cleanEnv, cli, cutToTables, makeBaselineDb, pausedAt, sampleInto, snapshotDir, sqlite, tmp } from "../helpers.js";
import { installedPackage, otherUser, reachableTmp } from "../fixtures/install.js";
import type { EngineEvent } from "../../src/engine/events.js";
// The engine from the build: its export and verify run worker threads from compiled files.
import { resolveDatabase } from "../../dist/src/db/resolve.js";
import { runCutover } from "../../dist/src/cutover/index.js";
import { VoxError } from "../../dist/src/errors.js";
import { untilStarted } from "../fixtures/writer-process.js";

// argv: database, stop file, go file ("" = start at once), started file ("" = none).
const WRITER = `
import os, sqlite3, sys, time
while sys.argv[3] and not os.path.exists(sys.argv[3]):
    time.sleep(0.005)
c = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
c.execute('PRAGMA wal_autocheckpoint=4')
i = 0
while not os.path.exists(sys.argv[2]):
    c.execute('BEGIN IMMEDIATE')
    c.execute("INSERT INTO users(id, display_name) VALUES (?, 'writer')", ('w%07d' % i,))
    c.execute("INSERT INTO names(namespace, name, hash) VALUES ('writer', ?, 'h')", ('w%07d' % i,))
    c.execute('COMMIT')
    i += 1
    if i == 1:
        if sys.argv[4]:
            open(sys.argv[4], 'w').close()
        print('started', flush=True)
c.close()
print(i, flush=True)
`;

interface Writer {
  stop(): Promise<number>;
}

const running: ResultPromise[] = [];
afterEach(() => {
  for (const p of running.splice(0)) p.kill();
});

/** Starts the writer; resolves once it has committed its first transaction (with `go`: at once, the writer waiting for that file). */
async function startWriter(db: string, go = ""): Promise<Writer> {
  const stopFile = join(tmp("vox-snap-stop-"), "stop");
  const p = execa("python3", ["-c", WRITER, db, stopFile, go, ""], { reject: false, stdin: "ignore" });
  running.push(p);
  if (!go) {
    await untilStarted(p);
  }
  return {
    async stop() {
      writeFileSync(stopFile, "");
      const r = await p;
      expect(r.exitCode, r.stderr).toBe(0);
      return Number(r.stdout.trim().split("\n").pop());
    },
  };
}

/** Writer rows per table, read by Python's sqlite3. */
function writerRows(db: string): { users: number; names: number } {
  const out = execFileSync("python3", [
    "-c",
    "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nprint(c.execute(\"SELECT count(*) FROM users WHERE display_name='writer'\").fetchone()[0], c.execute(\"SELECT count(*) FROM names WHERE namespace='writer'\").fetchone()[0])",
    db,
  ])
    .toString()
    .trim()
    .split(" ");
  return { users: Number(out[0]), names: Number(out[1]) };
}

let cutDb: Promise<string> | undefined;
/**
 * The 30-row sample in `dir`, its vox.db cut (once per file, then copied) to sampleWithFewerTables' tables and `users`:
 * the writer's two tables, `names` and `users`, with the six the export reads between them (it reads in name order).
 * For the tests whose read is held open by a pause of their own (at every table, or at the first), not by the time
 * the whole sample's ~180 tables take: a cut table costs the export's time and the pauses' wait, and no test reads it.
 */
async function cutSampleInto(dir: string): Promise<string> {
  cutDb ??= (async () => {
    const { db } = await sampleInto(tmp("vox-snap-cut-"), 30);
    await cutToTables(db, [...FEWER_TABLES, "users"]);
    return db;
  })();
  const from = await cutDb;
  const { db } = await sampleInto(dir, 30);
  copyFileSync(from, db);
  return db;
}

/** The 30-row sample in WAL mode (`cut`: cutSampleInto's), and its users and names rows. */
async function walSample(cut = false): Promise<{ dir: string; db: string; users: number; names: number }> {
  const dir = tmp("vox-snap-");
  const db = cut ? await cutSampleInto(dir) : (await sampleInto(dir, 30)).db;
  sqlite(db, "PRAGMA journal_mode=WAL");
  return { dir, db, users: Number(sqlite(db, "SELECT count(*) FROM users")), names: Number(sqlite(db, "SELECT count(*) FROM names")) };
}

describe("a writer commits in a loop while the primary is read", () => {
  it("export-legacy (WAL): each backup is one committed state and verifies; never 'malformed'", async () => {
    const { db, users, names } = await walSample();
    const w = await startWriter(db);
    const seen: number[] = [];
    for (let n = 0; n < 2; n++) {
      const out = join(tmp("vox-snap-out-"), "backup.jsonl");
      const r = await cli(["export-legacy", out, "--db", db, "--json"]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/malformed/i);
      expect(r.stderr).not.toMatch(/rollback-journal mode/); // WAL: the export does not hold the writer up
      const rows = (t: string) => Number(r.json.tables.find((x: { name: string }) => x.name === t).rows);
      // One committed state: as many writer rows in users as in names (each transaction wrote one to each).
      expect(rows("users") - users).toBe(rows("names") - names);
      seen.push(rows("users") - users);
      const v = await cli(["verify-backup", out]);
      expect(v.exitCode, v.stderr).toBe(0);
    }
    const total = await w.stop();
    expect(seen[0]).toBeGreaterThan(0); // the writer had committed before the first export …
    expect(total).toBeGreaterThan(seen[1]!); // … and went on committing during and after the exports
    const now = writerRows(db);
    expect(now).toEqual({ users: total, names: total }); // nothing the writer committed was lost
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
  });

  it("export-legacy of a rollback-journal file says the application's writes wait until the export ends; a write meanwhile gets 'database is locked', and commits once it ended", async () => {
    const db = await cutSampleInto(tmp("vox-snap-rj-")); // the export held at its first table: the tables after it are not read meanwhile
    expect(sqlite(db, "PRAGMA journal_mode")).toBe("delete");
    const out = join(tmp("vox-snap-out-"), "backup.jsonl");
    const tryWrite = (value: string) =>
      execFileSync("python3", [
        "-c",
        "import sqlite3,sys\ntry:\n  c=sqlite3.connect(sys.argv[1], timeout=0.3)\n  c.execute(\"INSERT INTO names(namespace, name, hash) VALUES ('writer', ?, 'h')\", (sys.argv[2],))\n  c.commit()\n  print('committed')\nexcept sqlite3.OperationalError as e:\n  print(e)",
        db,
        value,
      ])
        .toString()
        .trim();
    const { child, release } = await pausedAt(["export-legacy", out, "--db", db], "export-progress", 30_000, true);
    expect(tryWrite("during-export")).toMatch(/database is locked/); // SQLite's SHARED lock, held for the snapshot
    release();
    const r = await child;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/rollback-journal mode: the export holds SQLite's shared lock .* the application's writes wait .* until it ends/);
    expect(tryWrite("after-export")).toBe("committed");
    expect(sqlite(db, "SELECT count(*) FROM names WHERE name IN ('during-export', 'after-export')")).toBe("1");
  });

  it("export-legacy (WAL, its -wal empty when the export opens it): a writer committing and checkpointing between the tables does not tear the backup", async () => {
    const { db, users, names } = await walSample(true); // a pause of 20 ms at each table: six between names and users
    expect(existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0).toBe(0);
    const go = join(tmp("vox-snap-go-"), "go");
    const w = await startWriter(db, go);
    const out = join(tmp("vox-snap-out-"), "backup.jsonl");
    // The export pauses 20 ms at every table it finishes (test hook); the writer starts once it is under way.
    const { child } = await pausedAt(["export-legacy", out, "--db", db, "--json"], "export-progress", 20);
    writeFileSync(go, "");
    const r = await child;
    const total = await w.stop();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/malformed/i);
    const json = JSON.parse(r.stdout);
    const rows = (t: string) => Number(json.tables.find((x: { name: string }) => x.name === t).rows);
    expect(rows("users") - users).toBe(rows("names") - names);
    expect(total).toBeGreaterThan(0); // the writer committed while the export ran
    const v = await cli(["verify-backup", out]);
    expect(v.exitCode, v.stderr).toBe(0);
    expect(writerRows(db)).toEqual({ users: total, names: total });
  });

  it("cutover: the export (writer started after the preflight's holder check) is one committed state that verifies; the run refuses (3), never 'malformed', and keeps every row", async () => {
    const { dir, db, users, names } = await walSample();
    const startedFile = join(tmp("vox-snap-started-"), "started");
    const stopFile = join(tmp("vox-snap-stop-"), "stop");
    let writer: ReturnType<typeof spawn> | undefined;
    let err: unknown = null;
    try {
      await runCutover({
        resolved: resolveDatabase({ db }),
        apply: true,
        command: "cutover",
        emit: (e: EngineEvent) => {
          if (writer || e.type !== "step-start" || e.id !== "export") return;
          // The application starts writing as the export begins; the export waits for its first commit.
          writer = spawn("python3", ["-c", WRITER, db, stopFile, "", startedFile], { stdio: "ignore" });
          const t0 = Date.now();
          while (!existsSync(startedFile) && Date.now() - t0 < 60_000) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        },
        decide: async (req) => (req.kind === "confirm" ? { ok: true } : req.kind === "sidecar" ? { merge: true } : { files: [] }),
      });
    } catch (e) {
      err = e;
    }
    expect(writer).toBeDefined();
    writeFileSync(stopFile, "");
    const code = await new Promise<number | null>((res) => writer!.on("exit", res));
    expect(code).toBe(0);
    expect(err).toBeInstanceOf(VoxError);
    expect((err as VoxError).exitCode).toBe(3);
    expect((err as VoxError).message).not.toMatch(/malformed/i);
    // The run's backup (made while the writer committed) is one committed state and verifies.
    const runs = join(dir, "vox-cutover-runs");
    const backup = readdirSync(runs)
      .map((d) => join(runs, d, "backup.jsonl"))
      .find((p) => existsSync(p));
    expect(backup).toBeDefined();
    const v = await cli(["verify-backup", backup!, "--json"]);
    expect(v.exitCode, v.stderr).toBe(0);
    const rows = (t: string) => Number(v.json.tables.find((x: { name: string }) => x.name === t).rows);
    expect(rows("users") - users).toBeGreaterThan(0);
    expect(rows("users") - users).toBe(rows("names") - names);
    // Every row the writer committed is in the primary, which was never replaced.
    const now = writerRows(db);
    expect(now.users).toBe(now.names);
    expect(now.users).toBeGreaterThanOrEqual(rows("users") - users);
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");
  });
});

/** Python: takes SQLite's EXCLUSIVE lock on a rollback-journal file (a writer that never pauses), says so, keeps it 9 s. */
const LOCKER = `
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(9)
c.execute("COMMIT")
`;

describe("a writer that keeps the file locked longer than the tool waits", () => {
  it("export-legacy and the cutover dry-run are refused (3) with what to do — never a failure (1) or 'Unexpected failure'; the file untouched", async () => {
    const { db } = await sampleInto(tmp("vox-snap-locked-"), 10);
    const before = sqlite(db, "SELECT count(*) FROM users");
    const locker = execa("python3", ["-c", LOCKER, db]);
    running.push(locker);
    await Promise.race([new Promise<void>((res) => locker.stdout!.once("data", () => res())), locker]);
    const out = join(tmp("vox-snap-locked-out-"), "backup.jsonl");
    const [e, d] = await Promise.all([cli(["export-legacy", out, "--db", db]), cli(["cutover", "--db", db], { env: { VOX_CUTOVER_KEEP_TRIAL: "0" } })]);
    for (const r of [e, d]) {
      expect(r.exitCode, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/locked for longer than this tool waits \(5 s\)/);
      expect(r.stderr).toMatch(/Stop the application writing to it/);
      expect(r.stderr).not.toMatch(/Unexpected failure/);
    }
    expect(existsSync(out)).toBe(false);
    locker.kill("SIGKILL"); // it wrote nothing: no journal is left
    await locker.catch(() => {});
    expect(sqlite(db, "SELECT count(*) FROM users")).toBe(before);
  }, 30_000);
});

/**
 * Python, as an independent reader: copies the database and its -wal into a scratch folder (argv[3]), reads the
 * users row 'w1' (which only the -wal holds) with its rowid, and looks for that row among the backup's (argv[2])
 * `users` lines, a table's header line followed by its rows as JSON arrays in the header's column order.
 */
const WAL_ROW_IN_BACKUP = `
import json, os, shutil, sqlite3, sys, tempfile
db, backup, scratch = sys.argv[1:4]
d = tempfile.mkdtemp(dir=scratch)
shutil.copy(db, os.path.join(d, "vox.db")); shutil.copy(db + "-wal", os.path.join(d, "vox.db-wal"))
c = sqlite3.connect(os.path.join(d, "vox.db"))
c.row_factory = sqlite3.Row
row = c.execute("SELECT rowid, * FROM users WHERE id = 'w1'").fetchone()
c.close(); shutil.rmtree(d)
assert row is not None, "the copy has no row w1: the -wal was not read"
cols, rows, table = None, [], None
for line in open(backup, encoding="utf-8"):
    v = json.loads(line)
    if isinstance(v, dict):
        table = v.get("name") if v.get("k") == "table" else None
        if table == "users": cols = v["columns"]
    elif table == "users":
        rows.append(v)
assert cols == list(row.keys()), (cols, list(row.keys()))  # every column of the table, rowid first: none left out
want = [row[0]] + [row[k] for k in cols[1:]]
assert all(not isinstance(x, (float, bytes)) for x in want), want  # plain JSON values: TEXT, INTEGER, NULL
print("w1: in the backup" if want in rows else "w1: NOT in the backup: %r" % (want,))
`;

describe("a WAL file in a folder this user cannot write, with a -wal and no -shm: read from a private copy (src/db/local.ts openSnapshot)", () => {
  it("export-legacy reads the -wal's rows from a copy and leaves the folder as it was; a copy the file was touched under is never kept, not even when its size and times are put back (its ctime moves)", async (ctx) => {
    const user = otherUser();
    if ("skip" in user) return ctx.skip(user.skip);
    const { bin } = await installedPackage(); // the other user runs the package as installed: the checkout may be private
    const dir = reachableTmp("ro-wal-");
    const db = join(dir, "vox.db");
    makeBaselineDb(db);
    // ~24 MB, so that a copy takes long enough for the loop below to change the file's ctime under each one.
    await execa("python3", [
      "-c",
      `
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA journal_mode=WAL"); c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("CREATE TABLE zz_pad(b BLOB)"); c.executemany("INSERT INTO zz_pad VALUES (zeroblob(1 << 20))", [()] * 24); c.commit()
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
c.execute("INSERT INTO users(id, display_name) VALUES ('w1', 'only in the wal')"); c.commit()
os._exit(0)
`,
      db,
    ]);
    rmSync(`${db}-shm`);
    expect(statSync(`${db}-wal`).size).toBeGreaterThan(0);
    await execa("chown", ["-R", `${user.uid}:${user.gid}`, dir]);
    chmodSync(dir, 0o555);
    const own = reachableTmp("ro-wal-out-");
    chmodSync(own, 0o777);
    const before = snapshotDir(dir);
    const exportAs = (out: string) =>
      execa("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "node", bin, "export-legacy", join(own, out), "--db", db], {
        env: cleanEnv({ TMPDIR: own, VOX_CUTOVER_LOCK_DIR: join(own, "locks") }), // the run's lock folder may not be made yet, and root's
        extendEnv: false,
        reject: false,
        stdin: "ignore",
        cwd: "/",
      });
    const r = await exportAs("b.jsonl");
    expect(r.exitCode, r.stderr).toBe(0);
    // Judged by another reader: Python's sqlite3 reads the row from a copy of the file with its -wal (this folder is
    // read-only and has no -shm), and reads the backup's `users` section as plain JSON lines: the row is there, whole.
    const judged = execFileSync("python3", ["-c", WAL_ROW_IN_BACKUP, db, join(own, "b.jsonl"), own], { encoding: "utf8" }).trim();
    expect(judged).toBe("w1: in the backup");
    expect(snapshotDir(dir)).toEqual(before);
    // The file's mode switched back and forth all along: nothing of its content changes, its ctime does (as a write
    // with its size and times put back moves it). Every copy is refused; the run says so and writes no backup.
    const stop = join(own, "stop");
    const chmods = execa("python3", [
      "-c",
      "import os, sys\nwhile not os.path.exists(sys.argv[2]):\n  os.chmod(sys.argv[1], 0o640); os.chmod(sys.argv[1], 0o644)",
      db,
      stop,
    ]);
    running.push(chmods);
    // The loop is running before the export starts: the file's ctime has moved.
    const ctime = statSync(db).ctimeMs;
    while (statSync(db).ctimeMs === ctime) await new Promise((r) => setTimeout(r, 10));
    const changing = await exportAs("c.jsonl");
    writeFileSync(stop, "");
    await chmods;
    expect(changing.exitCode, changing.stderr).not.toBe(0);
    expect(changing.stderr).toMatch(/kept changing while it was copied for reading/);
    expect(changing.stderr).not.toMatch(/Unexpected failure/);
    expect(existsSync(join(own, "c.jsonl"))).toBe(false);
    expect(readdirSync(own).filter((f) => f.startsWith("vox-cutover-snapshot-"))).toEqual([]); // its copies removed
    expect(snapshotDir(dir)).toEqual(before);
    chmodSync(dir, 0o755);
  });
});
