/**
 * Worker: the primary's `integrity_check` (./integrity.ts) beside the dry-run's trial import (from
 * the trial's start) or a fresh apply's plan (from the run's start: startIntegrityAhead), or its
 * share of the parts (integrityOnTwo), on a read-only connection of its own (one snapshot, SQLite's
 * locking). The main thread may hold a read transaction on the file meanwhile: it is not opened
 * outside SQLite here (closing such a descriptor would drop the process's POSIX locks).
 *
 * The main thread's own probes would do that to this thread's lock, though (the plan's and the
 * import's looks at the file's header, which may come during the check): a writer could then commit
 * in the middle of the check, which would read a torn file. So `PRAGMA data_version` is read before the check's transaction and after it: a
 * different value means some connection committed meanwhile, and the answer is `changed` — the main
 * thread checks the file again itself (src/engine/trial.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { dataVersion, inWalMode, mainFile, openReadOnly, type LibsqlDatabase } from "./local.js";
import { integrityCheck, runIntegrityPart, type BigLimit, type IntegrityPart, type PartsAnswer } from "./integrity.js";

type Whole = { path: string; limit: BigLimit };
/** integrityOnTwo's share: parts claimed in turn with the main thread (`control` [0]), on the file `file` names. */
type Parts = { path: string; parts: IntegrityPart[]; control: SharedArrayBuffer; file: string };

if ("parts" in workerData) partsAnswer(workerData as Parts);
else parentPort!.postMessage(wholeAnswer(workerData as Whole));

/**
 * The parts it claims, on a connection of its own, in one read transaction that begins after the main
 * thread's and ends only once the main thread has read all it will (control [1]): the answer is posted
 * first (the main thread runs any part this thread could not before it ends its own). That thread's
 * `PRAGMA data_version` before and after its own transaction brackets every read of both.
 */
function partsAnswer({ path, parts, control, file }: Parts): void {
  const c = new Int32Array(control);
  const db = openReadOnly(path, { probed: true });
  try {
    parentPort!.postMessage(partsOf(db, parts, c, file));
  } finally {
    untilMainRead(c); // this connection ends its transaction (closing it) only once the main thread has read all it will
    db.close();
  }
}

function partsOf(db: LibsqlDatabase, parts: IntegrityPart[], c: Int32Array, file: string): PartsAnswer {
  try {
    if (mainFile(db) !== file) return { error: "another file than the main thread's" };
    if (inWalMode(db)) return { error: "the file is in WAL mode now" };
    db.exec("BEGIN");
    const done: [number, string[]][] = [];
    for (let k = Atomics.add(c, 0, 1); k < parts.length; k = Atomics.add(c, 0, 1)) {
      // Test hook: the thread fails with a part claimed and not run (the main thread must run it).
      if (process.env.VOX_CUTOVER_TEST_PARTS_WORKER_FAIL === "1") throw new Error("test: the integrity worker fails");
      done.push([k, runIntegrityPart(db, parts[k]!)]);
    }
    return { done };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** Waits until the main thread has read all it will (control [1]): ending this connection's transaction, or closing it, before that could drop its lock. */
function untilMainRead(c: Int32Array): void {
  while (Atomics.load(c, 1) === 0) Atomics.wait(c, 1, 0, 100);
}

function wholeAnswer({ path, limit }: Whole): { problems: string[]; how: string } | { error: string } {
  let answer: { problems: string[]; how: string } | { error: string };
  try {
    const db = openReadOnly(path, { probed: true });
    try {
      const before = dataVersion(db);
      // A WAL file is not checked here (data_version proves nothing across this process's other connections to it): one switched to WAL since the main thread looked.
      const r = inWalMode(db) ? null : integrityCheck(db, limit); // one read transaction, ended before it returns
      answer = !r ? { error: "the file is in WAL mode now" } : dataVersion(db) === before ? r : { error: "the file was written during the check" };
    } finally {
      db.close();
    }
  } catch (e) {
    answer = { error: e instanceof Error ? e.message : String(e) };
  }
  return answer;
}
