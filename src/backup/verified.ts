import { refused } from "../errors.js";
import { contentState } from "../safety/content-version.js";
import { verifyExport, type LiveProof } from "./compare.js";
import { exportBackup, type ExportOptions } from "./export.js";

interface VerifiedBackup {
  path: string;
  sha256: string;
  rows: number;
  tables: number;
  /** How the live database was proven (compare.ts verifyExport). */
  live: LiveProof;
}

/**
 * Export, then prove it: re-read every row and hash, and compare with the live database — its rows
 * counted and the export's hashes taken as its own while its content version is the one taken just
 * before the export, else every row of it hashed again (compare.ts verifyExport). Throws `refused`
 * when the proof fails. The gate every destructive step stands on.
 */
export async function writeVerifiedBackup(opts: ExportOptions): Promise<VerifiedBackup> {
  const identity = contentState(opts.dbPath);
  const exp = await exportBackup(opts);
  const sequenceTable = exp.sequencesSha256 === null ? null : { rows: exp.sequences, sha256: exp.sequencesSha256 };
  const { read, comparison: cmp, live } = await verifyExport(exp.path, opts.dbPath, { sha256: exp.sha256, identity, tables: exp.tables, sequenceTable });
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
  return { path: exp.path, sha256: exp.sha256, rows: exp.totalRows, tables: exp.tables.length, live };
}
