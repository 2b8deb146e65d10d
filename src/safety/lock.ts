import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync, fsyncSync } from "node:fs";
import { hostname } from "node:os";
import { refused } from "../errors.js";
import { lockPathFor } from "../layout.js";
import { check, LockHolderSchema } from "../schemas.js";
import { identify, realPathOf } from "./identity.js";
import { dirname } from "node:path";

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  runId: string;
  workDir: string;
  /** The database's real path and device/inode (the lock's key). */
  db?: string;
  dev?: string | null;
  ino?: string | null;
}

/** Locks older than this are stale even when their process cannot be checked (another host). */
export const LOCK_EXPIRY_MS = 12 * 3600 * 1000;

/** The lock is keyed on the database's real path: a symbolic link and its target share one lock. */
export function lockPath(dbPath: string): string {
  return lockPathFor(realPathOf(dbPath));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function readLock(dbPath: string): LockHolder | null {
  try {
    const h = check(LockHolderSchema, JSON.parse(readFileSync(lockPath(dbPath), "utf8")));
    if (h) return h;
    throw new Error("not a lock of this tool");
  } catch {
    return existsSync(lockPath(dbPath)) ? { pid: 0, host: "?", startedAt: "?", command: "?", runId: "?", workDir: "?" } : null;
  }
}

/** Stale: its process is dead (same host), or it is older than the expiry. */
export function isStale(h: LockHolder, now = Date.now()): boolean {
  if (h.host === hostname() && h.pid > 0 && !alive(h.pid)) return true;
  const t = Date.parse(h.startedAt);
  return Number.isFinite(t) ? now - t > LOCK_EXPIRY_MS : h.pid === 0;
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on ${h.host}, started ${h.startedAt}, running \`${h.command}\` (run ${h.runId}, work dir ${h.workDir})`;
}

export interface Lock {
  release(): void;
  /** Set when a stale lock was taken over (for the report). */
  tookOver?: LockHolder;
}

/** One cutover per database: a lock file beside it naming the holder. */
export function acquireLock(dbPath: string, me: Omit<LockHolder, "pid" | "host" | "startedAt">, opts: { breakLock?: boolean } = {}): Lock {
  const path = lockPath(dbPath);
  let tookOver: LockHolder | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      const id = identify(dbPath);
      const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), ...me, db: id.real, dev: id.dev, ino: id.ino };
      writeSync(fd, JSON.stringify(holder, null, 2) + "\n");
      fsyncSync(fd);
      closeSync(fd);
      let released = false;
      return {
        tookOver,
        release() {
          if (released) return;
          released = true;
          const cur = readLock(dbPath);
          if (cur && cur.pid === holder.pid && cur.runId === holder.runId) rmSync(path, { force: true });
        },
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM" || code === "EROFS") throw folderNotWritable(dirname(path), code);
      if (code !== "EEXIST") throw e;
      const h = readLock(dbPath);
      if (h && (isStale(h) || opts.breakLock)) {
        tookOver = h;
        rmSync(path, { force: true }); // the lock file is the product's own; the holder is reported
        continue;
      }
      throw refused({
        what: `Another cutover holds the lock on this database: ${h ? describeHolder(h) : "unknown holder"}.`,
        untouched: "Nothing was changed.",
        next: `Wait for it to finish. If that process is gone for good, run again with --break-lock (the holder above is shown again when you do). Lock file: ${path}`,
        details: { lock: h },
      });
    }
  }
  throw refused({ what: `Could not take the lock ${path}.`, untouched: "Nothing was changed.", next: "Run again." });
}

/** The folder beside the database cannot take the lock, the new file or SQLite's journal. */
export function folderNotWritable(dir: string, code = "EACCES"): Error {
  return refused({
    what: `The database's folder ${dir} is not writable by this user (${code}${typeof process.getuid === "function" ? `, uid ${process.getuid()}` : ""}): the lock, the new file and SQLite's own journal are made beside the database.`,
    untouched: "Nothing was changed: no lock, journal or file was made.",
    next: "Run as the database's owner (the user vox runs as), or make the folder writable (chmod u+w), then run the command again.",
    details: { folder: dir, code },
  });
}
