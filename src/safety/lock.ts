import type * as v from "valibot";
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { fsyncFile } from "../util/fsync.js";
import { hostname } from "node:os";
import { refused } from "../errors.js";
import { createHash } from "node:crypto";
import { check, LockHolderSchema } from "../validate/schemas.js";
import { identify } from "./identity.js";
import { basename, dirname, join } from "node:path";
import { mkdirSync, chmodSync } from "node:fs";

/** The lock file's content: who holds it, and the database's real path and device/inode (the lock's key). */
export type LockHolder = v.InferOutput<typeof LockHolderSchema>;

/** Locks older than this are stale even when their process cannot be checked (another host). */
const LOCK_EXPIRY_MS = 12 * 3600 * 1000;

/**
 * One lock per file identity: the lock file is keyed on the database's device + inode, so every
 * name of one file (its real path, a symbolic link, a hard link in another folder) meets the same
 * lock. It lives in one host-wide folder (VOX_CUTOVER_LOCK_DIR overrides it, for tests). A file
 * that does not exist yet (migrate creating it) has no inode: its real path stands in.
 */
function lockRoot(): string {
  return process.env.VOX_CUTOVER_LOCK_DIR || "/tmp/vox-cutover-locks";
}

function inodeLockPath(dev: string, ino: string): string {
  return join(lockRoot(), `${dev}-${ino}.lock`);
}

/**
 * The lock of a *name*: the real folder's device + inode and the file's name in it. A file that does
 * not exist yet has no inode, so two writers of one new path meet here; and because the writer that
 * creates the file still holds it, a writer arriving after the file appeared meets it too (every
 * writer takes its name's lock as well as its file's). A folder that does not exist: its real path.
 */
function nameLockPath(path: string): string {
  const real = identify(path).real;
  const dir = dirname(real);
  let key: string;
  try {
    const st = statSync(dir, { bigint: true });
    key = `${st.dev}-${st.ino}`;
  } catch {
    key = createHash("sha256").update(dir).digest("hex").slice(0, 16);
  }
  return join(lockRoot(), `name-${key}-${createHash("sha256").update(basename(real)).digest("hex").slice(0, 32)}.lock`);
}

/** The one lock file of the file at `dbPath` (by its identity; by its name while it does not exist). */
export function lockFileOf(dbPath: string): string {
  const id = identify(dbPath);
  return id.dev && id.ino ? inodeLockPath(id.dev, id.ino) : nameLockPath(dbPath);
}

/** Whether a process of this id runs (one of another user's counts: EPERM). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The holder of this database's lock (whichever name of the file took it). */
export function readLock(dbPath: string): LockHolder | null {
  return readLockFile(lockFileOf(dbPath));
}

function readLockFile(path: string): LockHolder | null {
  try {
    const h = check(LockHolderSchema, JSON.parse(readFileSync(path, "utf8")));
    if (h) return h;
    throw new Error("not a lock of this tool");
  } catch {
    return existsSync(path) ? { pid: 0, host: "?", startedAt: "?", command: "?", runId: "?", workDir: "?" } : null;
  }
}

/**
 * This boot's id and a process's start (clock ticks since boot, /proc/PID/stat field 22): what tells a
 * lock's holder from a process the kernel later gave its pid (a killed run's lock file stays; pids
 * wrap). null where /proc cannot say (not Linux, another user's process hidden, gone).
 */
function processIdentity(pid: number): { boot: string; start: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    return start && /^\d+$/.test(start) && boot ? { boot, start } : null;
  } catch {
    return null;
  }
}

/** The holder's process runs: its pid is alive and, where the lock recorded it, it is that same process (where /proc cannot say, taken as alive). */
function holderRuns(h: LockHolder): boolean {
  if (!processAlive(h.pid)) return false;
  if (!h.proc) return true;
  const now = processIdentity(h.pid);
  return now === null || (now.boot === h.proc.boot && now.start === h.proc.start);
}

/** Its process is known to be running (same host, the holder's pid alive and its process): nobody takes such a lock over, --break-lock included. */
function isLive(h: LockHolder): boolean {
  return h.host === hostname() && h.pid > 0 && holderRuns(h);
}

/** Stale: its process is dead (same host), or it is older than the expiry. */
export function isStale(h: LockHolder, now = Date.now()): boolean {
  if (h.host === hostname() && h.pid > 0 && !holderRuns(h)) return true;
  const t = Date.parse(h.startedAt);
  return Number.isFinite(t) ? now - t > LOCK_EXPIRY_MS : h.pid === 0;
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on ${h.host}, started ${h.startedAt}, running \`${h.command}\` (run ${h.runId}, work dir ${h.workDir})`;
}

export interface Lock {
  release(): void;
  /**
   * Takes the lock of another file as well, for this holder: the swap covers the new file before it
   * takes the database's name (and a rollback the archived original before it is renamed back), so
   * whoever looks at the name meets this run's lock whichever file is there. Released with the rest.
   */
  cover(path: string): void;
  /** Set when a stale lock was taken over (for the report). */
  tookOver?: LockHolder;
}

/**
 * One writer per database: one lock file keyed on its identity (device + inode: hard links share
 * it), naming the holder. A lock whose holder is dead (same host, pid checked) is taken over
 * (reported); `--break-lock` also takes over a holder that cannot be checked (another host, an
 * unreadable lock file), never a live one.
 */
interface LockOptions {
  breakLock?: boolean;
  /** What the lock guards, in a refusal ("this database" unless said). */
  noun?: string;
}

