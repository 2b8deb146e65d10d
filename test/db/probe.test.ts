import { describe, expect, it } from "vitest";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync } from "node:fs";
import Database from "libsql";
import { join } from "node:path";
import { execa, execaSync } from "execa";
import { cli, dist, sampleInto, sha256, sqlite, tmp } from "../helpers.js";

/**
 * A WAL file as a writer's checkpoint leaves it for a moment (or a crash mid-checkpoint leaves it
 * until the next open): the checkpoint copies pages in page order, so page 1, counting the pages
 * the commit grew the file to, is in the file before those pages are. Python's sqlite3 commits rows
 * that grow the file into the -wal and exits without closing (no checkpoint); then page 1's count
 * is set to the last commit's size in pages, as the checkpoint's first write sets it.
 */
const MID_CHECKPOINT = `import os, sqlite3, struct, sys
db = sys.argv[1]
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("BEGIN")
for i in range(400):
    c.execute("INSERT INTO names(namespace, name, hash) VALUES ('grown', ?, ?)", ("n%d" % i, "h" * 200))
c.execute("COMMIT")
wal = open(db + "-wal", "rb").read()
page = struct.unpack(">I", wal[8:12])[0]
pages = 0
for off in range(32, len(wal), 24 + page):
    pages = max(pages, struct.unpack(">I", wal[off + 4:off + 8])[0])
with open(db, "r+b") as f:
    head = bytearray(f.read(100))
    head[28:32] = struct.pack(">I", pages)
    head[92:96] = head[24:28]
    f.seek(0)
    f.write(head)
print(pages, os.path.getsize(db) // page)
os._exit(0)
`;

