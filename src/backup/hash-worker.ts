/**
 * Worker: hashes the live database's tables (read-only, one read transaction) for live-hash.ts. It
 * lists the tables (its snapshot is open from then on), then claims them one at a time through the
 * shared counter, which the main thread also claims from once it is free.
 */
import { parentPort, workerData } from "node:worker_threads";
import { mainFile, openReadOnly } from "../db/local.js";
import { assertKnownCollations } from "../db/collations.js";
import { claimOrder, type HashWorkerMessage } from "./live-hash.js";
import { hashTable, listBackupTables } from "./tables.js";
import { toWire } from "../errors.js";

const claims = new Int32Array(workerData.claims as SharedArrayBuffer);
const post = (m: HashWorkerMessage) => parentPort!.postMessage(m);
try {
  const db = openReadOnly(workerData.dbPath as string);
  try {
    db.exec("BEGIN");
    assertKnownCollations(db, workerData.dbPath as string); // before any row is read, in the rows' snapshot (db/collations.ts)
    const tables = listBackupTables(db);
    const order = claimOrder(tables);
    post({ t: "tables", tables, order, file: mainFile(db) });
    const hashed: { i: number; rows: number; sha256: string }[] = [];
    for (let k = Atomics.add(claims, 0, 1); k < order.length; k = Atomics.add(claims, 0, 1)) {
      const i = order[k]!;
      hashed.push({ i, ...hashTable(db, tables[i]!) });
    }
    db.exec("COMMIT");
    post({ t: "done", ok: true, hashed });
  } finally {
    db.close();
  }
} catch (e) {
  post({ t: "done", ok: false, error: toWire(e) });
}
