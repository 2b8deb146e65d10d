/**
 * Every table's row count and content hash of the live database, for the comparison with a backup
 * (compare.ts). A small file is hashed on this thread; a large one by a worker thread (the second
 * core) while this thread reads the backup — and once the backup is read, this thread takes tables
 * the worker has not started, in its own read transaction, when it can prove that transaction sees
 * the worker's snapshot:
 *
 * `PRAGMA data_version` on this connection changes when any other connection (any process) commits
 * between two reads of it. It is read before the worker opens its snapshot and again as the first
 * read of this thread's transaction (which takes the snapshot): equal values mean no commit came in
 * between, so both snapshots are the same state. Different values (an application wrote meanwhile)
 * leave every table to the worker, as before. Tables are claimed through one shared counter,
 * largest first, so each is hashed exactly once.
 *
 * Rollback-journal files only: a WAL file is hashed on this thread, once the backup is read
 * (twoThreadReads in db/local.ts says why). A worker reading it
 * alone is not enough: any connection this thread opens to the file meanwhile (seen in a test)
 * can tear the worker's WAL snapshot.
 */
import { Worker } from "node:worker_threads";
import { failed, fromWire, VoxError, type WireError } from "../errors.js";
import { bytesWithWal, dataVersion, mainFile, openReadOnly, twoThreadReads, type LibsqlDatabase } from "../db/local.js";
import { probeFile } from "../db/probe.js";
import { WORKER_LIMITS, workerExecArgv } from "../util/worker.js";
import type { BackupTable } from "./format.js";
import { hashDatabase, hashTable } from "./tables.js";

export interface LiveTable {
  name: string;
  columns: string[];
  rows: number;
  sha256: string;
}

/** What the worker says: its table list (snapshot open), then its share of the hashes. */
export type HashWorkerMessage =
  | { t: "tables"; tables: BackupTable[]; order: number[]; file: string }
  | { t: "done"; ok: true; hashed: { i: number; rows: number; sha256: string }[] }
  | { t: "done"; ok: false; error: WireError };

/** Below this size (database + WAL) the live database is hashed on this thread: a worker's start costs more than the work. */
const IN_THREAD_HASH_BYTES = 32 << 20;

export function liveHashFailed(dbPath: string, e: unknown): Error {
  if (e instanceof VoxError) return e; // a refusal (a hot journal, a damaged file) stays what it is
  return failed({
    what: `Could not read ${dbPath} to compare it with the backup: ${(e instanceof Error ? e.message : String(e)).replace(/\.$/, "")}.`,
    untouched: "Nothing was written.",
    next: "Check the database (vox-cutover diagnose).",
  });
}

/** The order tables are claimed in: most values first (the last claims are the small ones). */
export function claimOrder(tables: readonly BackupTable[]): number[] {
  return tables.map((_, i) => i).sort((a, b) => Number(tables[b]!.rows) * tables[b]!.columns.length - Number(tables[a]!.rows) * tables[a]!.columns.length);
}

