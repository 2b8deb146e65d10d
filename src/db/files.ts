import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import { fsyncDir, fsyncFile } from "../util/fsync.js";
import { dirname } from "node:path";
import { DB_SIDE_SUFFIXES, privateBuildPath } from "../layout.js";
import { refused } from "../errors.js";
import { allRows, openReadWrite, type LibsqlDatabase } from "./local.js";
import { quoteIdent } from "./value.js";
import { applyHeaderSettings, applyLayoutSettings, finalJournalMode, type FileSettings } from "./file-settings.js";

/** The files SQLite keeps beside a database. */
export const DB_SIDE_FILES = DB_SIDE_SUFFIXES;

/** Moves a database file together with whichever of its -wal/-shm/-journal exist (renames: nothing is copied or deleted). */
export function moveDatabaseFiles(from: string, to: string): void {
  renameSync(from, to);
  for (const s of DB_SIDE_FILES) if (existsSync(from + s)) renameSync(from + s, to + s);
}

/**
 * Lets SQLite take away the empty `-wal` and the `-shm` a read-only connection leaves beside a WAL-mode
 * file (SQLite removes them only when a read-write connection closes last, under its own locks): a
 * read-write connection is opened and closed, reading the schema and writing nothing (an empty WAL
 * checkpoints nothing; the file's size, time and header stay). Before the swap renames the new file,
 * whose checks read it read-only: renamed alone, it would leave `.<name>.vox-cutover-new-wal` and
 * `-shm` beside the database (helper-91). Nothing is done when there is no `-wal` or when it holds
 * frames (a write since the build: the swap's assertRecorded refuses that file as it stands), nor
 * where no file is (never one created). The caller has checked that it is its own file and that no
 * other process holds it (the swap: assertRecorded, assertNewFileUnheld). The
 * readers must be gone, not only closed: libsql ends a closed connection once its statements are
 * collected, which the swap has done before its hold (src/safety/hold.ts releaseClosedHandles).
 * `busyMs`: how long another process's lock may make it wait (SQLite's busy timeout; the default's 5 s).
 */
export function settleReadersSideFiles(path: string, busyMs?: number): void {
  let wal: number;
  try {
    if (!statSync(path).isFile()) return; // openReadWrite would make a database where none is
    wal = statSync(path + "-wal").size;
  } catch {
    return; // no file, or no -wal
  }
  if (wal === 0) openReadWrite(path, busyMs).close();
}

/** Removes one of this product's own temporary database files and its companions (never a user's file). */
export function removeOwnDatabaseFiles(path: string): void {
  for (const s of ["", ...DB_SIDE_FILES]) rmSync(path + s, { force: true });
}

interface WriteTarget<T = unknown> {
  /** The database the caller means. */
  path: string;
  /**
   * "existing": write into it. "create": build a private new file beside it and rename it into
   * place when committed (it must not exist then). "scratch": build a private file and remove it.
   */
  mode: "existing" | "create" | "scratch";
  /** Names the private file: `.<name>.vox-cutover-<tag>-<pid>`. */
  tag: string;
  /** A private file may load without a rollback journal or per-commit fsync (it is deleted on failure). */
  fast?: boolean;
  /**
   * With `fast`: the private file loads in WAL mode instead, so that another thread can read what
   * `fn` commits midway (a private file may commit midway: it is removed on any failure) while this
   * one goes on writing; back to a rollback journal after the commit. Every reader must be closed by then.
   */
  readersBeside?: boolean;
  /** Load order must not matter: foreign keys are not enforced (violations are reported after). */
  foreignKeysOff?: boolean;
  /** A new file's settings (page size, auto-vacuum, encoding, journal mode, user_version, application_id): the original's. */
  settings?: FileSettings | null;
  /**
   * A second step after the commit, in a transaction of its own with the rollback journal on (so
   * its savepoints work; a private file loads without a journal). A failure removes a new file.
   */
  then?: (db: LibsqlDatabase, result: T) => void;
  /**
   * Runs just before the transaction begins, after the pragmas: where a database to read from is
   * attached (SQLite attaches nothing inside a transaction). Every attached database is detached
   * when the transaction ends, before anything else (a later pragma would apply to it too).
   */
  before?: (db: LibsqlDatabase) => void;
}

