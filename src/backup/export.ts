import { existsSync, linkSync, lstatSync, realpathSync, renameSync, rmSync, statSync, accessSync, constants } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { failed, refused, usage } from "../errors.js";
import { bytesWithWal, openReadOnly } from "../db/local.js";
import { assertKnownCollations } from "../db/collations.js";
import { readFileSettings } from "../db/file-settings.js";
import { probeFile } from "../db/probe.js";
import { DB_SIDE_FILES } from "../db/files.js";
import { fsyncDir } from "../util/fsync.js";
import { toolVersion } from "../util/paths.js";
import { encodeRow, splitSequences, FORMAT_NAME, FORMAT_VERSION, type BackupHeader, type BackupTable } from "./format.js";
import { listObjects } from "../db/objects.js";
import { hasBig, listBackupTables, listRebuiltTables } from "./tables.js";
import type { ReadWhole } from "./row-source.js";
import { LineRun, readRows } from "./row-lines.js";
import type { SqlValue } from "../db/value.js";
import { WriterSink } from "./writer-sink.js";
import { endStartedAhead, writerWorkerAbove } from "./export-workers.js";

export interface ExportProgress {
  table: string;
  tableRows: number;
  tableDone: number;
  rowsDone: number;
  totalRows: number;
}

export interface ExportOptions {
  dbPath: string;
  outPath: string;
  force?: boolean;
  chain: string;
  maxVersion: number | string | null;
  baseline: { version: number; digest: string };
  onProgress?: (p: ExportProgress) => void;
  /** A database (+ WAL) below this many bytes has its backup written by this thread (default 4 MB or VOX_CUTOVER_WRITER_WORKER_BYTES; 0: always the writer worker). */
  writerWorkerAbove?: number;
  /** Give the event loop a turn every 1,024 rows and after every table (default on), so signal handlers run during a long export. */
  yieldEvery?: boolean;
}

