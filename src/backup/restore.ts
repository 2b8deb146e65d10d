import { existsSync } from "node:fs";
import { refused } from "../errors.js";
import { writeTransactionInto } from "../db/files.js";
import { textEncoding } from "../db/local.js";
import { quoteIdent, RowInserter, type SqlValue } from "../db/value.js";
import type { BackupTable } from "./format.js";
import { readBackup, type ReadResult } from "./read.js";
import { BigInserter } from "./big-insert.js";
import { dropStage } from "./big-write.js";
import { hasBig } from "./tables.js";

/**
 * Restores a backup exactly as it was taken — each table created from its own CREATE statement,
 * every row with its rowid and every value with its bytes and storage class, sqlite_sequence as
 * recorded, external-content FTS indexes created and rebuilt — into a new file (the drill's scratch copy).
 */
export async function restoreBackup(backupPath: string, targetPath: string): Promise<ReadResult> {
  if (existsSync(targetPath)) throw refused({ what: `${targetPath} already exists.`, untouched: "Nothing was written.", next: "Restore into a new path." });
  return writeTransactionInto({ path: targetPath, mode: "create", tag: "restoring", fast: true, foreignKeysOff: true }, (db) => {
    let insert: RowInserter | null = null;
    let big: BigInserter | null = null;
    const seq: SqlValue[][] = [];
    let rebuilt: { name: string; sql: string }[] = [];
    const result = readBackup(backupPath, {
      bigValues: true,
      onHeader(h) {
        for (const t of h.tables) if (t.name !== "sqlite_sequence" && t.sql) db.exec(t.sql);
        rebuilt = h.rebuilt ?? [];
      },
      onTable(t: BackupTable) {
        if (t.name === "sqlite_sequence") {
          insert = null;
          return;
        }
        const names = t.columns.map((c, i) => (i === 0 && t.rowidColumn ? t.rowidColumn : quoteIdent(c)));
        insert = new RowInserter(db, `INSERT INTO ${quoteIdent(t.name)} (${names.join(", ")})`, names.length, textEncoding(db));
        // A row holding a large value: written over a zeroblob through the pages (big-insert.ts).
        big = new BigInserter(
          db,
          t.name,
          t.columns.map((c, i) => (i === 0 && t.rowidColumn ? t.rowidColumn : c)),
          `INSERT INTO ${quoteIdent(t.name)} (${names.join(", ")})`,
        );
      },
      onRow(t, values) {
        if (t.name === "sqlite_sequence") seq.push(values.slice());
        else if (hasBig(values)) big!.run(values);
        else insert!.run(values);
      },
    });
    dropStage(db);
    if (seq.length) {
      db.exec("DELETE FROM sqlite_sequence");
      const s = new RowInserter(db, "INSERT INTO sqlite_sequence (name, seq)", 2, textEncoding(db));
      for (const v of seq) s.run(v);
    }
    // External-content FTS indexes: created after their content table, then rebuilt from it.
    for (const r of rebuilt) {
      db.exec(r.sql);
      db.exec(`INSERT INTO ${quoteIdent(r.name)} (${quoteIdent(r.name)}) VALUES ('rebuild')`);
    }
    return result;
  });
}
