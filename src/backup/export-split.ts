/**
 * The export on two cores: the main thread streams the tables before a split point (`splitPoint`:
 * about half the values) to the writer; a reader worker (reader-worker.ts) reads from the split point
 * forward into a spill file, and the main thread, once its part is written, takes tables from the
 * last one down into its own spill file; each table is claimed once through a shared flag. The writer
 * copies each spilled table in as soon as its turn comes — the worker's while the main thread still
 * reads the last ones — so what is left to copy after the last row is the main thread's last tables
 * and the worker's last one (export.ts).
 *
 * One state, proven. A libsql connection in a worker thread and one in the main thread do not share
 * SQLite's per-process lock bookkeeping: POSIX locks belong to the process, so one connection
 * ending its transaction or closing can drop the other's locks, and a commit and checkpoint by
 * another process then tears the other's reads (seen: "database disk image is malformed" on the
 * main thread while the worker read, with a Python writer committing — test/backup/export-split).
 * So `PRAGMA data_version` is read on a connection of its own (opened before either read
 * transaction, never in one; it changes when any other connection commits) before the main
 * thread's snapshot opens and again after the main thread's last row; the worker keeps its
 * connection open until then. Equal values: nothing was committed while either read, both read the
 * one state. Different values, or a read that failed meanwhile: the whole export is made again by
 * the main thread alone (exportBackup), with the worker's connection closed first.
 *
 * Rollback-journal files only: a WAL file is read on one thread (twoThreadReads in db/local.ts
 * says why; export-workers.ts twoReadersFor asks it).
 */
import { dirname } from "node:path";
import type { Worker } from "node:worker_threads";
import { bytesWithWal, dataVersion, mainFile, openReadOnly, type LibsqlDatabase } from "../db/local.js";
import type { BackupTable } from "./format.js";
import { spillFits } from "../safety/disk.js";
import type { Spilled } from "./spill-out.js";
import { exportWorker, splitExportBytes, twoReadersFor } from "./export-workers.js";
import type { ProbeResult } from "../db/probe.js";

/** The reader worker's setup: its first message (it may be started before the export knows it: export-workers.ts). */
export interface ReaderSetup {
  dbPath: string;
  spillPath: string;
  tables: readonly BackupTable[];
  /** The first table the worker reads (the split point); it goes forward from there. */
  start: number;
  /** Int32 per table: 0 free, 1 the main thread's, 2 the worker's (READER_CLAIM). */
  claims: SharedArrayBuffer;
  progress: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

/** A table's claim flag: 0 free, 1 the main thread's, 2 the reader worker's. */
export const READER_CLAIM = 2;
const MAIN_CLAIM = 1;

/**
 * Where the worker starts: the first table after those holding about half of the values (rows ×
 * columns, the measure live-hash.ts claims by), at least 1 and at most the last table. Only a guess
 * of where the work halves: the two readers still meet wherever they meet.
 */
export function splitPoint(tables: readonly BackupTable[]): number {
  const values = tables.map((t) => Number(t.rows) * t.columns.length);
  const half = values.reduce((a, b) => a + b, 0) / 2;
  let s = 0;
  for (let sum = 0; s < tables.length - 1 && sum < half; s++) sum += values[s]!;
  return Math.max(1, Math.min(s, tables.length - 1));
}

export type ReaderMessage =
  /** The worker's connection is open (the file it reads). */
  | { t: "tables"; file: string }
  | ({ t: "table"; i: number } & Spilled)
  | { t: "done"; ok: true }
  | { t: "done"; ok: false; message: string }
  /** The worker's connection is closed. */
  | { t: "closed" };

export class ReaderSplit {
  private worker: Worker | null = null;
  private claims = new Int32Array(new SharedArrayBuffer(4));
  /** The first table the worker reads (the tables before it are the main thread's). */
  splitAt = 0;
  /** Called when the worker has finished a table (the export hands it to the writer when its turn has come). */
  onTable: () => void = () => {};
  /** The tables the worker has read, each with where it put it (only once its connection is known to read the main thread's file). */
  private readonly done = new Map<number, Spilled>();
  private fileOk = false;
  private readonly progress = new BigInt64Array(new SharedArrayBuffer(8));
  /** control[0] = 1: the main thread is done reading, the worker may close its connection. */
  private readonly control = new Int32Array(new SharedArrayBuffer(4));
  private finished: Promise<void> = Promise.resolve();
  private closed: Promise<void> = Promise.resolve();
  /** The worker was started ahead (export-workers.ts). */
  startedAhead = false;
  private constructor(
    private readonly dbPath: string,
    private readonly spillPath: string,
    /** The connection data_version is read on (never in a transaction). */
    private probe: LibsqlDatabase | null,
    private readonly before: bigint,
  ) {}

