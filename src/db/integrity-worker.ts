/**
 * Worker: the primary's `integrity_check` (./integrity.ts) beside the dry-run's trial import, on a
 * read-only connection of its own (one snapshot, SQLite's locking). The file was probed by the main
 * thread, which may hold a read transaction on it meanwhile: it is not opened outside SQLite here
 * (closing such a descriptor would drop the process's POSIX locks).
 */
import { parentPort, workerData } from "node:worker_threads";
import { openReadOnly } from "./local.js";
import { integrityCheck } from "./integrity.js";

const { path, bigAbove, size } = workerData as { path: string; bigAbove: number; size: string };
let answer: { problems: string[]; how: string } | { error: string };
try {
  const db = openReadOnly(path, { probed: true });
  try {
    answer = integrityCheck(db, bigAbove, size);
  } finally {
    db.close();
  }
} catch (e) {
  answer = { error: e instanceof Error ? e.message : String(e) };
}
parentPort!.postMessage(answer);
