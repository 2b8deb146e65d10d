import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync, fsyncSync } from "node:fs";
import { hostname } from "node:os";
import { refused } from "../errors.js";

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
  runId: string;
  workDir: string;
}

/** Locks older than this are stale even when their process cannot be checked (another host). */
export const LOCK_EXPIRY_MS = 12 * 3600 * 1000;

export function lockPath(dbPath: string): string {
  return `${dbPath}.vox-cutover.lock`;
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
    return JSON.parse(readFileSync(lockPath(dbPath), "utf8")) as LockHolder;
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
      const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), ...me };
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
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
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
