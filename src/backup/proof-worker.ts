/**
 * Worker: proves the import's natively copied tables (native-proof.ts). The build file is private
 * and in WAL mode; the main thread commits each copied table and sends it here, and goes on loading
 * while this thread hashes the committed table with the backup's canonical hash in a read
 * transaction of its own. Every answer is posted on the port the main thread reads synchronously,
 * then the shared counter is bumped to wake it. After a table it checkpoints the WAL (the second
 * write of its pages) only when no other table waits for it and the main thread is not checkpointing
 * at the WAL window: hashing comes first, the main thread checkpoints while the worker is behind.
 *
 * A table the main thread claimed first (it takes the last ones sent where it would wait) is skipped.
 *
 * Once every table is proven it closes its connection (`release`) and ends. A worker started for the
 * new file's checks (after the rows are committed) claims the parts the main thread shares (`check`)
 * one by one and runs them on a read-only connection, each answered as it is done (import-parity.ts
 * runCheck).
 */
import { workerData, type MessagePort } from "node:worker_threads";
import { openReadOnly, openReadWrite, type LibsqlDatabase } from "../db/local.js";
import type { BackupTable } from "./format.js";
import { WORKER_CLAIM, type ProofAnswer } from "./native-proof.js";
import { sleepSync } from "../util/sleep.js";
import { hashTable } from "./tables.js";
import { collectGarbage } from "../util/gc.js";
import { runCheck, type CheckTask } from "./import-parity.js";

const port = workerData.port as MessagePort;
const signal = new Int32Array(workerData.signal as SharedArrayBuffer);
const claims = new Int32Array(workerData.claims as SharedArrayBuffer);
const answer = (m: ProofAnswer) => {
  port.postMessage(m);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
};
// A failure outside a table (the thread is ending): the main thread stops waiting for answers.
process.on("uncaughtException", () => {
  Atomics.store(signal, 1, 1);
  Atomics.notify(signal, 0);
  process.exit(1);
});
let db: LibsqlDatabase | null = null;
/** Closes this thread's connection; the driver closes it only once its statements are collected (until then it keeps the file open). */
const release = () => {
  db?.close();
  db = null;
  collectGarbage();
};
type Message = { i: number; table: BackupTable } | { i: number; check: CheckTask[]; claim: SharedArrayBuffer } | { release: true } | { stop: true };
port.on("message", (m: Message) => {
  if ("stop" in m) {
    release();
    port.close();
    return;
  }
  if ("release" in m) {
    // Every table is proven: the build leaves WAL, which it cannot while this connection is open.
    // The driver's statements are finalized after a collection, on a later turn of this thread's
    // event loop (Node defers native finalizers): only then is the connection closed. So: collect,
    // let the finalizers run, collect what they released, let those run, then answer.
    release();
    setImmediate(() => {
      collectGarbage();
      setImmediate(() => answer({ i: -1, closed: true }));
    });
    return;
  }
  if ("check" in m) {
    // The rows are committed and the main thread reads them too: each part it has not taken is run here.
    const claim = new Int32Array(m.claim);
    let ro: LibsqlDatabase | null = null;
    try {
      // probed: the main thread holds a read transaction on the file (a probe's open and close would drop the process's locks).
      ro = openReadOnly(workerData.dbPath as string, { probed: true });
      for (let k = Atomics.add(claim, 0, 1); k < m.check.length; k = Atomics.add(claim, 0, 1)) answer({ i: m.i, k, result: runCheck(ro, m.check[k]!) });
    } catch {
      // A part taken and not answered is run by the main thread; so are the parts left.
      Atomics.store(signal, 1, 1);
      Atomics.notify(signal, 0);
    } finally {
      ro?.close();
    }
    return;
  }
  // Test hook: the thread fails outside any table (as an out-of-memory end would).
  if (process.env.VOX_CUTOVER_TEST_PROOF_WORKER_CRASH === "1") throw new Error("test: the proof worker fails");
  // Test hook: a slow worker, before it claims a table not yet taken (the main thread then takes them, from the last one sent).
  const slow = Number(process.env.VOX_CUTOVER_TEST_PROOF_WORKER_SLOW_MS ?? 0);
  if (slow > 0 && m.i < claims.length && Atomics.load(claims, m.i) === 0) sleepSync(slow);
  // A table the main thread took (it hashes it instead of waiting): nothing to do here. Claimed in the order sent.
  if (m.i < claims.length && Atomics.compareExchange(claims, m.i, 0, WORKER_CLAIM) !== 0) return;
  try {
    // Read-write only to checkpoint (wal_autocheckpoint=0: see below). This thread writes nothing else.
    db ??= openReadWrite(workerData.dbPath as string);
    // One read transaction for the table: its rows are read in chunks, each its own statement
    // (row-lines.ts), so only the transaction makes them one snapshot. Ended before the checkpoint.
    db.exec("BEGIN");
    let h: { rows: number; sha256: string };
    try {
      h = hashTable(db, m.table);
    } finally {
      if (db.inTransaction) db.exec("COMMIT");
    }
    answer({ i: m.i, ...h });
    // Idle (no table sent after this one, [2]; the main thread not checkpointing at the window, [3]):
    // this core copies the WAL's pages into the file. Otherwise the next table's hash comes first.
    if (m.i + 1 >= Atomics.load(signal, 2) && Atomics.load(signal, 3) === 0) db.exec("PRAGMA wal_checkpoint(PASSIVE)");
  } catch (e) {
    // Not proven here: the main thread proves the table itself (or loads it by rows).
    answer({ i: m.i, error: e instanceof Error ? e.message : String(e) });
  }
});
