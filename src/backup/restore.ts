import { existsSync } from "node:fs";
import { refused } from "../errors.js";
import { writeTransactionInto } from "../db/files.js";
import { quoteIdent } from "../db/value.js";
import type { BackupTable } from "./format.js";
import { readBackup, type ReadResult } from "./read.js";

/**
 * Restores a backup exactly as it was taken — each table created from its own CREATE statement,
 * every row with its rowid, sqlite_sequence as recorded — into a new file (the drill's scratch copy).
 */
export async function restoreBackup(backupPath: string, targetPath: string): Promise<ReadResult> {
  if (existsSync(targetPath)) throw refused({ what: `${targetPath} already exists.`, untouched: "Nothing was written.", next: "Restore into a new path." });
  return writeTransactionInto({ path: targetPath, mode: "create", tag: "restoring", fast: true, foreignKeysOff: true }, (db) => {
    let insert: ReturnType<typeof db.prepare> | null = null;
    const seq: [unknown, unknown][] = [];
    const result = readBackup(backupPath, {
      onHeader(h) {
        for (const t of h.tables) if (t.name !== "sqlite_sequence" && t.sql) db.exec(t.sql);
      },
      onTable(t: BackupTable) {
        if (t.name === "sqlite_sequence") {
          insert = null;
          return;
        }
        const names = t.columns.map((c, i) => (i === 0 && t.rowidColumn ? t.rowidColumn : quoteIdent(c)));
        insert = db.prepare(`INSERT INTO ${quoteIdent(t.name)} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`);
      },
      onRow(t, values) {
        if (t.name === "sqlite_sequence") seq.push([values[0], values[1]]);
        else (insert as unknown as { run(...a: unknown[]): unknown }).run(...values);
      },
    });
    if (seq.length) {
      db.exec("DELETE FROM sqlite_sequence");
      const s = db.prepare("INSERT INTO sqlite_sequence(name, seq) VALUES (?, ?)");
      for (const [n, v] of seq) s.run(n as never, v as never);
    }
    return result;
  });
}
