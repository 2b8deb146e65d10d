/**
 * The lock file is written and fsynced before the lock counts: when the fsync fails, the error
 * reaches the caller, the descriptor is closed (no fd leaks per attempt) and the half-made lock file
 * is removed (it would block the next run as an unknown holder).
 */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { tmp } from "../helpers.js";

const failNext = vi.hoisted(() => ({ on: false }));
vi.mock("../../src/util/fsync.js", async (orig) => {
  const real = await orig<typeof import("../../src/util/fsync.js")>();
  return {
    ...real,
    fsyncFile: (f: string | number) => {
      if (failNext.on && typeof f === "number") {
        failNext.on = false;
        throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
      }
      real.fsyncFile(f);
    },
  };
});
// Test files share a worker's module cache (vitest.config.ts): lock.js loaded by an earlier file holds
// the real fsync. Load it again so it imports the mock, and drop the mock and those modules after.
vi.resetModules();
const { acquireLock, lockFileOf, readLock } = await import("../../src/safety/lock.js");
afterAll(() => {
  vi.doUnmock("../../src/util/fsync.js");
  vi.resetModules();
});

const openFds = () => readdirSync("/proc/self/fd").length;

describe("takeLockFile when the fsync fails", () => {
  it("throws the fsync's error, closes its descriptor, leaves no lock file; the next attempt takes the lock", () => {
    const dir = tmp("vox-lockfsync-");
    const db = join(dir, "vox.db");
    writeFileSync(db, "");
    const me = { command: "cutover", runId: "r1", workDir: join(dir, "w") };
    const before = openFds();
    for (let i = 0; i < 5; i++) {
      failNext.on = true;
      expect(() => acquireLock(db, me)).toThrow(expect.objectContaining({ code: "EIO" }));
    }
    expect(openFds()).toBe(before);
    expect(readLock(db)).toBeNull();
    expect(existsSync(lockFileOf(db))).toBe(false);
    const lock = acquireLock(db, me);
    expect(readLock(db)).toMatchObject({ runId: "r1", pid: process.pid });
    lock.release();
    expect(readLock(db)).toBeNull();
  });
});