  /**
   * Opens the data_version connection — before the main thread's read transaction begins (opening
   * a file while it is open would drop its locks). Null: one thread reads (a small file, no room for
   * the spill beside the backup (spillFits), or the main connection reads a private copy, which a
   * second connection would not see).
   */
  static prepare(dbPath: string, spillPath: string, mainDb: LibsqlDatabase, probed: ProbeResult, above = splitExportBytes()): ReaderSplit | null {
    const bytes = bytesWithWal(dbPath);
    if (!twoReadersFor(bytes, probed, above) || !spillFits(dirname(spillPath), bytes)) return null;
    let probe: LibsqlDatabase | null = null;
    try {
      probe = openReadOnly(dbPath, { copy: false });
      if (mainFile(probe) !== mainFile(mainDb)) throw new Error("not the same file");
      return new ReaderSplit(dbPath, spillPath, probe, dataVersion(probe));
    } catch {
      probe?.close();
      return null;
    }
  }

  /** Starts the worker on the main thread's list of tables (its snapshot is open). */
  start(tables: readonly BackupTable[]): void {
    this.claims = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, tables.length)));
    this.splitAt = splitPoint(tables);
    const started = exportWorker("reader", this.dbPath);
    this.startedAhead = started.ahead;
    const w = started.worker;
    const setup: ReaderSetup = {
      dbPath: this.dbPath,
      spillPath: this.spillPath,
      tables,
      start: this.splitAt,
      claims: this.claims.buffer as SharedArrayBuffer,
      progress: this.progress.buffer as SharedArrayBuffer,
      control: this.control.buffer as SharedArrayBuffer,
    };
    w.postMessage(setup);
    this.worker = w;
    let closed: () => void = () => {};
    this.closed = new Promise((resolve) => (closed = resolve));
    const spilled = this.done;
    this.finished = new Promise((resolve) => {
      const failed = () => {
        resolve();
        closed();
      };
      w.on("message", (m: ReaderMessage) => {
        if (m.t === "tables") {
          // The worker's connection must read the main thread's file (not a copy of it): else none of its tables is used.
          this.fileOk = this.probe !== null && m.file === mainFile(this.probe);
          return;
        }
        if (m.t === "table") {
          if (!this.fileOk) return;
          spilled.set(m.i, { offset: m.offset, length: m.length, rows: m.rows, whole: m.whole, sha256: m.sha256 });
          return this.onTable();
        }
        if (m.t === "closed") return closed();
        resolve(); // done (a failure: the tables it did not finish are the main thread's)
      });
      w.once("error", failed);
      w.once("exit", failed);
    });
  }

  /** Claims table i (from the last one down) for the main thread: false when the worker has it (then every earlier one is the worker's too). */
  claim(i: number): boolean {
    return Atomics.compareExchange(this.claims, i, 0, MAIN_CLAIM) === 0;
  }

  /** Where the worker put table i, once it has read all of it (undefined: not (yet) read by the worker). */
  table(i: number): Spilled | undefined {
    return this.done.get(i);
  }

  /** Rows (sqlite_sequence's not counted) the worker has read so far. */
  rowsRead(): number {
    return Number(Atomics.load(this.progress, 0));
  }

  /**
   * Waits for the worker to have read its share (`tick` every 250 ms: progress, and signal handlers
   * get their turn); then `table(i)` has every table it read. A worker that failed part way leaves
   * the tables it did not finish to the main thread.
   */
  async settled(tick: () => void): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    // A tick that throws (the run was cancelled) ends the wait with its error.
    const ticking = new Promise<never>((_, reject) => {
      timer = setInterval(() => {
        try {
          tick();
        } catch (e) {
          reject(e);
        }
      }, 250);
    });
    ticking.catch(() => {});
    try {
      await Promise.race([this.finished, ticking]);
    } finally {
      clearInterval(timer);
    }
  }

  /** After the main thread's last row: true when nothing was committed since before either snapshot opened. */
  unchanged(): boolean {
    return this.probe !== null && dataVersion(this.probe) === this.before;
  }

  /** Lets the worker close its connection (after the main thread's transaction ended) and waits for it, then ends the worker. */
  async close(): Promise<void> {
    this.probe?.close();
    this.probe = null;
    if (!this.worker) return;
    Atomics.store(this.control, 0, 1);
    Atomics.notify(this.control, 0);
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 10_000).unref())]);
    await this.worker.terminate();
    this.worker = null;
  }
}
