import type { RunContext, RunPaths } from "../../stages/types.js";
import { outputOf } from "../engine/step-outputs.js";
import type { CutoverReport } from "./cutover-report.js";

/** The report's backup, archive, new file and per-table numbers, from the outputs the steps recorded (checked, not cast). */
export function fillReport(report: CutoverReport, ctx: RunContext, paths: RunPaths): void {
  const exp = outputOf(ctx.outputs, "export");
  const ver = outputOf(ctx.outputs, "verify-backup");
  const imp = outputOf(ctx.outputs, "build-import");
  const swap = outputOf(ctx.outputs, "swap");
  report.backup = { path: exp ? paths.backupPath : null, verified: Boolean(ver?.verified), sha256: exp?.sha256 ?? null };
  report.archive = { path: swap?.archive ?? null };
  report.newPath = imp ? paths.newPath : null;
  report.tables = (imp?.tables ?? [])
    .filter((t) => t.name !== "sqlite_sequence")
    .map((t) => ({ name: t.name, target: t.target || null, rowsBefore: t.rows, rowsAfter: t.loaded, quarantined: t.quarantined, reasons: t.reasons ?? {}, partial: t.partial ?? 0, columns: Object.entries(t.columns ?? {}).map(([column, nonNull]) => ({ column, nonNull })) }));
  report.quarantined = imp?.quarantined ?? 0;
  const objects = imp?.evidence?.objects;
  if (objects) report.objects = objects;
  if (!imp && exp) {
    report.tables = (exp.tables ?? []).filter((t) => t.name !== "sqlite_sequence").map((t) => ({ name: t.name, target: t.name, rowsBefore: t.rows, rowsAfter: t.rows, quarantined: 0 }));
  }
}
