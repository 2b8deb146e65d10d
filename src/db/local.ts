import Database from "libsql";
import { closeSync, copyFileSync, constants as fsc, existsSync, fstatSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { failed, refused, VoxError } from "../errors.js";
import { faultOf } from "./faults.js";
import { writerHoldsLock } from "./locks.js";
import { contentState, isDatabaseFile, notADatabase, probeFile, untouchedSince, type ProbeResult } from "./probe.js";
import { copyRaw } from "./raw-fd.js";
import { sleepSync } from "../util/sleep.js";
import { bindable, normalizeValue, type Row, type SqlValue, type TextEncoding } from "./value.js";

export type LibsqlDatabase = InstanceType<typeof Database>;
export type LibsqlStatement = ReturnType<LibsqlDatabase["prepare"]>;

function fileUri(path: string, params: string): string {
  const escaped = path.replace(/%/g, "%25").replace(/\?/g, "%3F").replace(/#/g, "%23");
  return `file:${escaped}?${params}`;
}

/** The URI to ATTACH a database read-only with (the import's native source). */
export function attachUri(path: string): string {
  return fileUri(path, "mode=ro");
}

const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);

/**
 * A rollback journal beside the database that still holds a transaction whose writer stopped
 * mid-write (a crash or a kill). A journal whose writer still holds SQLite's write lock is live, not
 * hot (db/locks.ts): the committed state is read as SQLite reads it, or SQLite answers "locked".
 * A live writer's journal also comes and goes between looks (a commit deletes, truncates or zeroes
 * it, then lets go of the lock; the next transaction writes a new one): hot only if three looks,
 * 10 ms apart, find the same journal (device, inode, size, modification time) with its header and
 * no writer's lock.
 */
export function hotJournal(path: string): boolean {
  let first: string | null = null;
  for (let look = 0; look < 3; look++) {
    if (look) sleepSync(10);
    // The journal first: reading /proc/locks costs ~10–20 ms of wall time the first time a process
    // does (the kernel waits for an RCU grace period), which every open of a file with no journal paid.
    const seen = journalWithHeader(`${path}-journal`);
    if (seen === null || (first !== null && seen !== first) || writerHoldsLock(path)) return false;
    first = seen;
  }
  return true;
}

/** The journal's identity (device, inode, size, mtime) when it holds a journal header; else null. */
function journalWithHeader(j: string): string | null {
  try {
    const fd = openSync(j, "r");
    try {
      const st = fstatSync(fd, { bigint: true });
      const b = Buffer.alloc(8);
      if (st.size < 28n || readSync(fd, b, 0, 8, 0) < 8 || !b.equals(JOURNAL_MAGIC)) return null;
      return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
    } finally {
      closeSync(fd);
    }
  } catch {
    return null; // none (or unreadable)
  }
}

export function hotJournalError(path: string): VoxError {
  return refused({
    what: `${path}-journal is a hot rollback journal: a program writing to ${path} stopped in the middle of a transaction (a crash or a kill), so the file is not consistent until SQLite rolls that transaction back.`,
    untouched: "Nothing was changed: the database and its journal were left exactly as they are (this tool opens nothing for writing before that is resolved).",
    next: `If no program is writing to it any more, let SQLite roll it back by opening it once read-write (sqlite3 '${path}' 'PRAGMA integrity_check', or start vox), then run the command again. If a program is still writing, stop it first.`,
    details: { journal: `${path}-journal` },
  });
}

/** Raw SQLite and file-system failures, in words: a refusal that says what is wrong, what was left untouched and what to do (null: not one of them). */
export function sqliteFailure(e: unknown, dbPath?: string): VoxError | null {
  if (e instanceof VoxError) return e;
  const code = String((e as { code?: string }).code ?? "");
  const msg = e instanceof Error ? e.message : String(e);
  const where = dbPath ? ` ${dbPath}` : "";
  if (/CORRUPT/.test(code) || /database disk image is malformed|malformed database schema/i.test(msg)) {
    return refused({
      what: `The database${where} is damaged: SQLite reports "${msg}" (a corrupt b-tree or page).`,
      untouched: "Nothing was changed: no change was committed and the file was left as it is.",
      next: `Repair it into a new file first (sqlite3${where} ".recover" | sqlite3 recovered.db), check that file with vox-cutover diagnose --db recovered.db, or restore the database from a backup.`,
      details: { chain: "not-a-database", sqlite: code || msg },
    });
  }
  // A path that reads rows without src/db/collations.ts's check first: the same refusal, from SQLite's words.
  const collation = /no such collation sequence: (.+)$/i.exec(msg);
  if (collation) return unknownCollationRefusal(dbPath ?? "", new Map([[collation[1]!, []]]), msg);
  if ((dbPath && /READONLY/.test(code)) || /readonly database/i.test(msg)) {
    if (dbPath && hotJournal(dbPath)) return hotJournalError(dbPath);
    return refused({
      what: `SQLite cannot write${where}: "${msg}" (the file or its folder is read-only for this user, or on a read-only filesystem).`,
      untouched: "Nothing was changed.",
      next: "Run as the database's owner, or make the file and its folder writable, then run the command again.",
    });
  }
  if (/SQLITE_BUSY|SQLITE_LOCKED/.test(code) || /database is locked|database table is locked/i.test(msg)) {
    return refused({
      what: `Another program kept${where || " the database"} locked for longer than this tool waits (${BUSY_TIMEOUT_MS / 1000} s): SQLite answered "${msg}". An application is writing to it without a pause, or holds a write transaction open.`,
      untouched: "The database was left as it is.",
      next: `Stop the application writing to it (fuser -v${where || " <file>"} names the processes that have it open), or wait until it is idle, then run the command again.`,
      details: { sqlite: code || msg },
    });
  }
  const fault = faultOf(e, dbPath);
  if (fault && /ENOSPC|EDQUOT|EFBIG|ENAMETOOLONG|EIO/.test(fault.code)) {
    const p = (e as { path?: string }).path;
    return failed({
      what: `A write stopped${p ? ` at ${p}` : where}: ${fault.words} (${fault.code}: ${msg}).`,
      untouched: "No change was committed: every write the product makes is in a transaction or to a temporary name; the database was left as it is.",
      next: `${fault.fix}, then run the command again.`,
      details: { fault: fault.code },
    });
  }
  if (/^(EACCES|EPERM|EROFS)$/.test(code) || /SQLITE_CANTOPEN|unable to open database file/.test(code + msg)) {
    const p = (e as { path?: string }).path;
    return refused({
      what: `A file could not be written or opened${p ? ` (${p})` : where}: ${msg}. The folder is read-only for this user or the filesystem is read-only.`,
      untouched: "Nothing was changed: what this run made was removed, the database was left as it is.",
      next: "Run as the database's owner, or make the folder writable (chmod u+w), or choose another --work-dir/--backup, then run the command again.",
    });
  }
  return null;
}

/**
 * The refusal (3) of a database whose schema names collations SQLite in this tool does not have
 * (src/db/collations.ts finds them; `named`: each with the tables and indexes declaring it, where known).
 */
export function unknownCollationRefusal(path: string, named: ReadonlyMap<string, readonly string[]>, sqlite?: string): VoxError {
  const one = named.size === 1;
  const list = [...named].map(([name, where]) => `"${name}"${where.length ? ` (${where.join(", ")})` : ""}`).join("; ");
  return refused({
    what:
      `${path || "The database"} declares ${one ? "a collation" : "collations"} SQLite in this tool does not have: ${list}. ` +
      `A program registers such a collation while it runs (or the schema was edited); without it SQLite cannot compare the values ` +
      `those columns and indexes hold, so it can neither check the file's integrity nor read and copy it in a way this tool can prove.`,
    untouched: "Nothing was changed: the database was only read.",
    next: `Open the database with the program that made it (it has ${one ? "that collation" : "those collations"}), rebuild those tables and indexes without it (BINARY, NOCASE or RTRIM) into a new file, check that file with vox-cutover diagnose --db <new file>, and cut that file over instead.`,
    details: { collations: [...named.keys()], ...(sqlite ? { sqlite } : {}) },
  });
}

function wrapOpenError(path: string, e: unknown): Error {
  const code = (e as { code?: string }).code ?? "";
  const msg = e instanceof Error ? e.message : String(e);
  if (/NOTADB/.test(code) || /not a database/i.test(msg)) {
    return notADatabase(path, { state: "not-sqlite", reason: msg });
  }
  const known = sqliteFailure(e, path);
  if (known) return known;
  return failed({
    what: `${path} cannot be opened: ${msg}.`,
    untouched: "The file was left untouched.",
    next: "Check that the file is readable and not locked by another program, then run the command again.",
  });
}

/**
 * Opens an existing SQLite file for reading only (`mode=ro`, SQLite's own locking: never
 * `immutable=1`, which reads without locks and tears when another process writes meanwhile).
 * A caller that reads more than one statement's worth holds one read transaction (`BEGIN` … `COMMIT`)
 * from its first row to its last: that is its snapshot, whatever other processes commit.
 * - WAL mode: the reader shares the file's `-shm` (its read mark goes there) and, where none exist
 *   and the folder is writable, SQLite creates an empty `-wal` and the `-shm` beside the file, as
 *   every SQLite reader does; the file's and the `-wal`'s content are never changed. Where the
 *   folder is not writable and there is no `-shm`, a private copy of the file and its `-wal` is read
 *   instead, taken when the content version is the same before and after the copy.
 * - a hot rollback journal beside it is refused (reading would need SQLite to roll it back).
 */
export function openReadOnly(
  path: string,
  opts: {
    /** false: refuse instead of reading a private copy (a helper that would not use it). */ copy?: boolean;
    /**
     * true: the process checked the file already and holds a read transaction on it (a worker
     * thread beside the export's main thread): the file is not opened and closed here, which would
     * drop that transaction's POSIX locks (they belong to the process). Implies copy: false.
     */
    probed?: boolean;
  } = {},
): LibsqlDatabase {
  if (opts.probed) return openPlain(path);
  const probe = probeFile(path);
  if (!isDatabaseFile(probe)) throw notADatabase(path, probe);
  if (hotJournal(path)) throw hotJournalError(path);
  let db: LibsqlDatabase | undefined;
  try {
    db = new Database(fileUri(path, "mode=ro"));
    db.defaultSafeIntegers(true);
    db.exec(`PRAGMA busy_timeout=${BUSY_TIMEOUT_MS}`);
    db.exec("SELECT count(*) FROM sqlite_master");
  } catch (e) {
    try {
      db?.close();
    } catch {
      /* a half-open handle */
    }
    if (probe.state === "ok" && probe.header.walMode && readOnlyWal(e) && opts.copy !== false) return openSnapshot(path);
    throw wrapOpenError(path, e);
  }
  return db;
}

function openPlain(path: string): LibsqlDatabase {
  let db: LibsqlDatabase | undefined;
  try {
    db = new Database(fileUri(path, "mode=ro"));
    db.defaultSafeIntegers(true);
    db.exec(`PRAGMA busy_timeout=${BUSY_TIMEOUT_MS}`);
    return db;
  } catch (e) {
    db?.close();
    throw wrapOpenError(path, e);
  }
}

/** An application's short transaction makes our readers and writers wait (this long, ms) instead of failing at once with "database is locked". */
const BUSY_TIMEOUT_MS = 5000;

/** SQLite could not set up a WAL reader's -shm/-wal (a folder this user cannot write). */
function readOnlyWal(e: unknown): boolean {
  const code = String((e as { code?: string }).code ?? "") + String((e as { rawCode?: number }).rawCode ?? "");
  const msg = e instanceof Error ? e.message : String(e);
  return /READONLY|CANTOPEN|1544|unable to open|readonly/i.test(code + " " + msg);
}

/** A private, consistent copy of a WAL database and its -wal, for a folder this user cannot write (see openReadOnly). */
const liveSnapshots = new Set<string>();
let exitHook = false;

/** Snapshot folders of processes that are gone (killed before they could remove theirs). */
function sweepSnapshots(): void {
  try {
    for (const f of readdirSync(tmpdir())) {
      const m = /^vox-cutover-snapshot-(\d+)-/.exec(f);
      if (!m || Number(m[1]) === process.pid) continue;
      try {
        process.kill(Number(m[1]), 0);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ESRCH") rmSync(join(tmpdir(), f), { recursive: true, force: true });
      }
    }
  } catch {
    /* best effort */
  }
}

function openSnapshot(path: string): LibsqlDatabase {
  sweepSnapshots();
  if (!exitHook) {
    exitHook = true;
    // A handle nobody closed (a worker ended, an early exit): its copy goes with the process.
    process.on("exit", () => {
      for (const d of liveSnapshots) rmSync(d, { recursive: true, force: true });
    });
  }
  const dir = mkdtempSync(join(tmpdir(), `vox-cutover-snapshot-${process.pid}-`));
  liveSnapshots.add(dir);
  const copy = join(dir, basename(path));
  let db: LibsqlDatabase | undefined;
  try {
    // The copy is kept only when nothing touched the file while it was made (untouchedSince: its content
    // version, and its ctime, which a write with its size and times put back moves).
    for (let attempt = 1; ; attempt++) {
      const before = contentState(path);
      if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`, fsc.COPYFILE_FICLONE);
      else rmSync(`${copy}-wal`, { force: true });
      copyRaw(path, copy); // never closed under a connection of this process to it (db/raw-fd.ts)
      if (untouchedSince(before, contentState(path))) break;
      if (attempt >= 5)
        throw failed({
          what: `${path} kept changing while it was copied for reading (its folder is not writable, so SQLite's shared read lock cannot be used).`,
          untouched: "Nothing was changed.",
          next: "Stop the application writing to it, or run as a user who may write the folder, then run the command again.",
        });
      sleepSync(50 * attempt);
    }
    db = new Database(copy);
    db.defaultSafeIntegers(true);
    db.exec("PRAGMA query_only=1");
    db.prepare("SELECT count(*) FROM sqlite_master").raw(true).get();
  } catch (e) {
    try {
      db?.close();
    } catch {
      /* closing a half-open copy */
    }
    rmSync(dir, { recursive: true, force: true });
    liveSnapshots.delete(dir);
    throw e instanceof VoxError ? e : wrapOpenError(path, e);
  }
  const close = db.close.bind(db);
  (db as { close: () => void }).close = () => {
    try {
      close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      liveSnapshots.delete(dir);
    }
  };
  return db;
}

