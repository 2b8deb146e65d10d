import { objectLines } from "./cutover.js";
import { diagnose, diagnosisJson, structureLines, type Diagnosis } from "../../db/diagnose.js";
import { EXIT } from "../../errors.js";
import type { CommandResult, Ctx } from "../run.js";

export function printDiagnosis(ctx: Ctx, d: Diagnosis): void {
  const { out } = ctx;
  out.text(`chain: ${d.chain}${d.classification.maxVersion !== null ? ` (MAX(version) = ${d.classification.maxVersion})` : ""}`);
  out.text(`target: ${d.baseline.origin}`);
  out.text(`baseline: ${d.baseline.version} ${d.baseline.digest} (history: ${d.baseline.history.join(", ") || "none"})`);
  if (d.versions.length) out.text(`schema_version rows: ${d.versions.map(String).join(", ")}`);
  if (d.classification.unknownVersions.length) out.text(`unknown versions: ${d.classification.unknownVersions.join(", ")}`);
  if (d.sizeBytes !== null) out.text(`size: ${d.sizeBytes} bytes${d.walBytes !== null ? ` (+ ${d.walBytes} bytes of WAL)` : ""}`);
  if (d.tables.length) {
    out.text(`tables: ${d.tables.length}, rows: ${d.totalRows}${d.sequences ? ` (and ${d.sequences} sqlite_sequence entries, counted apart)` : ""}`);
    const w = Math.max(...d.tables.map((t) => t.name.length));
    for (const t of d.tables) out.text(`  ${t.name.padEnd(w)} ${String(t.rows).padStart(10)}${t.inBaseline ? "" : "  (not in the baseline)"}`);
  }
  if (d.missingTables.length && !d.structure) out.text(`baseline tables missing: ${d.missingTables.join(", ")}`);
  if (d.structure) {
    out.text(
      d.structure.equal
        ? `structure: matches the target (fingerprint ${d.structure.fingerprint.slice(0, 16)}…)`
        : `structure: differs from the target (fingerprint ${d.structure.fingerprint.slice(0, 16)}…, target ${d.structure.targetFingerprint.slice(0, 16)}…)`,
    );
    for (const l of structureLines(d.structure)) out.text(`  ${l}`);
    if (d.structure.extraTables.length) out.text(`kept (not in the target): tables ${d.structure.extraTables.join(", ")}`);
  }
  for (const m of d.unknownColumns) out.text(`kept (not in the target): columns of ${m.table}: ${m.columns.join(", ")}`);
  if (d.operatorObjects && (d.operatorObjects.carried.length || d.operatorObjects.notCarried.length)) {
    out.text("indexes, triggers and views the target does not define (a fold keeps them all in place; a rebuild carries what compiles against the target):");
    for (const l of objectLines(d.operatorObjects)) out.text(l);
  }
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
