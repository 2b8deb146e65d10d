import type { ImportEvidence } from "../engine/events.js";
import type { RunContext, RunPaths } from "../../stages/types.js";
import type { CutoverReport } from "./cutover-report.js";

/** The report's backup, archive, new file and per-table numbers, from the outputs the steps recorded. */
export function fillReport(report: CutoverReport, ctx: RunContext, paths: RunPaths): void {
  const exp = ctx.outputs.get("export");
  const ver = ctx.outputs.get("verify-backup");
  const imp = ctx.outputs.get("build-import");
  const swap = ctx.outputs.get("swap");
  report.backup = { path: exp ? paths.backupPath : null, verified: Boolean(ver?.verified), sha256: (exp?.sha256 as string) ?? null };
  report.archive = { path: (swap?.archive as string) ?? null };
  report.newPath = imp ? paths.newPath : null;
  const tables = (imp?.tables as { name: string; target: string; rows: number; loaded: number; quarantined: number; reasons?: Record<string, number>; partial?: number; columns?: Record<string, number> }[]) ?? [];
  report.tables = tables
    .filter((t) => t.name !== "sqlite_sequence")
    .map((t) => ({ name: t.name, target: t.target || null, rowsBefore: t.rows, rowsAfter: t.loaded, quarantined: t.quarantined, reasons: t.reasons ?? {}, partial: t.partial ?? 0, columns: Object.entries(t.columns ?? {}).map(([column, nonNull]) => ({ column, nonNull })) }));
  report.quarantined = Number(imp?.quarantined ?? 0);
  const objects = (imp?.evidence as ImportEvidence | undefined)?.objects;
  if (objects) report.objects = objects;
  if (!imp && exp) {
    report.tables = ((exp.tables as { name: string; rows: number }[]) ?? []).filter((t) => t.name !== "sqlite_sequence").map((t) => ({ name: t.name, target: t.name, rowsBefore: t.rows, rowsAfter: t.rows, quarantined: 0 }));
  }
}