/** Opens (creating if needed) a database for writing; the caller owns the decision to write. `busyMs`: how long a lock makes it wait. */
export function openReadWrite(path: string, busyMs = BUSY_TIMEOUT_MS): LibsqlDatabase {
  const probe = probeFile(path);
  if (probe.state !== "missing" && !isDatabaseFile(probe)) throw notADatabase(path, probe);
  if (hotJournal(path)) throw hotJournalError(path); // opening would roll it back: a write before any backup
  let db: LibsqlDatabase | undefined;
  try {
    db = new Database(path);
    db.defaultSafeIntegers(true);
    db.exec(`PRAGMA busy_timeout=${busyMs}`);
    // Reads the schema (a file that is no database fails here). By exec, not a prepared statement: libsql's
    // close() ends the SQLite connection only once no statement of it is left (a kept one waits for the GC).
    db.exec("SELECT count(*) FROM sqlite_master");
  } catch (e) {
    db?.close();
    throw wrapOpenError(path, e);
  }
  return db;
}

/**
 * All rows of a query as plain objects (no driver metadata), integers as BigInt. For catalog and
 * bookkeeping queries: the driver cuts TEXT at a NUL and aborts on TEXT that is not UTF-8, so table
 * data is read with backup/row-lines.ts (readRows) and row-source.ts (rowStatement/iterateRows), which reads TEXT as exact bytes.
 */