export function acquireLock(dbPath: string, me: Omit<LockHolder, "pid" | "host" | "startedAt">, opts: LockOptions = {}): Lock {
  const id = identify(dbPath);
  const proc = processIdentity(process.pid);
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    ...me,
    db: id.real,
    dev: id.dev,
    ino: id.ino,
    ...(proc ? { proc } : {}),
  };
  ensureLockRoot();
  const taken: string[] = [];
  const releaseAll = () => {
    for (const p of taken.splice(0)) {
      const cur = readLockFile(p);
      try {
        if (cur && cur.pid === holder.pid && cur.runId === holder.runId) rmSync(p, { force: true });
      } catch {
        // A folder made read-only under the run: the lock file stays; once this process has exited it is a dead holder's (stale).
      }
    }
  };
  const path = lockFileOf(dbPath);
  const tookOver = takeLockFile(path, holder, id.real, opts);
  taken.push(path);
  // The name's lock too (see nameLockPath): a writer of the same name that finds no file yet, or a new one, meets it.
  const byName = nameLockPath(dbPath);
  if (byName !== path) {
    try {
      takeLockFile(byName, holder, id.real, opts);
      taken.push(byName);
    } catch (e) {
      releaseAll();
      throw e;
    }
  }
  let released = false;
  return {
    tookOver,
    cover(other: string) {
      if (released) return;
      const p = lockFileOf(other);
      if (taken.includes(p)) return;
      const oid = identify(other);
      takeLockFile(p, { ...holder, dev: oid.dev, ino: oid.ino }, id.real, opts);
      taken.push(p);
    },
    release() {
      if (released) return;
      released = true;
      releaseAll();
    },
  };
}

function ensureLockRoot(): void {
  const root = lockRoot();
  if (existsSync(root)) return;
  try {
    mkdirSync(root, { recursive: true, mode: 0o1777 });
    chmodSync(root, 0o1777); // every user's runs share it (sticky: nobody removes another's lock file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST")
      throw refused({
        what: `The host-wide lock folder ${root} cannot be made (${(e as NodeJS.ErrnoException).code}).`,
        untouched: "Nothing was changed: no lock, journal or file was made.",
        next: `Make it (mkdir -m 1777 ${root}) and run again.`,
      });
  }
}

/** Takes one lock file; returns the dead holder it replaced, if any. */
function takeLockFile(path: string, holder: LockHolder, realPath: string, opts: LockOptions): LockHolder | undefined {
  let tookOver: LockHolder | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      let written = false;
      try {
        writeSync(fd, JSON.stringify(holder, null, 2) + "\n");
        fsyncFile(fd);
        written = true;
      } finally {
        closeSync(fd); // never leaked, whatever failed
        // Our own lock file, half written or not on disk: removed, so it never blocks the next run as an "unknown holder".
        if (!written) rmSync(path, { force: true });
      }
      return tookOver;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM" || code === "EROFS") throw folderNotWritable(dirname(path), code);
      if (code !== "EEXIST") throw e;
      const h = readLockFile(path);
      if (h && !isLive(h) && (isStale(h) || opts.breakLock)) {
        tookOver = h;
        rmSync(path, { force: true }); // the lock file is the product's own; the holder is reported
        continue;
      }
      throw heldError(h, path, realPath, opts);
    }
  }
  throw refused({ what: `Could not take the lock ${path}.`, untouched: "Nothing was changed.", next: "Run again." });
}

/** The refusal when another holder has the lock file `path` (the one sentence for every place that finds it held). */
function heldError(h: LockHolder | null, path: string, realPath: string, opts: LockOptions): Error {
  const live = h ? isLive(h) : false;
  return refused({
    what: `Another ${h && h.command !== "cutover" ? "command" : "cutover"} holds the lock on ${opts.noun ?? "this database"}${h?.db && h.db !== realPath ? ` (taken through another name of the same file, ${h.db}: a hard link)` : ""}: ${h ? describeHolder(h) : "unknown holder"}.`,
    untouched: "Nothing was changed.",
    next:
      live && opts.breakLock
        ? `Its process is still running: --break-lock only replaces the lock of a holder that is gone. Wait for it to finish (or stop it), then run again. Lock file: ${path}`
        : `Wait for it to finish. If that process is gone for good, run again with --break-lock (the holder above is shown again when you do). Lock file: ${path}`,
    details: { lock: h, lockFile: path },
  });
}

/**
 * The lock refusal, when one of `pids` (processes found holding the database open) is the live holder
 * of its lock: a running cutover holds the file open too, and the operator must be told it is a
 * cutover (and which run), not "an application still running". Nobody takes a live holder's lock
 * over (--break-lock included), so this is the refusal the lock itself gives; null otherwise.
 */
export function liveLockHolderError(realPath: string, pids: readonly number[]): Error | null {
  const path = lockFileOf(realPath);
  const h = readLockFile(path);
  return h && h.pid !== process.pid && pids.includes(h.pid) && isLive(h) ? heldError(h, path, realPath, {}) : null;
}

/** Removes the lock a dead process of run `runId` left (rollback of a killed run). */
export function removeDeadLocks(dbPath: string, runId: string): void {
  for (const p of new Set([lockFileOf(dbPath), nameLockPath(dbPath)])) {
    const h = readLockFile(p);
    if (h && h.runId === runId && !isLive(h) && isStale(h)) rmSync(p, { force: true });
  }
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
