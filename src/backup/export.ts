import { closeSync, existsSync, linkSync, openSync, lstatSync, realpathSync, renameSync, rmSync, statSync, accessSync, constants } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { failed, refused, usage, VoxError } from "../errors.js";
import { bytesWithWal, openReadOnly } from "../db/local.js";
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
import { ReaderSplit } from "./export-split.js";
import { SpillOut, spillTable, type Spilled } from "./spill-out.js";
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
  /** A database (+ WAL) of at least this many bytes is read on two cores (default 32 MB or VOX_CUTOVER_SPLIT_BYTES; tests: 0). */
  splitAbove?: number;
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
  /** Tables read by the second reader (a worker thread) and copied in: 0 when one thread read them all. */
  readerTables: number;
  /** Whether the writer worker wrote the file (false: the exporting thread did, a small database). */
  writerWorker: boolean;
  /** The workers of this export that were started ahead of it (startExportWorkers, export-workers.ts). */
  startedAhead: ("reader" | "writer")[];
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
 * Streams every table of the database (read-only, no migration, one read transaction) to a backup
 * file: written under a temporary name, fsynced, then renamed into place.
 */
export async function exportBackup(opts: ExportOptions): Promise<ExportResult> {
  try {
    const r = await exportOnce(opts, true);
    // Something was committed while two threads read: made again by one thread, in one snapshot.
    return r ?? (await exportOnce(opts, false))!;
  } finally {
    await endStartedAhead(); // workers started ahead that this export did not need
  }
}

/** One export; null when it read on two cores and something was committed meanwhile (nothing is left of it). */
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

