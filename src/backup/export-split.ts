/**
 * The export on two cores: the main thread reads tables from the first one up, a reader worker
 * (reader-worker.ts) from the last one down, each table claimed once through a shared flag; the
 * worker's row lines go to a spill file that the writer copies into the backup in table order.
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
 * says why; export.ts asks it).
 */
import { availableParallelism } from "node:os";
import { dirname } from "node:path";
import type { Worker } from "node:worker_threads";
import { bytesWithWal, dataVersion, mainFile, openReadOnly, type LibsqlDatabase } from "../db/local.js";
import type { BackupTable } from "./format.js";
import type { ReadWhole } from "./row-source.js";
import { spillFits } from "../safety/disk.js";
import { exportWorker, splitExportBytes } from "./export-workers.js";

/** The reader worker's setup: its first message (it may be started before the export knows it: export-workers.ts). */
export interface ReaderSetup {
  dbPath: string;
  spillPath: string;
  tables: readonly BackupTable[];
  claims: SharedArrayBuffer;
  progress: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

/** A table's claim flag: 0 free, 1 the main thread's, 2 the reader worker's. */
export const READER_CLAIM = 2;
const MAIN_CLAIM = 1;

export type ReaderMessage =
  /** The worker's connection is open (the file it reads). */
  | { t: "tables"; file: string }
  | { t: "table"; i: number; offset: number; length: number; rows: number; whole: ReadWhole | null; sha256: string }
  | { t: "done"; ok: true }
  | { t: "done"; ok: false; message: string }
  /** The worker's connection is closed. */
  | { t: "closed" };

/** Where the worker put a table's row lines in the spill file. */
export interface Spilled {
  offset: number;
  length: number;
  rows: number;
  /** Big values the worker read whole (a WITHOUT ROWID table its pages could not serve), and why. */
  whole: ReadWhole | null;
  /** The sha256 of the range as the worker wrote it (the writer's hash of its copy must equal it). */
  sha256: string;
}

export class ReaderSplit {
  private worker: Worker | null = null;
  private claims = new Int32Array(new SharedArrayBuffer(4));
  private readonly progress = new BigInt64Array(new SharedArrayBuffer(8));
  /** control[0] = 1: the main thread is done reading, the worker may close its connection. */
  private readonly control = new Int32Array(new SharedArrayBuffer(4));
  private file: Promise<string | null> = Promise.resolve(null);
  private finished: Promise<Map<number, Spilled> | null> = Promise.resolve(null);
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
  static prepare(dbPath: string, spillPath: string, mainDb: LibsqlDatabase, above = splitExportBytes()): ReaderSplit | null {
    const bytes = bytesWithWal(dbPath);
    if (availableParallelism() < 2 || bytes < above || !spillFits(dirname(spillPath), bytes)) return null;
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
    const started = exportWorker("reader", this.dbPath);
    this.startedAhead = started.ahead;
    const w = started.worker;
    const setup: ReaderSetup = {
      dbPath: this.dbPath,
      spillPath: this.spillPath,
      tables,
      claims: this.claims.buffer as SharedArrayBuffer,
      progress: this.progress.buffer as SharedArrayBuffer,
      control: this.control.buffer as SharedArrayBuffer,
    };
    w.postMessage(setup);
    this.worker = w;
    let file: (f: string | null) => void = () => {};
    this.file = new Promise((resolve) => (file = resolve));
    let closed: () => void = () => {};
    this.closed = new Promise((resolve) => (closed = resolve));
    const spilled = new Map<number, Spilled>();
    this.finished = new Promise((resolve) => {
      const failed = () => {
        file(null);
        resolve(null);
        closed();
      };
      w.on("message", (m: ReaderMessage) => {
        if (m.t === "tables") return file(m.file);
        if (m.t === "table") return void spilled.set(m.i, { offset: m.offset, length: m.length, rows: m.rows, whole: m.whole, sha256: m.sha256 });
        if (m.t === "closed") return closed();
        file(null);
        resolve(m.ok ? spilled : null);
      });
      w.once("error", failed);
      w.once("exit", failed);
    });
  }

  /** Claims table i for the main thread: false when the worker has it (then every later one is the worker's too). */
  claim(i: number): boolean {
    return Atomics.compareExchange(this.claims, i, 0, MAIN_CLAIM) === 0;
  }

  /** Rows (sqlite_sequence's not counted) the worker has read so far. */
  rowsRead(): number {
    return Number(Atomics.load(this.progress, 0));
  }

  /**
   * Waits for the worker to have read its share (`tick` every 250 ms: progress, and signal handlers
   * get their turn). Where it put each table it read; null: it failed (its tables are read here).
   */
  async spilled(tick: () => void): Promise<Map<number, Spilled> | null> {
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
      const spilled = await Promise.race([this.finished, ticking]);
      const file = await this.file;
      // The worker's connection must have read the main thread's file (not a copy of it).
      return spilled && file !== null && this.probe && file === mainFile(this.probe) ? spilled : null;
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
