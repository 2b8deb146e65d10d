/**
 * The one fsync home (src/util/fsync.ts): fsyncFile is strict (a failure is thrown, so the journal,
 * the run marker, the lock file and a backup never go on as if their bytes were on disk); fsyncDir
 * is tolerant (a platform that cannot sync a directory does not stop a run).
 */
import { describe, expect, it } from "vitest";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fsyncDir, fsyncFile } from "../../src/util/fsync.js";
import { tmp } from "../helpers.js";

describe("fsync", () => {
  it("fsyncFile syncs a file by path or descriptor and throws what fails", () => {
    const dir = tmp("vox-fsync-");
    const f = join(dir, "f");
    writeFileSync(f, "x");
    expect(() => fsyncFile(f)).not.toThrow();
    const fd = openSync(f, "r");
    expect(() => fsyncFile(fd)).not.toThrow();
    closeSync(fd);
    expect(() => fsyncFile(join(dir, "missing"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
    expect(() => fsyncFile(fd)).toThrow(expect.objectContaining({ code: "EBADF" })); // closed: never silently "synced"
  });

  it("fsyncDir syncs a directory and lets a failure be", () => {
    const dir = tmp("vox-fsync-");
    expect(() => fsyncDir(dir)).not.toThrow();
    expect(() => fsyncDir(join(dir, "missing"))).not.toThrow();
  });
});
