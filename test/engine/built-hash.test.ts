/**
 * A file's sha256 taken on a worker thread and used after the file was renamed (engine/built-hash.ts
 * hashStillHolds: the dry-run's kept trial, hashed beside its checks): used only while nothing wrote
 * to the file since the worker read it. The built worker (dist), a real file, Python's hashlib as the
 * independent reader.
 */
import { describe, expect, it } from "vitest";
import { appendFileSync, readdirSync, readlinkSync, renameSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { dist, sqlite, tmp } from "../helpers.js";
import Database from "libsql";

type Beside = typeof import("../../src/util/file-hash-beside.js");
type Built = typeof import("../../src/engine/built-hash.js");
type RawFd = typeof import("../../src/db/raw-fd.js");

const python = (path: string) =>
  execFileSync("python3", ["-c", "import hashlib,sys\nprint(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())", path]).toString().trim();

/** A 3 MB file hashed on a worker (VOX_CUTOVER_HASH_BESIDE_BYTES=0: any size), its answer awaited. */
async function hashed(name: string) {
  const { hashFileBeside } = await dist<Beside>("util/file-hash-beside.js");
  const f = join(tmp("vox-built-hash-"), name);
  writeFileSync(f, Buffer.alloc(3 << 20, 7));
  process.env.VOX_CUTOVER_HASH_BESIDE_BYTES = "0";
  try {
    const beside = hashFileBeside(f);
    expect(beside).not.toBeNull();
    await beside!.result;
    return { f, beside, want: python(f) };
  } finally {
    delete process.env.VOX_CUTOVER_HASH_BESIDE_BYTES;
  }
}

describe("hashStillHolds: a worker's sha256 of a file since renamed", () => {
  it("unwritten since: its hash, under the new name as under the old (the rename moves only the ctime)", async () => {
    const { hashStillHolds } = await dist<Built>("engine/built-hash.js");
    const { f, beside, want } = await hashed("a.db");
    expect(await hashStillHolds(beside, f)).toBe(want);
    renameSync(f, f + ".moved");
    expect(await hashStillHolds(beside, f + ".moved")).toBe(want);
  });

  it("written after the worker read it (a byte appended; or its mtime moved, as a same-size write moves it): null, hash it again; no worker: null", async () => {
    const { hashStillHolds } = await dist<Built>("engine/built-hash.js");
    const a = await hashed("a.db");
    appendFileSync(a.f, "x");
    expect(await hashStillHolds(a.beside, a.f)).toBeNull();
    const b = await hashed("b.db");
    utimesSync(b.f, new Date(), new Date(Date.now() + 5000));
    expect(await hashStillHolds(b.beside, b.f)).toBeNull();
    expect(await hashStillHolds(null, b.f)).toBeNull();
  });

  it("the file renamed before the worker began reading: the worker reads it all the same (opened by the starting thread)", async () => {
    const { hashFileBeside } = await dist<Beside>("util/file-hash-beside.js");
    const { hashStillHolds } = await dist<Built>("engine/built-hash.js");
    const f = join(tmp("vox-built-hash-"), "c.db");
    writeFileSync(f, Buffer.alloc(3 << 20, 9));
    const want = python(f);
    process.env.VOX_CUTOVER_HASH_BESIDE_BYTES = "0";
    let beside;
    try {
      beside = hashFileBeside(f);
    } finally {
      delete process.env.VOX_CUTOVER_HASH_BESIDE_BYTES;
    }
    renameSync(f, f + ".moved"); // at once: the worker thread has not started yet
    const r = await beside!.result;
    expect("error" in r ? r.error : r.sha256).toBe(want);
    expect(await hashStillHolds(beside!, f + ".moved")).toBe(want);
  });

  it("the worker's own stat moved while it read (a write): null; only its ctime moved (a rename while it read): its hash", async () => {
    const { hashStillHolds } = await dist<Built>("engine/built-hash.js");
    const { statNow } = await dist<Beside>("util/file-hash-beside.js");
    const f = join(tmp("vox-built-hash-"), "d.db");
    writeFileSync(f, "x");
    const now = statNow(f)!;
    const answered = (before: typeof now, after: typeof now) => ({ result: Promise.resolve({ sha256: "ab", before, after }), stop: () => {} });
    expect(await hashStillHolds(answered(now, now), f)).toBe("ab");
    expect(await hashStillHolds(answered({ ...now, ctimeNs: "1" }, now), f)).toBe("ab");
    expect(await hashStillHolds(answered({ ...now, mtimeNs: "1" }, now), f)).toBeNull();
    expect(await hashStillHolds(answered({ ...now, size: "0" }, now), f)).toBeNull();
  });

  it("a database file this process holds SQLite's write lock on: hashed beside, its descriptor is not closed under the lock (another process still cannot write), then closed once the connection is", async () => {
    const { hashFileBeside } = await dist<Beside>("util/file-hash-beside.js");
    const { closeWhenAlone } = await dist<RawFd>("db/raw-fd.js");
    const f = join(tmp("vox-built-hash-"), "locked.db");
    sqlite(f, "CREATE TABLE t(x); INSERT INTO t VALUES (zeroblob(2000000));");
    const ours = () =>
      readdirSync("/proc/self/fd").filter((n) => {
        try {
          return readlinkSync(`/proc/self/fd/${n}`) === f;
        } catch {
          return false;
        }
      }).length;
    const db = new Database(f);
    db.exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (1);");
    process.env.VOX_CUTOVER_HASH_BESIDE_BYTES = "0";
    let beside;
    try {
      beside = hashFileBeside(f, { close: closeWhenAlone })!;
    } finally {
      delete process.env.VOX_CUTOVER_HASH_BESIDE_BYTES;
    }
    const r = await beside.result;
    expect("error" in r ? r.error : r.before.ino).toBe(String(statSync(f, { bigint: true }).ino));
    await new Promise((res) => setTimeout(res, 200)); // the thread has ended: its descriptor was handed to closeWhenAlone
    const tryWrite = () =>
      execFileSync("python3", [
        "-c",
        "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1],timeout=0)\ntry:\n c.execute('BEGIN IMMEDIATE'); print('wrote')\nexcept Exception as e: print(e)",
        f,
      ])
        .toString()
        .trim();
    expect(tryWrite()).toBe("database is locked");
    expect(ours()).toBeGreaterThanOrEqual(2); // SQLite's and the parked one
    db.exec("COMMIT");
    db.close();
    await new Promise((res) => setTimeout(res, 300)); // closeWhenAlone looks again (25 ms, doubling)
    expect(ours()).toBe(0);
    expect(tryWrite()).toBe("wrote");
  });
});