/** A database's text encoding (`PRAGMA encoding`). */
export function textEncoding(db: LibsqlDatabase): TextEncoding {
  const e = String(allRows(db, "PRAGMA encoding")[0]?.encoding);
  return e === "UTF-16le" || e === "UTF-16be" ? e : "UTF-8";
}

export function allRows(db: LibsqlDatabase, sql: string, args: SqlValue[] = []): Row[] {
  const st = db.prepare(sql);
  st.raw(true);
  const cols = st.columns().map((c: { name: string }) => c.name);
  const out: Row[] = [];
  // One array argument: the driver takes a lone object (a blob, a null) for named parameters.
  for (const r of st.all(bindable(args)) as unknown[][]) {
    const row: Row = {};
    cols.forEach((c: string, i: number) => (row[c] = normalizeValue(r[i])));
    out.push(row);
  }
  return out;
}

/** Runs `fn` in one BEGIN IMMEDIATE transaction on an open database: committed, or rolled back and rethrown. */
export function inWriteTransaction<T>(db: LibsqlDatabase, fn: (db: LibsqlDatabase) => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const r = fn(db);
    db.exec("COMMIT");
    return r;
  } catch (e) {
    if (db.inTransaction) db.exec("ROLLBACK");
    throw e;
  }
}

/** Opens `path` for writing and runs `fn` in one BEGIN IMMEDIATE transaction: committed, or rolled back and rethrown. */
export function withWriteTransaction<T>(path: string, fn: (db: LibsqlDatabase) => T): T {
  const db = openReadWrite(path);
  try {
    return inWriteTransaction(db, fn);
  } finally {
    db.close();
  }
}