async function exportOnce(opts: ExportOptions, twoCores: boolean): Promise<ExportResult | null> {
  const out = checkBackupTarget(opts.dbPath, opts.outPath, opts.force);
  const tmp = join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
  rmSync(tmp, { force: true });
  // The header is looked at before the snapshot opens: opening and closing the file while the read
  // transaction is open would drop SQLite's SHARED lock (POSIX locks belong to the process, per
  // inode), and in rollback-journal mode a writer could then commit in the middle of the export.
  const probe = probeFile(opts.dbPath);
  const db = openReadOnly(opts.dbPath);
  const spillPath = join(dirname(out), `.${basename(out)}.spill.partial-${process.pid}`);
  // This thread's own spill file (tables it read before their turn came).
  const mySpillPath = join(dirname(out), `.${basename(out)}.spill-main.partial-${process.pid}`);
  let mySpill: SpillOut | null = null;
  let myFd = -1;
  let sink: WriterSink | undefined;
  let reader: ReaderSplit | null = null;
  let idle: ReaderSplit | null = null;
  try {
    rmSync(spillPath, { force: true });
    rmSync(mySpillPath, { force: true });
    // Before the snapshot opens (it opens a second connection): a large file is read on two cores.
    // When and why: export-workers.ts twoReadersFor.
    if (twoCores) reader = ReaderSplit.prepare(opts.dbPath, spillPath, db, probe, opts.splitAbove);
    db.exec("BEGIN"); // one read snapshot for counts and rows
    const tables = listBackupTables(db);
    // Two readers need two tables (a file of one table, or none, is read here alone); the unused
    // split's connection is closed with the others, after this thread's.
    if (reader && tables.length < 2) [idle, reader] = [reader, null];
    if (!reader) void endStartedAhead("reader");
    reader?.start(tables); // its start (loading modules) overlaps this thread's header work
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
    // Reading and encoding here (and, on a large file, in a reader worker); hashing and writing in
    // the writer worker, or here for a small database.
    sink = new WriterSink(tmp, backupMode(st.mode), bytesWithWal(opts.dbPath) < (opts.writerWorkerAbove ?? writerWorkerAbove()), opts.dbPath);
    await sink.online();
    const to = sink;
    to.lines(JSON.stringify(header));
    let rowsDone = 0;
    let tableRowsDone = 0;
    const readWhole: ExportResult["readWhole"] = [];
    const wholeIn = (table: string) => (w: ReadWhole | null) => {
      if (w?.values) readWhole.push({ table, values: w.values, reason: w.reason });
    };
    // The reader worker's rows count in the progress as it reads them (once it is done: those of the tables it finished).
    let theirs = () => reader?.rowsRead() ?? 0;
    const progress = (table: string, tableRows: number, tableDone: number, mine: number) =>
      opts.onProgress?.({ table, tableRows, tableDone, rowsDone: mine + theirs(), totalRows });
    /** Reads and writes one table on this thread. */
    const stream = async (t: BackupTable) => {
      const counted = t.name !== "sqlite_sequence";
      to.lines(JSON.stringify({ k: "table", name: t.name, columns: t.columns }));
      let n = 0;
      let tick = 0x400;
      const tableRows = Number(t.rows);
      for (const row of readRows(db, t, wholeIn(t.name))) {
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
    };
    // Two readers (export-split.ts): this thread streams the tables before the split point to the
    // writer, the worker reads from there forward into its spill file, and this thread then takes
    // tables from the last one down into its own. `advance` hands the writer each spilled table as
    // soon as its turn comes (the worker's while this thread still reads), so the copying is done
    // beside the reading, not after it.
    const n = tables.length;
    let readerTables = 0;
    const mine = new Map<number, Spilled>();
    const spliced: [number, Spilled][] = [];
    let front = 0; // the next table to hand to the writer (every earlier one has been)
    const advance = () => {
      for (; front < n; front++) {
        const own = mine.get(front);
        const s = own ?? reader?.table(front);
        if (!s) return;
        const t = tables[front]!;
        to.splice(own ? mySpillPath : spillPath, t.name, s, JSON.stringify({ k: "table", name: t.name, columns: t.columns }));
        wholeIn(t.name)(s.whole);
        if (!own) readerTables++;
        rowsDone += s.rows;
        spliced.push([front, s]);
      }
    };
    /** Reads one table on this thread into its spill file (one of the last tables: its turn comes after the worker's). */
    const spill = async (i: number) => {
      if (!mySpill) mySpill = new SpillOut((myFd = openSync(mySpillPath, "wx", 0o600)));
      const t = tables[i]!;
      const counted = t.name !== "sqlite_sequence";
      const reading = spillTable(db, t, mySpill);
      for (let step = reading.next(); ; step = reading.next()) {
        const rows = step.done ? step.value.rows : step.value;
        if (counted) progress(t.name, Number(t.rows), rows, tableRowsDone + rows);
        if (step.done) {
          mine.set(i, step.value);
          if (counted) tableRowsDone += rows;
        }
        // A turn of the event loop: signals, and the worker's messages (its finished tables are handed over as their turn comes).
        if (opts.yieldEvery !== false) await new Promise((r) => setImmediate(r));
        if (step.done) break;
      }
    };
    // While this thread streams table `front`, no spilled table is handed over (advance stops there).
    if (reader) reader.onTable = advance;
    for (const split = reader ? reader.splitAt : n; front < split; front++) await stream(tables[front]!);
    advance();
    if (reader) for (let j = n - 1; j >= front && reader.claim(j); j--) await spill(j);
    if (reader) {
      const last = tables[n - 1]!;
      await reader.settled(() => progress(last.name, Number(last.rows), 0, tableRowsDone));
      reader.onTable = () => {};
      let theirsDone = 0;
      for (let i = 0; i < n; i++) if (tables[i]!.name !== "sqlite_sequence") theirsDone += reader.table(i)?.rows ?? 0;
      theirs = () => theirsDone;
      // A worker that failed part way (e.g. no room for its spill file) leaves the tables it did not finish to this thread.
      for (advance(); front < n; advance()) {
        await stream(tables[front]!);
        front++;
      }
      // Every row is read: unless nothing was committed meanwhile, none of it is used.
      if (!reader.unchanged()) return null;
      for (const [i, sp] of spliced) assertAllRead(tables[i]!, sp.rows, out);
    }
    db.exec("COMMIT");
    sink.finish(rowsDone);
    const r = await sink.done;
    if (!r.ok) throw WriterSink.failure(r.message ?? "the writer gave no reason", out);
    sink.assertWritten(r.summary!, out);
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
      readerTables,
      writerWorker: sink.inWorker,
      startedAhead: [...(reader?.startedAhead ? ["reader" as const] : []), ...(sink.startedAhead ? ["writer" as const] : [])],
      readWhole,
    };
  } catch (e) {
    // A read torn by a commit while two threads read (SQLite: "malformed"): made again by one thread.
    if (reader && !(e instanceof VoxError) && !reader.unchanged()) return null;
    throw sink ? await sink.cause(e, out) : e;
  } finally {
    if (reader) reader.onTable = () => {}; // nothing more is handed to the writer
    if (sink) await sink.close();
    if (db.inTransaction) db.exec("ROLLBACK");
    db.close();
    await reader?.close(); // the worker's connection closes after this thread's
    await idle?.close();
    if (myFd >= 0) closeSync(myFd);
    rmSync(tmp, { force: true });
    rmSync(spillPath, { force: true });
    rmSync(mySpillPath, { force: true });
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
