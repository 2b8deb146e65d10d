import { diagnose, diagnosisJson, type Diagnosis } from "../../db/diagnose.js";
import { EXIT } from "../../errors.js";
import type { CommandResult, Ctx } from "../run.js";

export function printDiagnosis(ctx: Ctx, d: Diagnosis): void {
  const { out } = ctx;
  out.text(`chain: ${d.chain}${d.classification.maxVersion !== null ? ` (MAX(version) = ${d.classification.maxVersion})` : ""}`);
  out.text(`baseline: ${d.baseline.version} ${d.baseline.digest} (history: ${d.baseline.history.join(", ") || "none"})`);
  if (d.versions.length) out.text(`schema_version rows: ${d.versions.map(String).join(", ")}`);
  if (d.classification.unknownVersions.length) out.text(`unknown versions: ${d.classification.unknownVersions.join(", ")}`);
  if (d.sizeBytes !== null) out.text(`size: ${d.sizeBytes} bytes${d.walBytes !== null ? ` (+ ${d.walBytes} bytes of WAL)` : ""}`);
  if (d.tables.length) {
    out.text(`tables: ${d.tables.length}, rows: ${d.totalRows}`);
    const w = Math.max(...d.tables.map((t) => t.name.length));
    for (const t of d.tables) out.text(`  ${t.name.padEnd(w)} ${String(t.rows).padStart(10)}${t.inBaseline ? "" : "  (not in the baseline)"}`);
  }
  if (d.missingTables.length) out.text(`baseline tables missing: ${d.missingTables.join(", ")}`);
  for (const m of d.missingColumns) out.text(`columns the baseline adds to ${m.table}: ${m.columns.join(", ")}`);
  for (const m of d.unknownColumns) out.text(`columns the baseline does not know in ${m.table}: ${m.columns.join(", ")}`);
  if (d.sidecar) out.text(`sidecar: ${d.sidecar.path} ${d.sidecar.exists ? `(present, ${d.sidecar.sizeBytes} bytes)` : "(none)"}`);
  out.text("");
  out.text(d.explanation);
  out.text("next:");
  for (const n of d.next) out.text(`  ${n}`);
}

export async function diagnoseCommand(ctx: Ctx): Promise<CommandResult> {
  const resolved = ctx.resolve();
  const d = await diagnose(resolved);
  if (d.error) throw d.error;
  printDiagnosis(ctx, d);
  return { ok: true, exitCode: EXIT.ok, mode: "read", db: resolved, data: diagnosisJson(d) };
}
