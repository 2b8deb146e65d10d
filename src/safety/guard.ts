/**
 * The one guarded write path. Every command that writes, moves or archives a file (cutover,
 * rehearse, migrate, import-legacy, sidecar, news-check, drill) runs inside `withWriteSafety`:
 *
 * - identity: the database by its real path (symbolic links resolved) and device + inode;
 * - lock: keyed on that identity (a link and its target cannot run concurrently);
 * - other processes holding the database open are refused before anything moves (and again,
 *   through `checkHolders`, right before a swap);
 * - `--plan` must be a digest (empty or malformed: usage error, never a skipped gate);
 * - owned paths: an operator-given path that already holds a file the run did not create, that is
 *   the database or its sidecar, or that lies inside another run's work dir is refused; a work dir
 *   belongs to one database and one run (a marker file says which);
 * - signals: SIGINT/SIGTERM become a stop at the next safe point;
 * - new files keep the primary's permission bits (never more readable) and owner where allowed;
 * - a usage error or a refusal before the run started leaves no work dir, journal, lock or partial file.
 */
import { randomUUID } from "node:crypto";
import {
  accessSync,
  chmodSync,
  chownSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { fsyncFile } from "../util/fsync.js";
import { basename, dirname, join, resolve } from "node:path";
import { refused, usage, VoxError } from "../errors.js";
import { sqliteFailure } from "../db/local.js";
import { ARCHIVE_DIR, defaultWorkDirName, isPartial, markerPath, privateBuildPath, RUN_MARKER, RUNS_DIR } from "../layout.js";
import { pathTooLongForSqlite, SQLITE_MAX_PATH } from "../db/faults.js";
import { check, PlanDigestSchema, type RunMarker } from "../validate/schemas.js";
import { CancelToken, withSignals } from "../util/cancel.js";
import { identify, type DbIdentity } from "./identity.js";
import { describeHolders, openHolders } from "./holders.js";
import { nearestExisting } from "./disk.js";
import { acquireLock, folderNotWritable, liveLockHolderError, type Lock } from "./lock.js";
import { checkOwnedPath, checkWorkDir, danglingLink, exists, readMarker, type OwnedPath } from "./owned.js";

export { identify, realPathOf, type DbIdentity } from "./identity.js";
export { checkOwnedPath, checkWorkDir, readMarker } from "./owned.js";

interface WriteSafetyOptions {
  command: string;
  dbPath: string;
  /** The raw `--plan` value (undefined when not given). */
  plan?: unknown;
  /** Operator-given work dir (absolute), or the run's own (resume: `workDirOurs`). */
  workDir?: string;
  workDirOurs?: boolean;
  /** `workDir` is the default name the plan showed (not the operator's): made atomically, `-2`… when taken meanwhile. */
  workDirDefault?: boolean;
  /** The run id to use (resume: the journal's). */
  runId?: string;
  owned?: OwnedPath[];
  /** Take the lock (default true). */
  lock?: boolean;
  breakLock?: boolean;
  /** Refuse other processes holding the database open (default true; only when it exists). */
  holders?: boolean;
  /** The folder beside the database must be writable (default true). */
  folderWrite?: boolean;
  /** Install SIGINT/SIGTERM handlers on this token (default: a new token). */
  token?: CancelToken;
  signals?: boolean;
}

export interface WriteSafety {
  id: DbIdentity;
  runId: string;
  token: CancelToken;
  lock: Lock | null;
  /** The work dir (created on first use, with the run marker). */
  workDir: string;
  ensureWorkDir(): string;
  /** Another process holding the database open: refused (exit 3). `where` goes into the message. */
  checkHolders(where: string): void;
  /** New files keep the primary's permission bits (never more readable) and owner where allowed. */
  keepMode(path: string): void;
  /** From here on a failure keeps the work dir (its journal is what resume and rollback read). */
  started(): void;
}

/** `--plan`: 16 hex digits, or a usage error. */
export function checkPlanOption(plan: unknown): string | undefined {
  if (plan === undefined || plan === null || plan === false) return undefined;
  if (check(PlanDigestSchema, plan) === null) {
    throw usage({
      what: `--plan ${JSON.stringify(String(plan))} is not a plan digest (16 hex digits, as the dry-run prints it).`,
      untouched: "Nothing was read or changed.",
      next: "Run the command without --apply, review the plan, and pass the digest it prints: --apply --plan <digest>.",
    });
  }
  return String(plan);
}

/** The default work dir: `vox-cutover-runs/<UTC>` beside the database, `-2`, `-3`… when taken. */
export function planDefaultWorkDir(real: string, now = clock()): string {
  for (let n = 1; ; n++) {
    const d = defaultWorkDirName(real, now, n);
    if (!exists(d)) return d;
  }
}

/** VOX_CUTOVER_CLOCK (tests): a fixed time, to make two runs start in the same UTC second. */
function clock(): Date {
  const c = process.env.VOX_CUTOVER_CLOCK;
  return c ? new Date(c) : new Date();
}

function writeMarker(dir: string, m: RunMarker): void {
  const fd = openSync(markerPath(dir), "wx");
  try {
    writeSync(fd, JSON.stringify(m, null, 2) + "\n");
    fsyncFile(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a work dir that belongs to this run: atomically new (default) or marked (given). */
function createWorkDir(dir: string, given: boolean, id: DbIdentity, runId: string, command: string, mode: number): string {
  const marker: RunMarker = { format: "vox-cutover-run", runId, command, db: id.real, dev: id.dev, ino: id.ino, createdAt: new Date().toISOString() };
  if (given) {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode });
    if (!readMarker(dir)) writeMarker(dir, marker);
    return dir;
  }
  // Default: a new folder; two runs in the same second get different ones (mkdir is atomic).
  mkdirSync(dirname(dir), { recursive: true });
  let d = dir;
  for (let n = 2; ; n++) {
    try {
      mkdirSync(d, { mode });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      d = `${dir}-${n}`;
    }
  }
  writeMarker(d, marker);
  return d;
}

export function assertFolderWritable(wanted: string): void {
  const dir = nearestExisting(wanted); // a folder still to be made: its nearest existing parent
  if (!statSync(dir).isDirectory())
    // e.g. a file named vox-cutover-runs beside the database: it was "not writable (EACCES)" for root as for anyone
    throw refused({
      what: `${dir} is not a folder${dir === wanted ? "" : `, and ${wanted} would be made inside it`}.`,
      untouched: "Nothing was changed: no lock, journal or file was made.",
      next: `Move ${dir} away (it is not this tool's), or give --work-dir / --backup a folder elsewhere.`,
      details: { folder: dir },
    });
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw folderNotWritable(dir, (e as NodeJS.ErrnoException).code ?? "EACCES");
  }
}

export function assertNoHolders(id: DbIdentity, where: string): void {
  if (!id.exists) return;
  const scan = openHolders(id.real, id.dev && id.ino ? { dev: id.dev, ino: id.ino } : null);
  if (scan.holders.length) {
    const cutover = liveLockHolderError(
      id.real,
      scan.holders.map((h) => h.pid),
    );
    if (cutover) throw cutover;
    throw refused({
      what: `Another process holds the database ${id.real} open ${where}: ${describeHolders(scan.holders)}. An application still running would keep writing into the old file after the swap.`,
      untouched: "Nothing was moved or changed.",
      next: "Stop that application (vox, a service, a sqlite3 shell), then run the command again.",
      details: { holders: scan.holders },
    });
  }
}

/**
 * SQLite opens at most SQLITE_MAX_PATH bytes of path: the database and the private files built beside
 * it (the longest: `.<name>.vox-cutover-building-<pid>-journal`) must fit, or the run is refused (3)
 * before anything is made.
 */
function assertPathFitsSqlite(dbReal: string): void {
  const longest = privateBuildPath(dbReal, "building", 9_999_999);
  if (!pathTooLongForSqlite(longest)) return;
  throw refused({
    what: `The database's path is too long for SQLite: ${Buffer.byteLength(dbReal)} bytes, and the files this run builds beside it would need ${Buffer.byteLength(longest) + "-journal".length} (SQLite opens at most ${SQLITE_MAX_PATH}).`,
    untouched: "Nothing was changed: no lock, journal or file was made.",
    next: "Move the database to a shorter path, then run again.",
    details: { fault: "ENAMETOOLONG", bytes: Buffer.byteLength(dbReal) },
  });
}

/** Runs `fn` inside the guarded write path (see the file's comment). */
export async function withWriteSafety<T>(opts: WriteSafetyOptions, fn: (g: WriteSafety) => Promise<T>): Promise<T> {
  checkPlanOption(opts.plan);
  const id = identify(opts.dbPath);
  // A link whose target is missing is what an unmounted data volume looks like: creating a file would replace the link (helper-102).
  if (danglingLink(id.path))
    throw refused({
      what: `${id.path} is a symbolic link to ${readlinkSync(id.path)}, which does not exist (a volume not mounted?).`,
      untouched: "Nothing was created or changed: the link was left as it is.",
      next: "Mount or restore what the link points at and run again, or give --db the real path of the database.",
    });
  const runId = opts.runId ?? randomUUID();
  const token = opts.token ?? new CancelToken();
  const given = opts.workDir !== undefined && !opts.workDirDefault;
  const workDirPlanned = opts.workDir !== undefined ? resolve(opts.workDir) : planDefaultWorkDir(id.real);
  if (given) checkWorkDir(workDirPlanned, id, runId, Boolean(opts.workDirOurs));
  for (const o of opts.owned ?? []) checkOwnedPath(o, id, runId);
  if (opts.folderWrite !== false) assertFolderWritable(dirname(id.real));
  assertPathFitsSqlite(id.real);
  if (opts.holders !== false) assertNoHolders(id, "(an application still running?)");
  const dirMode = id.mode !== null && (id.mode & 0o077) === 0 ? 0o700 : 0o755;
  let createdWorkDir: string | null = null;
  let isStarted = Boolean(opts.workDirOurs);
  let lock: Lock | null = null;
  const g: WriteSafety = {
    id,
    runId,
    token,
    lock: null,
    workDir: workDirPlanned,
    ensureWorkDir() {
      if (createdWorkDir || (opts.workDirOurs && existsSync(g.workDir))) return g.workDir;
      const existed = existsSync(g.workDir);
      g.workDir = createWorkDir(g.workDir, given, id, runId, opts.command, dirMode);
      if (!existed) createdWorkDir = g.workDir;
      else createdWorkDir = ""; // given and existing: only our own files are removed on a refusal
      g.keepMode(markerPath(g.workDir));
      return g.workDir;
    },
    checkHolders(where: string) {
      assertNoHolders(identify(id.real), where);
    },
    keepMode(path: string) {
      keepMode(path, id);
    },
    started() {
      isStarted = true;
    },
  };
  const body = async () => {
    // A file that does not exist yet is locked by its name (src/safety/lock.ts: nameLockPath).
    if (opts.lock !== false) {
      lock = acquireLock(id.real, { command: opts.command, runId, workDir: workDirPlanned }, { breakLock: opts.breakLock });
      g.lock = lock;
    }
    try {
      return await fn(g);
    } catch (e) {
      // Raw SQLite/file-system failures become what they are (a damaged file, a read-only folder, a hot journal).
      const v = e instanceof VoxError ? e : sqliteFailure(e, id.real);
      // An interrupt before anything changed (stopPoint: nothing to resume) leaves nothing either.
      const nothingLeft = v?.kind === "interrupted" && v.details?.resumable === false;
      if (!isStarted && v && (v.kind === "usage" || v.kind === "refused" || nothingLeft)) cleanUp(g.workDir, createdWorkDir, runId);
      throw v ?? e;
    } finally {
      (lock as Lock | null)?.release();
    }
  };
  return opts.signals === false ? body() : withSignals(token, body);
}

/** Removes what a refused run made in its work dir: all of it when the run created the folder. */
function cleanUp(workDir: string, created: string | null, runId: string): void {
  if (created === null) return;
  if (created) {
    rmSync(created, { recursive: true, force: true });
    // vox-cutover-runs/ itself, when this run made it and nothing else is in it
    const root = dirname(created);
    try {
      if (basename(root) === RUNS_DIR && readdirSync(root).length === 0) rmdirSync(root);
    } catch {
      /* not ours to remove */
    }
    return;
  }
  const m = readMarker(workDir);
  if (m && m.runId === runId) rmSync(join(workDir, RUN_MARKER), { force: true });
  for (const f of existsSync(workDir) ? readdirSync(workDir) : []) if (isPartial(f)) rmSync(join(workDir, f), { force: true });
}

/**
 * A new file takes the primary's permission bits (never more readable) and, where allowed, its owner.
 * Never the primary's own inode (the archive is a hard link to it: from the swap's link to its rename
 * the live database itself): its bits and owner are the primary's already, and are left as they are.
 */
function keepMode(path: string, id: DbIdentity): void {
  if (id.mode === null || !existsSync(path)) return;
  try {
    const st = statSync(path, { bigint: true });
    if (String(st.dev) === id.dev && String(st.ino) === id.ino) return;
    const cur = Number(st.mode & 0o777n);
    const want = st.isDirectory() ? (id.mode & 0o077 ? cur : 0o700) : id.mode & 0o666 & cur;
    if (want !== cur) chmodSync(path, want);
    if (id.uid !== null && id.gid !== null && (Number(st.uid) !== id.uid || Number(st.gid) !== id.gid) && process.getuid?.() === 0)
      chownSync(path, id.uid, id.gid);
  } catch {
    /* where the system does not allow it */
  }
}

/**
 * Applies keepMode to every file in a work dir (reports, journal, backups, records) — never inside its
 * archive: the originals there (the primary's own inode, the sidecar moved in, their -wal and -shm) keep
 * their bits and owner. (keepMode's own test of the primary's inode cannot tell on a resume after the
 * swap, when `id` is the new file's.)
 */
export function keepModeTree(dir: string, id: DbIdentity, top = true): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isSymbolicLink()) continue;
    if (e.isDirectory() && !(top && e.name === ARCHIVE_DIR)) keepModeTree(p, id, false);
    keepMode(p, id);
  }
  keepMode(dir, id);
}
