/**
 * The native path's proof on the other core (issue 18). A private new file is built in WAL mode and
 * each natively copied table is committed into it (the file is not the target until it is renamed
 * into place, and it is removed on any failure), then hashed by a worker thread while this thread
 * goes on: copying the next tables, reading the backup, loading the row path's tables. The table's
 * result is waited for where the backup reaches it; a table not proven (different hash, or the
 * worker could not read it) is emptied and loaded by the row path there, as before.
 */
import { existsSync, statfsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { WORKER_LIMITS, workerExecArgv } from "../util/worker.js";
import type { BackupTable } from "./format.js";
import { bytesWithWal, type LibsqlDatabase } from "../db/local.js";
import type { Plan } from "./import-plan.js";
import type { NativeLoader } from "./native-load.js";
import { envInteger } from "../util/env.js";

const WORKER = new URL("./proof-worker.js", import.meta.url);

/** The answer for the i-th table sent: its canonical hash (`here`: hashed by this thread), or why it could not be read. */
export type ProofAnswer = { i: number; rows: number; sha256: string; here?: true } | { i: number; error: string } | { i: -1; closed: true };

/** Tickets below this can be taken by either thread (`claims`); a later one is the worker's alone. */
const CLAIMS = 4096;
/** Who hashes a ticket, decided once by compare-and-swap on its `claims` slot. */
const FREE = 0;
export const CLAIMED_BY_WORKER = 1;
const CLAIMED_HERE = 2;

/**
 * Whether the copied tables are proven by a worker beside the load, and its WAL window (bytes); null:
 * proven on this thread. Below 32 MB a worker's start costs more than the work (test hook:
 * VOX_CUTOVER_PROOF_WORKER_BYTES); without room for the new file and a WAL as large as the source
 * beside it, the WAL could not grow as it must.
 */
export function proofBesideFor(source: string, targetPath: string): number | null {
  if (!existsSync(WORKER)) return null; // running from the sources (a test): no built worker to start
  const limit = envInteger("VOX_CUTOVER_PROOF_WORKER_BYTES", 32 << 20);
  const size = bytesWithWal(source);
  if (size < limit) return null;
  let free: number;
  try {
    const fs = statfsSync(dirname(targetPath));
    free = fs.bavail * fs.bsize;
  } catch {
    return null;
  }
  if (free < 2 * size) return null;
  return walWindow(size, free);
}

/**
 * Past this much WAL, the copying ahead waits for the proofs sent and truncates the WAL. The WAL
 * holds what was copied since the last truncation, so it is at most the window plus the last table
 * copied, and the new file about the source's size: the window is what the free space leaves beyond
 * twice the source (never below 64 MB, as before), and the source's size when there is room (no wait
 * at all: the copy of the next table overlaps the proof of the last one; with a 64 MB window every
 * table larger than that was copied, then proven, one after the other). Test hook: VOX_CUTOVER_PROOF_WAL_WINDOW.
 */
function walWindow(size: number, free: number): number {
  return envInteger("VOX_CUTOVER_PROOF_WAL_WINDOW", Math.max(64 << 20, Math.min(size, free - 2 * size)));
}

/** With no answer at all for this long, this thread proves the table itself (a worker that died says nothing). */
const SILENCE_MS = 120_000;

export class ProofBeside {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  /** [0]: answers posted; [1]: not 0 once the worker failed outside a table (it answers nothing more). */
  private readonly signal = new Int32Array(new SharedArrayBuffer(8));
  /**
   * Per ticket: FREE, or taken by the worker or by this thread. While this thread would wait for an
   * answer it hashes a table the worker has not taken yet (the one it waits for, else the last one
   * sent), so neither core idles while tables remain; the worker skips a ticket taken here.
   */
  private readonly claims = new Int32Array(new SharedArrayBuffer(4 * CLAIMS));
  private readonly tables: BackupTable[] = [];
  private silent = false;
  private readonly answers = new Map<number, ProofAnswer>();
  private sent = 0;
  private stopped = false;
  private readonly exited: Promise<void>;

  constructor(
    private readonly dbPath: string,
    /** Past this much WAL the copying waits for the proofs sent and truncates it (`proofBesideFor`). */
    readonly walWindow: number,
    /** Hashes a committed table on this thread (the build's own connection). */
    private readonly hashHere: (table: BackupTable) => { rows: number; sha256: string },
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port2;
    this.worker = new Worker(WORKER, {
      workerData: { dbPath, port: port1, signal: this.signal.buffer, claims: this.claims.buffer },
      transferList: [port1],
      execArgv: workerExecArgv(),
      resourceLimits: WORKER_LIMITS,
    });
    this.worker.unref();
    this.worker.on("error", () => {}); // its tables are then proven on this thread (silence)
    this.exited = new Promise<void>((res) => this.worker.once("exit", () => res()));
  }

  /** Sends a committed table to be hashed; returns its ticket. */
  submit(table: BackupTable): number {
    const i = this.sent++;
    this.tables.push(table);
    this.port.postMessage({ i, table });
    return i;
  }

  /** Blocks until the ticket's answer comes (null: none came, the caller proves the table itself). */
  answer(i: number): ProofAnswer | null {
    if (!this.wait(i)) return null;
    const a = this.answers.get(i)!;
    this.answers.delete(i);
    return a;
  }

  /** Blocks until every table sent so far is answered (kept for `answer`); false if the worker fell silent. */
  settle(): boolean {
    for (let i = 0; i < this.sent; i++) if (!this.wait(i)) return false;
    return true;
  }

  /** The build file's WAL, in bytes. */
  walBytes(): number {
    return statSync(`${this.dbPath}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  }

  private wait(i: number): boolean {
    let last = Date.now();
    for (;;) {
      if (this.silent) return this.answers.has(i);
      const seen = Atomics.load(this.signal, 0);
      for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
        const a = m.message as ProofAnswer;
        this.answers.set(a.i, a);
        last = Date.now();
      }
      if (this.answers.has(i)) return true;
      if (this.takeOne(i)) continue;
      if (Date.now() - last > SILENCE_MS || Atomics.load(this.signal, 1) !== 0) {
        // Fallen silent or failed: every table still unanswered is proven on this thread, without waiting again.
        this.silent = true;
        return this.answers.has(i);
      }
      Atomics.wait(this.signal, 0, seen, 1000);
    }
  }

  /** Hashes here the awaited ticket if the worker has not taken it, else the last such one sent; false: none left. */
  private takeOne(awaited: number): boolean {
    if (awaited < 0 || process.env.VOX_CUTOVER_TEST_PROOF_NO_STEAL === "1") return false;
    const take = (k: number) => k < CLAIMS && Atomics.compareExchange(this.claims, k, FREE, CLAIMED_HERE) === FREE;
    let k = take(awaited) ? awaited : -1;
    for (let j = this.sent - 1; k < 0 && j > awaited; j--) if (!this.answers.has(j) && take(j)) k = j;
    if (k < 0) return false;
    try {
      this.answers.set(k, { i: k, ...this.hashHere(this.tables[k]!), here: true });
    } catch (e) {
      this.answers.set(k, { i: k, error: e instanceof Error ? e.message : String(e) });
    }
    return true;
  }

  /**
   * Once every table is proven: the worker closes its connection (answered synchronously), then this
   * connection commits, checkpoints and leaves WAL for the rest of the build (index builds, FTS,
   * checks: written once, not twice) in a new transaction.
   */
  finish(db: LibsqlDatabase): void {
    this.stopped = true;
    this.port.postMessage({ stop: true });
    this.answer(-1);
    db.exec("COMMIT");
    try {
      db.exec("PRAGMA main.journal_mode=OFF"); // main only: a bare pragma would apply to the attached source too
    } catch {
      // The worker's connection is still open (not yet collected): the build stays in WAL (each page written twice).
    }
    db.exec("BEGIN IMMEDIATE");
  }

  /** Ends the worker (after `finish`, or after a failure: its connection goes with it). */
  async close(): Promise<void> {
    // The worker closes its connection and its end of the channel, and so ends.
    if (!this.stopped) this.port.postMessage({ stop: true });
    const t = setTimeout(() => void this.worker.terminate(), 10_000);
    await this.exited;
    clearTimeout(t);
    this.port.close();
  }
}

/**
 * Copies every eligible table inside SQLite before the backup is read, committing each (the file is
 * private) and sending it to the proof worker, which hashes it while this thread goes on.
 */
export function copyAhead(
  db: LibsqlDatabase,
  native: NativeLoader,
  proofs: ProofBeside,
  plans: Map<string, Plan>,
  tickets: Map<string, number>,
  progress: (table: string) => void,
): void {
  db.exec("PRAGMA wal_autocheckpoint=0"); // the worker checkpoints, after each table it proved
  const window = proofs.walWindow;
  for (const p of plans.values()) {
    if (!native.copy(p)) continue;
    db.exec("COMMIT");
    tickets.set(p.bt.name, proofs.submit(native.proofTable(p)));
    // Outside a transaction: once the proofs sent are in, no reader is left in the WAL and it is emptied.
    if (proofs.walBytes() > window && proofs.settle()) db.exec("PRAGMA main.wal_checkpoint(TRUNCATE)");
    db.exec("BEGIN IMMEDIATE");
    progress(p.bt.name);
  }
}

/** The worker's proof of a table copied ahead; proven on this thread if the worker could not read it. */
export function provenBeside(
  native: NativeLoader,
  proofs: ProofBeside,
  p: Plan,
  ticket: number,
  onProof?: (table: string, by: "beside" | "here") => void,
): number | null {
  const a = proofs.answer(ticket);
  const proof = a !== null && "sha256" in a ? a : null;
  onProof?.(p.bt.name, proof && !proof.here ? "beside" : "here");
  return proof ? native.proven(p, proof) : native.proveHere(p);
}