describe("a WAL file whose page 1 counts pages still in its -wal (a checkpoint under way)", () => {
  it("is read as SQLite reads it (its size is the WAL's), not called truncated; without its -wal it is", async () => {
    const dir = tmp("vox-probe-");
    const { db } = await sampleInto(dir, 10);
    sqlite(db, "PRAGMA journal_mode=WAL");
    const [counted, held] = execaSync("python3", ["-c", MID_CHECKPOINT, db]).stdout.trim().split(" ").map(Number);
    expect(counted).toBeGreaterThan(held!); // the header counts more pages than the file has
    const bare = join(tmp("vox-probe-bare-"), "vox.db");
    copyFileSync(db, bare);

    const d = await cli(["diagnose", "--db", db, "--json"]);
    expect(d.exitCode, d.stderr).toBe(0);
    const r = await cli(["cutover", "--db", db, "--json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/truncated/);
    // An independent reader: every grown row is there (its open replays the -wal).
    expect(sqlite(db, "SELECT count(*) FROM names WHERE namespace = 'grown'")).toBe("400");
    expect(sqlite(db, "PRAGMA integrity_check")).toBe("ok");

    // The same file with no -wal beside it is what its header says: truncated.
    rmSync(`${bare}-wal`, { force: true });
    const t = await cli(["diagnose", "--db", bare, "--json"]);
    expect(t.stdout + t.stderr).toMatch(/looks truncated/);
  });

  it("a WAL file cut short whose -wal holds a commit but not the pages past the file's end is truncated (they would read as zeros)", async () => {
    // The last overflow page of a value is cut off; the -wal holds one valid commit (page 2 only)
    // counting 6 pages, so SQLite reads page 6 as zeros — integrity_check does not see it there.
    const dir = tmp("vox-probe-cut-");
    const db = join(dir, "vox.db");
    execaSync("python3", ["-c", CUT_SHORT, db]);
    rmSync(`${db}-shm`, { force: true });
    truncateSync(db, 5 * 4096);
    const before = sha256(db);
    const out = join(dir, "backup.jsonl");
    const e = await cli(["export-legacy", out, "--db", db, "--json"], { env: { VOX_CUTOVER_BIG_VALUE_BYTES: "1000" } });
    expect(e.exitCode).toBe(1);
    expect(e.stderr).toMatch(/looks truncated: the header says 6 pages/);
    expect(existsSync(out)).toBe(false);
    const d = await cli(["diagnose", "--db", db, "--json"]);
    expect(d.stdout + d.stderr).toMatch(/looks truncated/);
    expect(sha256(db)).toBe(before);
  });
});

const CUT_SHORT = `import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA page_size=4096")
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, note TEXT, b BLOB)")
c.execute("INSERT INTO t VALUES (1, 'small', NULL)")
c.execute("INSERT INTO t VALUES (2, 'big', ?)", (b"\\xab" * 20000,))
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
c.execute("UPDATE t SET note = 'small2' WHERE id = 1")
os._exit(0)
`;

/**
 * A rollback-journal file as a writer's commit leaves it for a moment: page 1 counts 3 pages more
 * than the file holds (written before the pages that grow the file). The writer holds SQLite's
 * write lock (BEGIN IMMEDIATE) and, half a second later, puts page 1 back as the commit would have
 * finished, then lets go.
 */
const MID_COMMIT = `import os, sqlite3, struct, sys, time
db = sys.argv[1]
# The raw descriptor stays open until the end: closing it would drop this process's SQLite locks.
fd = os.open(db, os.O_RDWR)
c = sqlite3.connect(db, isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("SELECT count(*) FROM sqlite_master").fetchall()
orig = os.pread(fd, 100, 0)
head = bytearray(orig)
pages = struct.unpack(">I", head[28:32])[0]
head[28:32] = struct.pack(">I", pages + 3)
head[92:96] = head[24:28]
os.pwrite(fd, bytes(head), 0)
print("locked", flush=True)
time.sleep(0.5)
os.pwrite(fd, orig, 0)
c.execute("COMMIT")
c.close()
os.close(fd)
`;

describe("a rollback-journal file whose writer is in the middle of a commit", () => {
  it("is looked at again while the writer holds SQLite's write lock, not called truncated", async () => {
    const dir = tmp("vox-probe-commit-");
    const { db } = await sampleInto(dir, 10);
    const writer = execa("python3", ["-c", MID_COMMIT, db]);
    await Promise.race([new Promise<void>((res) => writer.stdout!.once("data", () => res())), writer]);
    const d = await cli(["diagnose", "--db", db, "--json"]);
    expect(d.exitCode, d.stderr).toBe(0);
    expect(d.stdout + d.stderr).not.toMatch(/truncated/);
    expect((await writer).exitCode).toBe(0);
  });
});

/**
 * This process's POSIX locks on the file, as /proc/locks lists them ("READ 1073741826 1073742335"…).
 * The file is its device and inode ("fe:00:2146341"): with isolate off, a lock an earlier test file
 * of this worker left on another filesystem's file of the same inode number is not this file's.
 */
function locksHeld(path: string): string[] {
  const { dev, ino } = statSync(path);
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  const id = `${hex((dev >> 8) & 0xfff)}:${hex((dev & 0xff) | ((dev >> 12) & 0xfff00))}:${ino}`;
  return readFileSync("/proc/locks", "utf8")
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 8 && f[1] !== "->" && Number(f[4]) === process.pid && f[5] === id)
    .map((f) => `${f[3]} ${f[6]} ${f[7]}`);
}

describe("reading a database file's bytes outside SQLite never drops this process's SQLite locks on it", () => {
  it("a clone's byte copy inside a read transaction of a rollback-journal file: the SHARED lock stays through it (a writer cannot commit mid-copy), the copy is the file", async () => {
    const dir = tmp("vox-probe-copy-");
    const { db } = await sampleInto(dir, 10);
    const { copyRaw } = await dist<typeof import("../../src/db/raw-fd.js")>("db/raw-fd.js");
    const conn = new Database(db);
    try {
      conn.exec("BEGIN");
      conn.prepare("SELECT count(*) FROM users").get();
      const held = locksHeld(db);
      expect(held.length).toBeGreaterThan(0);
      const copy = join(dir, "copy.db");
      copyRaw(db, copy);
      expect(locksHeld(db)).toEqual(held); // before: copyFileSync's close dropped it
      expect(sha256(copy)).toBe(sha256(db));
      conn.exec("COMMIT");
    } finally {
      conn.close();
    }
  });

  it("a WAL connection's SHARED lock stays after the header is read (probeFile, a run file's fingerprint): read through the connection's descriptor, nothing opened or closed", async () => {
    const dir = tmp("vox-probe-locks-");
    const { db } = await sampleInto(dir, 10);
    sqlite(db, "PRAGMA journal_mode=WAL");
    const { probeFile } = await dist<typeof import("../../src/db/probe.js")>("db/probe.js");
    const { recordFile } = await dist<typeof import("../../src/safety/runfiles.js")>("safety/runfiles.js");
    const conn = new Database(db);
    conn.prepare("SELECT count(*) FROM users").get(); // a WAL connection keeps SHARED on the file once it has read
    const held = locksHeld(db);
    expect(held.length).toBeGreaterThan(0);
    expect(probeFile(db).state).toBe("ok");
    expect(locksHeld(db)).toEqual(held); // before: the probe's close dropped them, and a writer's last close then deleted the -wal under this reader
    recordFile(db);
    expect(locksHeld(db)).toEqual(held);
    const fds = () =>
      readdirSync("/proc/self/fd").filter((f) => {
        try {
          return statSync(`/proc/self/fd/${f}`).ino === statSync(db).ino;
        } catch {
          return false;
        }
      }).length;
    const open = fds(); // the connection's own
    for (let i = 0; i < 10; i++) probeFile(db);
    expect(fds()).toBe(open); // none opened and left
    // A read's own error (not a descriptor closed under it) is thrown as it is, once: no second read through a descriptor of its own.
    const { readRaw } = await dist<typeof import("../../src/db/raw-fd.js")>("db/raw-fd.js");
    let reads = 0;
    expect(() =>
      readRaw(db, () => {
        reads++;
        throw new Error("the read's own error");
      }),
    ).toThrow("the read's own error");
    expect(reads).toBe(1);
    expect(fds()).toBe(open);
    conn.close();
    const { collectGarbage } = await dist<typeof import("../../src/util/gc.js")>("util/gc.js");
    // The driver's connection is finalized by a collection (its descriptor closed a tick later).
    for (let i = 0; i < 20 && fds() > 0; i++) {
      collectGarbage();
      await new Promise((r) => setTimeout(r, 20));
    }
    // With no descriptor of its own left, a read opens one and closes it: nothing stays open on the file.
    expect(probeFile(db).state).toBe("ok");
    expect(fds()).toBe(0);
  });
});
