import { refused } from "../errors.js";
import { verifyAgainstDatabase } from "./compare.js";
import { exportBackup, type ExportOptions } from "./export.js";

interface VerifiedBackup {
  path: string;
  sha256: string;
  rows: number;
  tables: number;
}

/**
 * Export, then prove it: re-read every row and hash, and compare counts and hashes with the live
 * database. Throws `refused` when the proof fails. The gate every destructive step stands on.
 */
export async function writeVerifiedBackup(opts: ExportOptions): Promise<VerifiedBackup> {
  const exp = await exportBackup(opts);
  const { read, comparison: cmp } = await verifyAgainstDatabase(exp.path, opts.dbPath);
  if (read.fileSha256 !== exp.sha256) {
    throw refused({ what: `The backup ${exp.path} changed while it was being verified.`, untouched: "The database was not changed.", next: "Run again." });
  }
  if (!cmp.ok) {
    throw refused({
      what: `The backup ${exp.path} does not equal the database: ${cmp.firstDifference}.`,
      untouched: "The database was not changed.",
      next: "Stop whatever writes to the database and run again.",
    });
  }
  return { path: exp.path, sha256: exp.sha256, rows: exp.totalRows, tables: exp.tables.length };
}
