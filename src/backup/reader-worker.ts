/**
 * Worker: the export's second reader (export-split.ts). It opens its own read transaction on the
 * database (its snapshot opens with the first read) and, from the split point forward, claims tables
 * the main thread (which takes them from the last one down) has not taken, encoding each one's row
 * lines exactly as the main thread would into a spill file beside the backup. It reads the tables the main thread listed in
 * its snapshot; export-split.ts proves both snapshots are one state. The writer copies those ranges
 * into the backup in table order (each as soon as its turn comes), and the backup is kept only when
 * the main thread proved both snapshots are one state. Its first message is its setup: it may be
 * started before the export knows it (export-workers.ts), and opens nothing until then.
 */
import { closeSync, openSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { mainFile, openReadOnly } from "../db/local.js";
import type { BackupTable } from "./format.js";
import { SpillOut, spillTable } from "./spill-out.js";
import { READER_CLAIM, type ReaderMessage, type ReaderSetup } from "./export-split.js";

const post = (m: ReaderMessage) => parentPort!.postMessage(m);

parentPort!.once("message", run);

function run(setup: ReaderSetup): void {
  try {
    read(setup);
  } catch (e) {
    post({ t: "done", ok: false, message: e instanceof Error ? e.message : String(e) });
    post({ t: "closed" });
  }
}

function read(setup: ReaderSetup): void {
  const claims = new Int32Array(setup.claims);
  const progress = new BigInt64Array(setup.progress);
  /** control[0]: 1 once the main thread has read its last row (this connection may close). */
  const control = new Int32Array(setup.control);
  // The main thread probed the file and holds its own read transaction: not opened and closed here.
  const db = openReadOnly(setup.dbPath, { probed: true });
  let fd = -1;
  try {
    fd = openSync(setup.spillPath, "wx", 0o600);
    db.exec("BEGIN");
    // The main thread's list (its snapshot's): the snapshot opens with this transaction's first read.
    const tables: readonly BackupTable[] = setup.tables;
    post({ t: "tables", file: mainFile(db) });
    const out = new SpillOut(fd);
    // Set while this thread still reads only when the export ended early (a signal, a failure): then
    // nothing more it reads is wanted, and the main thread waits for this connection to close.
    const ended = () => Atomics.load(control, 0) !== 0;
    for (let i = setup.start; i < tables.length && !ended() && Atomics.compareExchange(claims, i, 0, READER_CLAIM) === 0; i++) {
      const counted = tables[i]!.name !== "sqlite_sequence";
      const reading = spillTable(db, tables[i]!, out);
      let told = 0;
      for (let step = reading.next(); ; step = reading.next()) {
        const rows = step.done ? step.value.rows : step.value;
        if (counted) Atomics.add(progress, 0, BigInt(rows - told));
        told = rows;
        if (step.done) {
          post({ t: "table", i, ...step.value });
          break;
        }
        if (ended()) break;
      }
    }
    post({ t: "done", ok: true });
    // The connection stays open until the main thread has read its last row: closing it (or ending
    // its transaction) can drop that thread's locks on the file (see export-split.ts).
    while (Atomics.load(control, 0) === 0) Atomics.wait(control, 0, 0, 100);
    db.exec("COMMIT");
  } finally {
    if (fd >= 0) closeSync(fd);
    db.close();
  }
  post({ t: "closed" });
}