/** The live database's hashes: `help()` lends this thread once it is free; `result` has every table. */
export class LiveHash {
  readonly result: Promise<LiveTable[]>;
  private help_: () => Promise<void> = async () => {};
  private ready_: Promise<unknown> = Promise.resolve();
  /** Tables this thread hashed (tests: the snapshot proof). */
  helped = 0;
  /** Who reads the live database: this thread alone (a small file, a WAL file), or a worker and this thread. */
  readonly readers: "this thread" | "both";
  constructor(
    private readonly dbPath: string,
    /** Below this size (database + WAL) everything is hashed on this thread. */
    inThreadBelow = IN_THREAD_HASH_BYTES,
  ) {
    // A WAL file is never read by two threads at once (twoThreadReads): hashed here, like a small file.
    if (bytesWithWal(dbPath) < inThreadBelow || !twoThreadReads(probeFile(dbPath))) {
      this.readers = "this thread";
      // Hashed when this thread is free (after the backup was read: a bad backup is refused before the database is read).
      this.result = new Promise((resolve, reject) => {
        this.help_ = async () => {
          try {
            resolve(hashDatabase(dbPath));
          } catch (e) {
            reject(liveHashFailed(dbPath, e));
          }
        };
      });
      return;
    }
    this.readers = "both";
    this.result = this.shared();
    this.result.catch(() => {}); // observed by the caller
  }
  /** Resolves once the worker's snapshot is open (tests). */
  async ready(): Promise<void> {
    await this.ready_;
  }
  private stop_: () => Promise<void> = async () => {};
  /** Not needed any more (the backup was refused): the worker is ended, nothing more is read. */
  stop(): Promise<void> {
    return this.stop_();
  }
  /** This thread is free: it hashes what is left (or, for a small file, all of it). */
  help(): Promise<void> {
    return this.help_();
  }
  private shared(): Promise<LiveTable[]> {
    const dbPath = this.dbPath;
    let db: LibsqlDatabase | null = null;
    let before = 0n;
    try {
      db = openReadOnly(dbPath, { copy: false }); // a private copy would not be the worker's file: never made for this
      before = dataVersion(db);
    } catch {
      db?.close();
      db = null; // the worker reads alone (and reports any error)
    }
    const w = startWorker(dbPath);
    this.ready_ = w.tables;
    this.stop_ = async () => {
      db?.close();
      db = null;
      await w.worker.terminate();
    };
    const mine: Hashed[] = [];
    let failure: unknown = null;
    this.help_ = async () => {
      const l = await w.tables;
      if (!db) return;
      try {
        // Both connections must read the file itself (not each a private copy of it).
        if (!l || mainFile(db) !== l.file) return;
        db.exec("BEGIN");
        // The first read of the transaction takes its snapshot: the same state as the worker's when nothing was committed since `before`.
        if (dataVersion(db) !== before) return;
        for (let k = Atomics.add(w.claims, 0, 1); k < l.order.length; k = Atomics.add(w.claims, 0, 1)) {
          const i = l.order[k]!;
          mine.push({ i, ...hashTable(db, l.tables[i]!) });
          this.helped++;
        }
      } catch (e) {
        failure = e; // the table it held is hashed by nobody: reported with the result
      } finally {
        if (db.inTransaction) db.exec("ROLLBACK");
      }
    };
    return (async () => {
      try {
        const theirs = await w.done;
        if (failure) throw liveHashFailed(dbPath, failure);
        if (db) {
          // Nothing committed from before the worker's snapshot to now: every table was read in that one state.
          const still = dataVersion(db) === before;
          db.close();
          db = null;
          // A commit came in between: while a connection of this thread is open, SQLite in a worker
          // thread was seen to lose its WAL snapshot to another process's checkpoint (libsql 0.5), so
          // the worker hashes everything again alone, with no connection open here.
          if (!still) return await alone(dbPath);
        }
        return assemble(dbPath, (await w.tables)!, [...theirs, ...mine]);
      } finally {
        void w.worker.terminate();
        db?.close();
      }
    })();
  }
}

interface Hashed {
  i: number;
  rows: number;
  sha256: string;
}
type Listed = Extract<HashWorkerMessage, { t: "tables" }>;

/** A hash worker with its claim counter; `tables` resolves with its list (null: it failed first). */
function startWorker(dbPath: string): { worker: Worker; claims: Int32Array; tables: Promise<Listed | null>; done: Promise<Hashed[]> } {
  const claims = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL("./hash-worker.js", import.meta.url), {
    workerData: { dbPath, claims: claims.buffer },
    execArgv: workerExecArgv(),
    resourceLimits: WORKER_LIMITS,
  });
  let listed: (l: Listed | null) => void = () => {};
  const tables = new Promise<Listed | null>((resolve) => (listed = resolve));
  const done = new Promise<Hashed[]>((resolve, reject) => {
    worker.on("message", (m: HashWorkerMessage) => {
      if (m.t === "tables") return listed(m);
      listed(null); // (no-op once listed)
      if (m.ok) resolve(m.hashed);
      else reject(liveHashFailed(dbPath, fromWire(m.error)));
    });
    worker.once("error", (e) => {
      listed(null);
      reject(liveHashFailed(dbPath, e));
    });
  });
  done.catch(() => {});
  return { worker, claims, tables, done };
}

/** Every table hashed by one worker alone, in its one snapshot. */
async function alone(dbPath: string): Promise<LiveTable[]> {
  const w = startWorker(dbPath);
  try {
    const hashed = await w.done;
    return assemble(dbPath, (await w.tables)!, hashed);
  } finally {
    void w.worker.terminate();
  }
}

function assemble(dbPath: string, l: Listed, hashed: Hashed[]): LiveTable[] {
  const byIndex = new Map(hashed.map((h) => [h.i, h]));
  return l.tables.map((t, i) => {
    const h = byIndex.get(i);
    if (!h) throw liveHashFailed(dbPath, `table ${t.name} was not hashed`);
    return { name: t.name, columns: t.columns, rows: h.rows, sha256: h.sha256 };
  });
}