interface ExportResult {
  path: string;
  sha256: string;
  bytes: number;
  /** Per table (sqlite_sequence not among them): rows and content hash. */
  tables: { name: string; rows: number; sha256: string }[];
  /** Table rows: every table's rows, sqlite_sequence's not. */
  totalRows: number;
  /** Rows of sqlite_sequence (carried in the file, counted apart). */
  sequences: number;
  /** The content hash of the sqlite_sequence section (null: the database has none). */
  sequencesSha256: string | null;
  header: BackupHeader;
  /** Whether the writer worker wrote the file (false: the exporting thread did, a small database). */
  writerWorker: boolean;
  /** Whether the writer worker was started ahead of the export (startExportWorkers, export-workers.ts). */
  writerStartedAhead: boolean;
  /** WITHOUT ROWID tables whose values above the big-value size were read whole (their pages could not serve them), and why. */
  readWhole: { table: string; values: number; reason: string }[];
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** Refuses an OUT that is the database (or a link to it), in a missing or read-only folder, or existing without --force. */
function checkBackupTarget(dbPath: string, out: string, force = false): string {
  const abs = resolve(out);
  const dir = dirname(abs);
  const untouched = "Nothing was written; the database was not opened.";
  for (const sfx of ["", ...DB_SIDE_FILES]) {
    if (abs === resolve(dbPath) + sfx || (existsSync(abs) && samePath(abs, dbPath + sfx))) {
      throw refused({
        what: `The backup path ${abs} is the database${sfx ? ` ${sfx} file` : ""} itself (or a link to it).`,
        untouched,
        next: "Write the backup to another file, e.g. in the work dir.",
      });
    }
  }
  if (existsSync(abs) && lstatSync(abs).isSymbolicLink() && existsSync(dbPath) && samePath(abs, dbPath)) {
    throw refused({ what: `The backup path ${abs} is a link to the database.`, untouched, next: "Choose another path." });
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw usage({ what: `The backup folder ${dir} does not exist.`, untouched, next: `Create it (mkdir -p '${dir}') or choose another path.` });
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw refused({ what: `The backup folder ${dir} is not writable.`, untouched, next: "Choose a folder you can write to." });
  }
  if (existsSync(abs)) {
    if (statSync(abs).isDirectory())
      throw usage({ what: `The backup path ${abs} is a directory.`, untouched, next: "Give a file name, e.g. backup.jsonl inside it." });
    if (!force) throw refused({ what: `The backup file ${abs} already exists.`, untouched, next: "Choose another path, or pass --force to replace it." });
  }
  return abs;
}

/** A backup's permission bits: the database's read/write bits, so it is never more readable than the database. */
function backupMode(dbMode: number): number {
  return dbMode & 0o666;
}

/**
 * Every row SQLite counted in the snapshot was read (the reader hands rows in key order, page by page
 * or in chunks: a row skipped or read twice must never become a short backup). A damaged index can
 * make `count(*)` (which may read an index) disagree too: the message names both causes.
 */
function assertAllRead(t: BackupTable, read: number, out: string): void {
  if (read === Number(t.rows)) return;
  throw failed({
    what: `The export read ${read} rows of table ${t.name} where SQLite's count(*) gives ${String(t.rows)} in the same snapshot.`,
    untouched: `The database was only read; ${out} was not written.`,
    next: "Run PRAGMA integrity_check on the database (a damaged index gives count(*) a wrong answer: repair it first); if it says ok, this is a fault of vox-cutover's reader — report it with the table's definition (sqlite3 .schema).",
  });
}

/**
 * Streams every table of the database (read-only, no migration, one read transaction) to a backup
 * file: written under a temporary name, fsynced, then renamed into place. This thread reads and
 * encodes; the writer (a worker, or this thread for a small database) hashes and writes beside it.
 * One reader: two threads of this process reading SQLite take turns at its allocator's lock (every
 * sqlite3_malloc takes one process-wide mutex), so a second reader bought no time and cost a quarter
 * more CPU, a spill file and ~35 MB (docs/benchmark.md, session 23).
 */
export async function exportBackup(opts: ExportOptions): Promise<ExportResult> {
  try {
    return await exportTo(opts);
  } finally {
    await endStartedAhead(); // a writer started ahead that this export did not need
  }
}

/** The export itself (exportBackup ends a writer started ahead that it did not take). */
async function exportTo(opts: ExportOptions): Promise<ExportResult> {
  const out = checkBackupTarget(opts.dbPath, opts.outPath, opts.force);
  const tmp = join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
  rmSync(tmp, { force: true });
  // The header is looked at before the snapshot opens: opening and closing the file while the read
  // transaction is open would drop SQLite's SHARED lock (POSIX locks belong to the process, per
  // inode), and in rollback-journal mode a writer could then commit in the middle of the export.
  const probe = probeFile(opts.dbPath);
  const db = openReadOnly(opts.dbPath);
  let sink: WriterSink | undefined;
  try {
    db.exec("BEGIN"); // one read snapshot for counts and rows
    assertKnownCollations(db, opts.dbPath); // before any row is read, in the rows' snapshot (db/collations.ts)
    const tables = listBackupTables(db);
    const rebuilt = listRebuiltTables(db);
    // Progress counts table rows the way every report does: sqlite_sequence's entries apart (format.ts splitSequences).
    const totalRows = tables.reduce((n, t) => n + (t.name === "sqlite_sequence" ? 0 : Number(t.rows)), 0);
    const st = statSync(opts.dbPath);
    const settings = readFileSettings(db);
    // A WAL file read through a snapshot or immutably reports its connection's mode: the header's byte says the file's.
    if (probe.state === "ok" && probe.header.walMode) settings.journalMode = "wal";
    const header: BackupHeader = {
      k: "header",
      format: FORMAT_NAME,
      version: FORMAT_VERSION,
      tool: `vox-cutover ${toolVersion()}`,
      createdAt: new Date().toISOString(),
      source: {
        path: resolve(opts.dbPath),
        sizeBytes: st.size,
        walBytes: existsSync(`${opts.dbPath}-wal`) ? statSync(`${opts.dbPath}-wal`).size : null,
        changeCounter: null,
      },
      chain: opts.chain,
      maxVersion: opts.maxVersion,
      baseline: opts.baseline,
      tables,
      ...(rebuilt.length ? { rebuilt } : {}),
      settings,
      objects: listObjects(db),
    };
    // Reading and encoding here; hashing and writing in the writer worker, or here for a small database.
    sink = new WriterSink(tmp, backupMode(st.mode), bytesWithWal(opts.dbPath) < (opts.writerWorkerAbove ?? writerWorkerAbove()), opts.dbPath);
    await sink.online();
    const to = sink;
    to.lines(JSON.stringify(header));
    let rowsDone = 0;
    let tableRowsDone = 0;
    const readWhole: ExportResult["readWhole"] = [];
    const progress = (table: string, tableRows: number, tableDone: number, done: number) =>
      opts.onProgress?.({ table, tableRows, tableDone, rowsDone: done, totalRows });
    for (const t of tables) {
      const counted = t.name !== "sqlite_sequence";
      to.lines(JSON.stringify({ k: "table", name: t.name, columns: t.columns }));
      let n = 0;
      let tick = 0x400;
      const tableRows = Number(t.rows);
      const whole = (w: ReadWhole | null) => {
        if (w?.values) readWhole.push({ table: t.name, values: w.values, reason: w.reason });
      };
      for (const row of readRows(db, t, whole)) {
        if (row instanceof LineRun) {
          to.rowBytes(row.lines);
          n += row.rows;
        } else {
          if (Buffer.isBuffer(row)) to.rowBytes(row);
          else if (hasBig(row)) to.rowParts(row);
          else to.row(encodeRow(row as SqlValue[]));
          n++;
        }
        // Every 1024 rows (a run of lines may pass the mark).
        if (n >= tick) {
          tick = (n & ~0x3ff) + 0x400;
          if (counted) progress(t.name, tableRows, n, tableRowsDone + n);
          // A turn of the event loop: a Ctrl-C (SIGINT/SIGTERM/SIGHUP handler) is seen here, mid-table.
          if (opts.yieldEvery !== false) await new Promise((r) => setImmediate(r));
        }
      }
      assertAllRead(t, n, out);
      to.end(t.name, n);
      rowsDone += n;
      if (opts.yieldEvery !== false) await new Promise((r) => setImmediate(r));
      if (counted) {
        tableRowsDone += n;
        progress(t.name, tableRows, n, tableRowsDone);
      }
    }
    db.exec("COMMIT");
    sink.finish(rowsDone);
    const r = await sink.done;
    if (!r.ok) throw WriterSink.failure(r.message ?? "the writer gave no reason", out);
    sink.assertWritten(r.summary!, r.crc32!, out);
    placeBackup(tmp, out, Boolean(opts.force));
    fsyncDir(dirname(out));
    const split = splitSequences(r.summary!);
    return {
      path: out,
      sha256: r.fileSha256!,
      bytes: r.bytes!,
      tables: split.tables,
      totalRows: split.totalRows,
      sequences: split.sequences,
      sequencesSha256: r.summary!.find((t) => t.name === "sqlite_sequence")?.sha256 ?? null,
      header,
      writerWorker: sink.inWorker,
      writerStartedAhead: sink.startedAhead,
      readWhole,
    };
  } catch (e) {
    throw sink ? await sink.cause(e, out) : e;
  } finally {
    if (sink) await sink.close();
    if (db.inTransaction) db.exec("ROLLBACK");
    db.close();
    rmSync(tmp, { force: true });
  }
}

/**
 * Puts the finished backup at OUT. Without --force it never replaces a file: a hard link fails when
 * OUT appeared meanwhile (another process's file is never clobbered), then the temporary name goes.
 * Where the filesystem has no hard links, the existence check and a rename.
 */
function placeBackup(tmp: string, out: string, force: boolean): void {
  if (force) return renameSync(tmp, out);
  try {
    linkSync(tmp, out);
    rmSync(tmp, { force: true });
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST")
      throw refused({
        what: `The backup file ${out} appeared while the export ran (another process wrote it).`,
        untouched: `The database was only read; ${out} was left as it is and this export's file was removed.`,
        next: "Choose another path, or pass --force to replace it.",
      });
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EMLINK") throw e;
  }
  if (existsSync(out))
    throw refused({
      what: `The backup file ${out} appeared while the export ran (another process wrote it).`,
      untouched: `The database was only read; ${out} was left as it is.`,
      next: "Choose another path, or pass --force to replace it.",
    });
  renameSync(tmp, out);
}
