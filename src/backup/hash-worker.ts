/** Worker: every table's row count and content hash of a live database (read-only), off the main thread. */
import { parentPort, workerData } from "node:worker_threads";
import { openReadOnly } from "../db/local.js";
import { hashTable, listBackupTables } from "./tables.js";

const db = openReadOnly(workerData.dbPath as string);
try {
  db.exec("BEGIN");
  const tables = listBackupTables(db).map((t) => ({ name: t.name, columns: t.columns, ...hashTable(db, t) }));
  db.exec("COMMIT");
  parentPort!.postMessage({ ok: true, tables });
} catch (e) {
  parentPort!.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) });
} finally {
  db.close();
}
