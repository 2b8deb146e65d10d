import { openReadOnly } from "../db/local.js";
import type { ReadResult } from "./read.js";
import { hashTable, listBackupTables } from "./tables.js";

export interface Comparison {
  ok: boolean;
  tables: { name: string; backupRows: number; dbRows: number | null; backupSha256: string; dbSha256: string | null; equal: boolean }[];
  firstDifference: string | null;
}

/** Counts and hashes of the backup against the live database, table by table (read-only). */
export function compareWithDatabase(dbPath: string, backup: ReadResult): Comparison {
  const db = openReadOnly(dbPath);
  try {
    db.exec("BEGIN");
    const live = new Map(listBackupTables(db).map((t) => [t.name, t]));
    const tables: Comparison["tables"] = [];
    let first: string | null = null;
    for (const bt of backup.header.tables) {
      const summary = backup.tables.find((t) => t.name === bt.name)!;
      const lt = live.get(bt.name);
      if (!lt) {
        tables.push({ name: bt.name, backupRows: summary.rows, dbRows: null, backupSha256: summary.sha256, dbSha256: null, equal: false });
        first ??= `table ${bt.name} is in the backup but not in the database`;
        continue;
      }
      if (JSON.stringify(lt.columns) !== JSON.stringify(bt.columns)) {
        tables.push({ name: bt.name, backupRows: summary.rows, dbRows: Number(lt.rows), backupSha256: summary.sha256, dbSha256: null, equal: false });
        first ??= `table ${bt.name} has other columns in the database (${lt.columns.join(", ")}) than in the backup (${bt.columns.join(", ")})`;
        continue;
      }
      const h = hashTable(db, lt);
      const equal = h.rows === summary.rows && h.sha256 === summary.sha256;
      tables.push({ name: bt.name, backupRows: summary.rows, dbRows: h.rows, backupSha256: summary.sha256, dbSha256: h.sha256, equal });
      if (!equal) {
        first ??= h.rows !== summary.rows ? `table ${bt.name} has ${h.rows} rows in the database, ${summary.rows} in the backup` : `table ${bt.name} has the same ${h.rows} rows count but different content (hash ${h.sha256} vs ${summary.sha256})`;
      }
    }
    for (const name of live.keys()) {
      if (!backup.header.tables.some((t) => t.name === name)) first ??= `table ${name} is in the database but not in the backup`;
    }
    return { ok: first === null, tables, firstDifference: first };
  } finally {
    if (db.inTransaction) db.exec("ROLLBACK");
    db.close();
  }
}