/**
 * The page cache of a private new file's loading connection, in KiB. It also bounds the memory of
 * SQLite's sorter (an index build keeps up to cache_size of keys in memory before it spills to a temp
 * file), so the build holds up to twice this. 16 MB put the 1 GB cutover --apply at 173-193 MB peak RSS;
 * 8 MB (with the collection between long steps, cutover/run.ts) at 155-164 MB, same CPU (docs/benchmark.md).
 */
const BUILD_CACHE_KIB = 8192;

function detachAll(db: LibsqlDatabase): void {
  for (const r of allRows(db, "PRAGMA database_list")) if (r.name !== "main" && r.name !== "temp") db.exec(`DETACH ${quoteIdent(String(r.name))}`);
}

/**
 * One BEGIN IMMEDIATE transaction on `target`: committed, or rolled back and rethrown. A private
 * new file is removed on any failure, fsynced and renamed into place on success (never over a file
 * that appeared meanwhile), so a database is either untouched or complete.
 */
export async function writeTransactionInto<T>(target: WriteTarget<T>, fn: (db: LibsqlDatabase) => T | Promise<T>): Promise<T> {
  const fresh = target.mode !== "existing";
  const file = fresh ? privateBuildPath(target.path, target.tag) : target.path;
  if (fresh) removeOwnDatabaseFiles(file);
  let db: LibsqlDatabase | undefined;
  let result: T;
  try {
    db = openReadWrite(file);
    if (fresh && target.settings) {
      applyLayoutSettings(db, target.settings); // before anything else reads or writes the file
    }
    if (target.foreignKeysOff) db.exec("PRAGMA foreign_keys=OFF"); // must be set outside the transaction
    if (fresh && target.fast)
      db.exec(`PRAGMA journal_mode=${target.readersBeside ? "WAL" : "OFF"}; PRAGMA synchronous=OFF; PRAGMA cache_size=-${BUILD_CACHE_KIB}`);
    target.before?.(db);
    db.exec("BEGIN IMMEDIATE");
    try {
      result = await fn(db);
      // After the first table: SQLite writes the encoding into the header only when it creates the schema.
      if (fresh && target.settings) applyHeaderSettings(db, target.settings);
      db.exec("COMMIT");
    } catch (e) {
      if (db.inTransaction) db.exec("ROLLBACK");
      throw e;
    }
    if (target.before) detachAll(db);
    if (fresh && target.fast) db.exec("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL");
    if (target.then) {
      db.exec("BEGIN IMMEDIATE");
      try {
        target.then(db, result);
        db.exec("COMMIT");
      } catch (e) {
        if (db.inTransaction) db.exec("ROLLBACK");
        throw e;
      }
    }
    db.close();
    db = undefined;
    if (target.mode === "create" && finalJournalMode(target.settings ?? null) === "wal") {
      // Last, on a connection of its own (the build's statements would keep the mode from changing).
      db = openReadWrite(file);
      db.exec("PRAGMA journal_mode=WAL");
      db.close();
      db = undefined;
    }
  } catch (e) {
    db?.close();
    if (fresh) removeOwnDatabaseFiles(file);
    throw e;
  }
  if (target.mode === "scratch") removeOwnDatabaseFiles(file);
  else if (target.mode === "create") {
    fsyncFile(file);
    if (existsSync(target.path)) {
      removeOwnDatabaseFiles(file);
      throw refused({
        what: `${target.path} appeared while the new database was being built.`,
        untouched: "The file that appeared was left untouched.",
        next: "Run vox-cutover diagnose on it, then run the command again.",
      });
    }
    renameSync(file, target.path);
    fsyncDir(dirname(target.path));
  }
  return result;
}

/** WAL: every frame into the file and the -wal removed (our own connection, closed). */
export function checkpointIfWal(dbPath: string): void {
  if (!existsSync(`${dbPath}-wal`)) return;
  const db = openReadWrite(dbPath);
  try {
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

/** A `-wal` or `-journal` beside `path` that holds anything (committed frames, a hot journal), or null: what removing or orphaning it would lose. */
export function sideFileWithWrites(path: string): string | null {
  for (const sfx of ["-wal", "-journal"]) {
    try {
      if (statSync(path + sfx).size > 0) return path + sfx;
    } catch {
      /* not there */
    }
  }
  return null;
}
