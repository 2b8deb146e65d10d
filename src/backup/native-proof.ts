/**
 * The native path's proof on the other core (issue 18). A private new file is built in WAL mode and
 * each natively copied table is committed into it (the file is not the target until it is renamed
 * into place, and it is removed on any failure), then hashed by a worker thread while this thread
 * goes on: copying the next tables, reading the backup, loading the row path's tables. The table's
 * result is waited for where the backup reaches it; a table not proven (different hash, or the
 * worker could not read it) is emptied and loaded by the row path there, as before.
 *
 * The WAL's pages are copied into the file (checkpointed) by whichever thread would otherwise wait:
 * the worker only when no table waits for it; this thread after a commit while the worker is behind,
 * and while it waits at the WAL window (each time the worker takes its next table, the pages its
 * finished read held back).
 *
 * This thread does not wait idle either: where it would wait for an answer it takes a table the
 * worker has not begun and hashes it on its own connection, the same `hashTable` (each ticket is
 * claimed once through a shared flag): at the WAL window
 * the last one sent (the worker goes from the first); where the backup reaches a table not yet
 * proven, that table if the worker has not begun it, else it waits. Before, the copy outran the
 * proofs and this thread waited for them (150 MB build: ~0.4 s of waiting; the build ~0.1 s shorter).
 */
