/**
 * A file's sha256 taken on a worker thread and used after the file was renamed (engine/built-hash.ts
 * hashStillHolds: the dry-run's kept trial, hashed beside its checks): used only while nothing wrote
 * to the file since the worker read it. The built worker (dist), a real file, Python's hashlib as the
 * independent reader.
 */
import { describe, expect, it } from "vitest";
import { appendFileSync, renameSync, utimesSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { dist, tmp } from "../helpers.js";

type Beside = typeof import("../../src/util/file-hash-beside.js");
type Built = typeof import("../../src/engine/built-hash.js");

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
});
