/** The cutover dry-run's Stage 2: what the sidecar step will do, from the same comparison the apply makes before its swap. */
import { existsSync } from "node:fs";
import type { Emit } from "../engine/events.js";
import type { CutoverReport } from "../report/cutover-report.js";
import { formatCount, plural } from "../util/count.js";
import { sidecarPathFor } from "../sidecar/paths.js";
import { sidecarBeforeSwap } from "../../stages/stage2to4.js";
import { mergeWouldQuarantine } from "../sidecar/sidecar.js";
import { quarantineTableRows, type QuarantineTable } from "../db/ledger.js";

const UNTOUCHED = "Nothing was changed (dry-run): the database and the sidecar were only read.";

export class DrySidecar {
  private found: ReturnType<typeof sidecarBeforeSwap> = null;
  private against = "";
  /** What legacy_quarantine holds after Stage 1 (the trial file's; unset: the file's own, on a route without an import). */
  stage1: QuarantineTable | null | undefined;
  constructor(private readonly dbPath: string) {}

  /** For the trial import: compares with the trial file before it is removed (undefined: no sidecar, nothing to compare). */
  get inspect(): ((trialDb: string) => void) | undefined {
    if (!existsSync(sidecarPathFor(this.dbPath))) return undefined;
    return (trialDb) => this.compare(trialDb, "the trial file");
  }

  /** Compares with `file` (a route without a trial import: the file itself, before Stage 1). */
  compare(file: string, against = "the file itself (before Stage 1)"): void {
    this.found = sidecarBeforeSwap(this.dbPath, file, { holders: false, untouched: UNTOUCHED });
    this.against = against;
  }

  /**
   * Shows the comparison as a dry-run line and puts it in the report (`sidecar`, for --json): per
   * table rows, present, merged (what --apply copies) and conflicts (what goes to legacy_quarantine);
   * archive-only runs copy and quarantine nothing.
   */
  show(report: CutoverReport, emit: Emit, merge: boolean): void {
    report.quarantineTable = this.predicted(merge);
    if (!this.found) return;
    const tables = this.found.tables.map((t) => ({ ...t, merged: merge ? t.merged : 0, conflicts: merge ? t.conflicts : 0 }));
    report.sidecar = { path: this.found.path, merged: merge, tables };
    const sum = (k: "rows" | "present" | "merged" | "conflicts") => tables.reduce((n, t) => n + t[k], 0);
    const notMergeable = tables.filter((t) => !t.mergeable && t.rows > 0).length;
    emit({ type: "step-start", id: "sidecar-trial", title: "Sidecar comparison (dry-run)" });
    emit({
      type: "step-done",
      id: "sidecar-trial",
      summary: `${this.found.path}: ${formatCount(sum("rows"))} rows in ${plural(tables.filter((t) => t.rows > 0).length, "table")} with rows, compared with ${this.against}: ${formatCount(sum("present"))} already present, ${
        merge ? `${formatCount(sum("merged"))} would be merged, ${formatCount(sum("conflicts"))} would go to legacy_quarantine` : "archive only: none copied"
      }${notMergeable ? `, ${plural(notMergeable, "table")} the new file has no place for (kept in the archive)` : ""}; then it is archived`,
    });
  }

  /**
   * What legacy_quarantine will hold after the apply (`quarantineTable`, so the dry-run's `quarantined` is the apply's): Stage 1's
   * table, and what the merge adds to it (sidecar.ts mergeWouldQuarantine: the rows the merge's own INSERT refuses not foreseen).
   */
  private predicted(merge: boolean): QuarantineTable | null {
    const base = this.stage1 !== undefined ? this.stage1 : quarantineTableRows(this.dbPath);
    if (!base) return null;
    const byReason = { ...base.byReason };
    let rows = base.rows;
    for (const t of merge ? (this.found?.tables ?? []) : [])
      for (const [k, n] of Object.entries(mergeWouldQuarantine(t))) {
        byReason[k] = (byReason[k] ?? 0) + n;
        rows += n;
      }
    return { rows, byReason };
  }
}
