import type { RunState } from "../engine/run-state.js";
import type { CutoverReport } from "./cutover-report.js";

/** The report's backup, archive, new file and per-table numbers, from the run's state (typed, checked as it came in). */
export function fillReport(report: CutoverReport, run: RunState): void {
  const exp = run.outputs.export;
  const imp = run.outputs["build-import"];
  report.backup = { path: run.backup?.path ?? null, verified: run.backup?.verified === true, sha256: run.backup?.sha256 ?? null };
  report.archive = { path: run.swap?.archive ?? null };
  report.newPath = run.newFile?.by === "import" ? run.newFile.path : null;
  report.tables = imp ? tablesOf(run.importEvidence) : [];
  report.quarantined = imp?.quarantined ?? 0;
  const objects = run.importEvidence?.objects;
  if (imp && objects) report.objects = objects;
  const readWhole = run.importEvidence?.readWhole;
  if (imp && readWhole) report.readWhole = readWhole;
  if (!imp && exp) {
    report.tables = exp.tables
      .filter((t) => t.name !== "sqlite_sequence")
      .map((t) => ({ name: t.name, target: t.name, rowsBefore: t.rows, rowsAfter: t.rows, quarantined: 0 }));
  }
}

/** The report's per-table rows of an import (the real one, or the dry-run's trial). */
export function tablesOf(ev: RunState["importEvidence"]): CutoverReport["tables"] {
  return (ev?.tables ?? []).map((t) => ({
    name: t.name,
    target: t.target,
    rowsBefore: t.rowsIn,
    rowsAfter: t.loaded,
    quarantined: t.quarantined,
    reasons: t.reasons,
    partial: t.partial,
    columns: t.columns,
  }));
}