/** The bytes of a database with its write-ahead log (0 for a file that is not there): what a worker's start is weighed against. */
export function bytesWithWal(path: string): number {
  let n = 0;
  for (const p of [path, `${path}-wal`]) {
    try {
      n += statSync(p).size;
    } catch {
      /* not there */
    }
  }
  return n;
}

/**
 * Whether connections in two threads of this process may read the file at the same time
 * (verify-backup --db's hash worker, Stage 0's integrity_check in parts): a rollback-journal file only. libsql
 * connections in two threads do not share SQLite's per-process lock bookkeeping (POSIX locks
 * belong to the process, so one connection can drop the other's); with a WAL file and another
 * process committing and checkpointing, a read on the main thread was seen torn ("malformed")
 * while `PRAGMA data_version` had not changed (2026-12-03), so that bracket proves nothing there.
 * In rollback-journal mode a writer past a dropped SHARED lock changes what a reader sees by
 * committing, which changes data_version (both users check it), or by spilling its cache into the
 * file and then rolling back, which does not (helper-82's review, session 21: a read transaction saw
 * 13,649 uncommitted rows so, data_version unchanged). So the bracket holds while nothing drops this
 * process's lock mid-read; the same review found a worker's transaction ending or its connection
 * closing let no writer in (the lock bookkeeping shared), only a descriptor of the file closed
 * outside SQLite (db/raw-fd.ts parks those). The one rule for both (an unreadable header: one thread).
 */
export function twoThreadReads(probe: ProbeResult): boolean {
  return probe.state === "ok" && !probe.header.walMode;
}

/** The file a connection reads (its main database, as SQLite names it): a private copy has another name. */
export function mainFile(db: LibsqlDatabase): string {
  const row = allRows(db, "PRAGMA database_list").find((r) => r.name === "main");
  return String(row?.file ?? "");
}

/** `PRAGMA data_version`: changes between two reads on one connection when any other connection (any process) committed. */
export function dataVersion(db: LibsqlDatabase): bigint {
  return allRows(db, "PRAGMA data_version")[0]!.data_version as bigint;
}

/** Whether the connection's main file is in WAL mode now (`PRAGMA journal_mode`). */
export function inWalMode(db: LibsqlDatabase): boolean {
  return String(allRows(db, "PRAGMA journal_mode")[0]?.journal_mode) === "wal";
}
