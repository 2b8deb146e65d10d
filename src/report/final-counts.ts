/**
 * The final file's counts (final.ts says how the reports use them): read here, apart from the
 * words, so the wizard's screens never load the database driver.
 */
import { listBackupTables } from "../backup/tables.js";
import { splitSequences } from "../backup/format.js";
import { openReadOnly } from "../db/local.js";
import type { StepOutput } from "../engine/step-outputs.js";
import type { CountedReport, FinalCounts } from "./final.js";

/** The product's own tables: counted apart from vox's rows. */
const PRODUCT_TABLES = ["legacy_quarantine", "cutover_ledger"] as const;

/** Counts every table of the file at `dbPath` in one read snapshot; null when it cannot be read. */
function countFinalFile(dbPath: string): FinalCounts | null {
  let db;
  try {
    db = openReadOnly(dbPath);
  } catch {
    return null;
  }
  try {
    db.exec("BEGIN");
    const split = splitSequences(listBackupTables(db).map((t) => ({ name: t.name, rows: Number(t.rows) })));
    const own = (n: string) => split.tables.find((t) => t.name === n)?.rows ?? 0;
    const tables = split.tables.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return {
      tables,
      voxRows: tables.filter((t) => !(PRODUCT_TABLES as readonly string[]).includes(t.name)).reduce((n, t) => n + t.rows, 0),
      quarantineRows: own("legacy_quarantine"),
      ledgerRows: own("cutover_ledger"),
      sequences: split.sequences,
    };
  } catch {
    return null;
  } finally {
    if (db.inTransaction) db.exec("ROLLBACK");
    db.close();
  }
}

/**
 * After a finished run: the final file's counts become the report's numbers. `rowsAfter` of a
 * legacy table is the count of the table its rows went to, in the final file (0 when they all went
 * to legacy_quarantine); Stage 2's sidecar tables are listed with their totals.
 */
export function applyFinalCounts(report: CountedReport, dbPath: string, sidecar?: StepOutput<"sidecar">): void {
  const final = countFinalFile(dbPath);
  report.final = final;
  if (final) {
    const byName = new Map(final.tables.map((t) => [t.name, t.rows]));
    for (const t of report.tables) t.rowsAfter = t.target ? (byName.get(t.target) ?? 0) : 0;
  }
  if (sidecar?.exists)
    report.sidecar = {
      path: sidecar.path,
      merged: sidecar.merge,
      tables: sidecar.tables.map((t) => ({ name: t.name, rows: t.rows, present: t.present, merged: t.merged, conflicts: t.conflicts })),
    };
}