import { sleepSync } from "../util/sleep.js";
import { existsSync, statfsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { spareWorkers, WORKER_LIMITS, workerExecArgv } from "../util/worker.js";
import type { BackupTable } from "./format.js";
import { hashTable } from "./tables.js";
import { allRows, bytesWithWal, type LibsqlDatabase } from "../db/local.js";
import type { Plan } from "./import-plan.js";
import type { NativeLoader } from "./native-load.js";
import { runCheck, type CheckResult, type CheckRunner, type CheckTask } from "./import-parity.js";
import { envInteger } from "../util/env.js";

const WORKER = new URL("./proof-worker.js", import.meta.url);

/**
 * The worker's answer for the i-th table sent: its canonical hash, or why it could not read it; or
 * the k-th part of the checks it took (`check`: their ticket).
 */
export type ProofAnswer =
  { i: number; rows: number; sha256: string } | { i: number; error: string } | { i: -1; closed: true } | { i: number; k: number; result: CheckResult };

/** Below this size the source is proven on this thread: a worker's start costs more than the work (test hook: VOX_CUTOVER_PROOF_WORKER_BYTES). */
export function proofBesideFor(source: string, targetPath: string): boolean {
  if (!existsSync(WORKER)) return false; // running from the sources (a test): no built worker to start
  if (spareWorkers()) return false; // beside the wizard's screens: proven on this thread (util/worker.ts)
  const limit = envInteger("VOX_CUTOVER_PROOF_WORKER_BYTES", 32 << 20);
  const size = bytesWithWal(source);
  if (size < limit) return false;
  // The WAL can grow to the largest table copied between two checkpoints: only with room for the
  // new file twice over beside it (the disk gate counts the new file once).
  try {
    const fs = statfsSync(dirname(targetPath));
    return fs.bavail * fs.bsize >= 2 * size;
  } catch {
    return false;
  }
}

/**
 * The new file's checks (integrity_check in parts and the foreign keys: import-parity.ts
 * checkNewFile) are shared with a worker's connection from a source this large (default 64 MB; test
 * hook VOX_CUTOVER_CHECKS_BESIDE_BYTES): below it the worker's start costs about what it saves. Since
 * session 24 the other core is idle in the build's tail of the dry-run as well as the apply (the
 * dry-run's check of the primary runs beside its export), and the cold apply, alternated with the
 * checks on one connection, took 3.08-3.19 s against 3.16-3.35 at 64 MB and 5.29-5.55 against
 * 5.57-5.71 at 150 MB (docs/benchmark.md, "Session 24"; 1 GB: ~2.0 s against ~1.5 s).
 */
function checksBesideFor(source: string): boolean {
  return bytesWithWal(source) >= envInteger("VOX_CUTOVER_CHECKS_BESIDE_BYTES", 64 << 20);
}

/** Past this much WAL, the copying ahead waits for the proofs sent and truncates the WAL (bounded disk use; test hook: VOX_CUTOVER_PROOF_WAL_WINDOW). */
function walWindow(): number {
  return envInteger("VOX_CUTOVER_PROOF_WAL_WINDOW", 64 << 20);
}

/** How many times the build asks the worker to close its connection before it stays in WAL for the rest of the build. */
const RELEASE_ATTEMPTS = 5;

/** With no answer at all for this long, this thread proves the table itself (a worker that died says nothing). */
const SILENCE_MS = 120_000;

/** Tickets that can be claimed (one Int32 each): a ticket past them is the worker's alone. */
const CLAIM_SLOTS = 4096;
/** A ticket's claim: 0 not begun, WORKER_CLAIM the worker's, TAKEN_CLAIM this thread's (proof-worker.ts claims too). */
export const WORKER_CLAIM = 1;
const TAKEN_CLAIM = 2;

/** Which thread proved a table copied ahead: the worker, this thread while it would have waited, or this thread because the worker could not. */
export type ProvedBy = "beside" | "taken" | "here";

export class ProofBeside {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  /**
   * [0]: answers posted; [1]: not 0 once the worker failed outside a table (it answers nothing more);
   * [2]: tables sent; [3]: 1 while this thread checkpoints at the WAL window. The worker checkpoints
   * only when no table waits for it and this thread does not.
   */
  private readonly signal = new Int32Array(new SharedArrayBuffer(16));
  private silent = false;
  private readonly answers = new Map<number, ProofAnswer>();
  /** The answers to the parts of the checks (by part), while they run. */
  private readonly parts = new Map<number, CheckResult>();
  private sent = 0;
  /** Per ticket: 0 not begun, WORKER_CLAIM, TAKEN_CLAIM. */
  private readonly claims = new Int32Array(new SharedArrayBuffer(4 * CLAIM_SLOTS));
  /** The table of each ticket sent, while this thread may still take it. */
  private readonly tables = new Map<number, BackupTable>();
  /** Tickets this thread took (their answers are its own). */
  private readonly taken = new Set<number>();
  /** Table answers the worker posted. */
  private workerAnswers = 0;
  private readonly exited: Promise<void>;
  /** The worker started for the new file's checks (`checksBeside`), ended with this one. */
  private checker: ProofBeside | null = null;

  /**
   * `db`: the build's own connection, which takes tables the worker has not begun where this thread
   * would wait (null: it only waits — the checks' worker).
   */
  constructor(
    private readonly dbPath: string,
    private readonly db: LibsqlDatabase | null = null,
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
    if (this.db && i < CLAIM_SLOTS) this.tables.set(i, table);
    Atomics.store(this.signal, 2, this.sent);
    this.port.postMessage({ i, table });
    return i;
  }

  /** Whether this thread proved the ticket's table (took it from the worker). */
  tookTicket(i: number): boolean {
    return this.taken.has(i);
  }

  /**
   * Takes a ticket the worker has not begun and hashes its table on this thread's connection (in a
   * read transaction of its own when it is in none); false when there is none to take. Waiting for
   * ticket `want` (answer): that ticket or nothing — the worker has it, or this thread hashes it now
   * (a larger table taken meanwhile would hold up the answer while the worker idles). Otherwise (the
   * WAL window) the last one sent: the worker goes from the first.
   */
  private takeOne(want?: number): boolean {
    if (!this.db || process.env.VOX_CUTOVER_TEST_PROOF_TAKE === "0") return false;
    if (want !== undefined) return this.take(want);
    // One table unanswered: the worker's (or next). Taking it would leave the worker idle and hold
    // off this thread's checkpoint, which runs beside the worker's hash (1 GB: build ~1 s longer).
    if (this.behind() < 2) return false;
    for (let j = Math.min(this.sent, CLAIM_SLOTS) - 1; j >= 0; j--) {
      if (!this.tables.has(j)) continue; // taken already, or answered
      if (this.take(j)) return true;
      // The worker claims in the order sent: one it claimed means every earlier one is its own.
      for (const k of this.tables.keys()) if (k < j) this.tables.delete(k);
      return false;
    }
    return false;
  }

  /** Claims ticket j for this thread and hashes its table; false when it is not to be taken (the worker's, or no table). */
  private take(j: number): boolean {
    const table = this.tables.get(j);
    if (!table || !this.db) return false;
    this.tables.delete(j);
    if (Atomics.compareExchange(this.claims, j, 0, TAKEN_CLAIM) !== 0) return false;
    this.taken.add(j);
    const own = !this.db.inTransaction;
    try {
      if (own) this.db.exec("BEGIN");
      this.answers.set(j, { i: j, ...hashTable(this.db, table) });
    } catch (e) {
      // An error that ended the build's own write transaction (SQLite rolls it back on a full disk,
      // an I/O error, no memory) is the build's failure, as it would be on its next write.
      if (!own && !this.db.inTransaction) throw e;
      this.answers.set(j, { i: j, error: e instanceof Error ? e.message : String(e) });
    } finally {
      if (own && this.db.inTransaction) this.db.exec("COMMIT");
    }
    // Counted as answered: behind() and progressed() see it as they see the worker's.
    Atomics.add(this.signal, 0, 1);
    return true;
  }

  /** Tickets sent, and the answers to them: the worker's and this thread's (taken). Each ticket is answered once: the two sum to the tickets. */
  answeredBy(): { tickets: number; worker: number; taken: number } {
    return { tickets: this.sent, worker: this.workerAnswers, taken: this.taken.size };
  }

  /** Whether the worker fell silent or failed (it answers nothing more; a dead thread may hold SQLite's checkpoint lock). */
  gone(): boolean {
    return this.silent || Atomics.load(this.signal, 1) !== 0;
  }

  /** Tables sent that the worker has not answered yet (0 once it fell silent: this thread proves them). */
  behind(): number {
    return this.silent ? 0 : this.sent - Atomics.load(this.signal, 0);
  }

  /** Whether this thread checkpoints (at the WAL window): the worker then only hashes. */
  checkpointing(on: boolean): void {
    Atomics.store(this.signal, 3, on ? 1 : 0);
  }

  /** Blocks until the worker answers one more table; false when none is left unanswered (or it fell silent). */
  progressed(): boolean {
    const behind = this.behind();
    return behind > 0 && this.waitFor(() => this.behind() < behind);
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
    return this.waitFor(() => this.answers.has(i), i);
  }

  /** Blocks until `ready()` (true) or the worker fell silent or failed (false: `ready()` as it stands). */
  private waitFor(ready: () => boolean, want?: number): boolean {
    let last = Date.now();
    for (;;) {
      if (this.silent) return ready();
      const seen = Atomics.load(this.signal, 0);
      for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
        const a = m.message as ProofAnswer;
        if ("k" in a) this.parts.set(a.k, a.result);
        else {
          if (a.i >= 0) this.workerAnswers++;
          this.answers.set(a.i, a);
        }
        last = Date.now();
      }
      if (ready()) return true;
      if (Date.now() - last > SILENCE_MS || Atomics.load(this.signal, 1) !== 0) {
        // Fallen silent or failed: every table still unanswered is proven on this thread, without waiting again.
        this.silent = true;
        return ready();
      }
      if (this.takeOne(want)) {
        last = Date.now();
        continue;
      }
      Atomics.wait(this.signal, 0, seen, 1000);
    }
  }

  /**
   * For a source of 64 MB or more, the new file's checks beside `db` on a worker of its own (this one
   * ended with the proofs, so its heap is not held through the index builds): see `commitForChecks`.
   * Otherwise undefined: the checks run on `db` alone.
   */
  checksBeside(db: LibsqlDatabase, source: string): CheckRunner | undefined {
    if (!checksBesideFor(source)) return undefined;
    this.checker = new ProofBeside(this.dbPath);
    return this.checker.commitForChecks(db);
  }

  /**
   * The new file's checks on two connections (issue 18). Commits the rows now (the file is private:
   * nobody else writes it) and returns the runner: `own` parts on `db`, then the `shared` parts
   * claimed one by one by whichever side is free, the worker reading on a read-only connection of its
   * own. `db` holds a read transaction through the checks, so both sides check the one committed
   * file; then it takes its write transaction again. A part the worker took and never answered (it
   * fell silent or failed) is run here.
   */
  commitForChecks(db: LibsqlDatabase): CheckRunner {
    db.exec("COMMIT");
    const run = (own: CheckTask[], shared: CheckTask[]) => {
      db.exec("BEGIN");
      db.prepare("SELECT 1 FROM main.sqlite_master LIMIT 1").raw(true).get(); // the read transaction begins
      const claim = new Int32Array(new SharedArrayBuffer(4));
      const taken = new Set<number>();
      try {
        if (!this.silent && shared.length) this.port.postMessage({ i: this.sent++, check: shared, claim: claim.buffer });
        const ownDone = own.map((t) => runCheck(db, t));
        const sharedDone: CheckResult[] = [];
        for (let k = Atomics.add(claim, 0, 1); k < shared.length; k = Atomics.add(claim, 0, 1)) {
          taken.add(k);
          sharedDone[k] = runCheck(db, shared[k]!);
        }
        this.waitFor(() => shared.every((_, k) => taken.has(k) || this.parts.has(k)));
        for (let k = 0; k < shared.length; k++) if (!taken.has(k)) sharedDone[k] = this.parts.get(k) ?? runCheck(db, shared[k]!);
        return { own: ownDone, shared: sharedDone };
      } finally {
        this.parts.clear();
        db.exec("COMMIT"); // read only: nothing to write
        db.exec("BEGIN IMMEDIATE");
      }
    };
    return Object.assign(run, { connections: 2 as const });
  }

  /**
   * Once every table is proven: the worker closes its connection (answered synchronously) and ends,
   * and this connection commits, checkpoints and leaves WAL for the rest of
   * the build (index builds, FTS, checks: written once, not twice) in a new transaction. Leaving WAL
   * needs every other connection closed: if the worker's is not yet (its statements not yet
   * finalized), it is asked again.
   */
  finish(db: LibsqlDatabase): void {
    this.port.postMessage({ release: true });
    this.answer(-1);
    db.exec("COMMIT");
    for (let attempt = 1; ; attempt++) {
      try {
        db.exec("PRAGMA main.journal_mode=OFF"); // main only: a bare pragma would apply to the attached source too
        break;
      } catch {
        // The worker's connection is not closed yet: it collects again.
        if (attempt >= RELEASE_ATTEMPTS || this.silent) break; // the build stays in WAL (each page written twice)
        this.port.postMessage({ release: true });
        this.answer(-1);
      }
    }
    this.port.postMessage({ stop: true }); // the thread ends (its heap is not held through the index builds)
    db.exec("BEGIN IMMEDIATE");
  }

  /** Ends the worker (after `finish` or the checks, or after a failure: its connection goes with it); `answered` hears `answeredBy()` first. */
  async close(answered?: (a: ReturnType<ProofBeside["answeredBy"]>) => void): Promise<void> {
    answered?.(this.answeredBy());
    // The worker closes its connection and its end of the channel, and so ends.
    this.port.postMessage({ stop: true });
    const t = setTimeout(() => void this.worker.terminate(), 10_000);
    await this.exited;
    clearTimeout(t);
    this.port.close();
    await this.checker?.close();
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
  db.exec("PRAGMA wal_autocheckpoint=0"); // checkpoints are placed by hand (the module's note)
  const window = walWindow();
  for (const p of plans.values()) {
    if (!native.copy(p)) continue;
    db.exec("COMMIT");
    tickets.set(p.bt.name, proofs.submit(native.proofTable(p)));
    // A table waits beside the one the worker hashes: it skips its checkpoints, this thread copies into
    // the file the WAL's pages the worker's read no longer holds back (up to the table it is hashing).
    if (proofs.behind() > 1) db.exec("PRAGMA main.wal_checkpoint(PASSIVE)");
    // Outside a transaction: once the proofs sent are in, no reader is left in the WAL and it is emptied.
    // While it waits for them this thread checkpoints (the worker only hashes): once now, then each
    // time the worker takes its next table (its read then holds back no page this thread committed),
    // so that the truncation finds little left to copy.
    if (proofs.walBytes() > window) {
      proofs.checkpointing(true);
      try {
        checkpointWal(db, "PASSIVE", proofs);
        while (proofs.progressed()) checkpointWal(db, "PASSIVE", proofs);
        if (proofs.settle()) checkpointWal(db, "TRUNCATE", proofs);
      } finally {
        proofs.checkpointing(false);
      }
    }
    db.exec("BEGIN IMMEDIATE");
    progress(p.bt.name);
  }
}

/**
 * A checkpoint of the build file's WAL at the window (TRUNCATE: emptied, once every proof sent is in
 * and no reader is left in it). The worker may be in a checkpoint it began before this thread reached
 * the window: SQLite then answers "busy" at once and does nothing (a truncation that did nothing
 * leaves the file past the window, and every next table would wait for its proof), so it is asked
 * again until the worker's checkpoint is done (it starts no other meanwhile; at most ~2 s: then the
 * WAL stays as it is, as before).
 */
function checkpointWal(db: LibsqlDatabase, mode: "PASSIVE" | "TRUNCATE", proofs: ProofBeside): void {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (Number(allRows(db, `PRAGMA main.wal_checkpoint(${mode})`)[0]?.busy ?? 0) === 0) return;
    if (proofs.gone()) return; // not asked again: a dead worker's lock would answer "busy" to every attempt
    sleepSync(10);
  }
}

/** The worker's proof of a table copied ahead; proven on this thread if the worker could not read it. */
export function provenBeside(
  native: NativeLoader,
  proofs: ProofBeside,
  p: Plan,
  ticket: number,
  onProof?: (table: string, by: ProvedBy) => void,
): number | null {
  const a = proofs.answer(ticket);
  const proof = a !== null && "sha256" in a ? a : null;
  onProof?.(p.bt.name, proof ? (proofs.tookTicket(ticket) ? "taken" : "beside") : "here");
  return proof ? native.proven(p, proof) : native.proveHere(p);
}
