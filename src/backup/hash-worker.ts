/** Worker: every table's row count and content hash of a live database (read-only), off the main thread. */
import { parentPort, workerData } from "node:worker_threads";
import { hashDatabase } from "./tables.js";

try {
  parentPort!.postMessage({ ok: true, tables: hashDatabase(workerData.dbPath as string) });
} catch (e) {
  parentPort!.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) });
}
