import { unfinishedRunRefusal } from "../../cutover/resume.js";
import { objectLines } from "./cutover.js";
import { diagnose, diagnosisJson, structureLines, type Diagnosis } from "../../diagnose/diagnose.js";
import { EXIT } from "../../errors.js";
import { formatCount } from "../../util/count.js";
import type { CommandResult, Ctx } from "../run.js";

/** What the cutover will do with what the file has beyond the target, by the route its chain takes. */
function fateOf(chain: string): { tables: string; columns: string; missing: string } {
  if (chain === "legacy") {
    return {
      tables: "kept in legacy_quarantine: the rebuild moves every row there (reason unknown-table); the table itself stays only in the archived old file",
      columns: "kept in legacy_quarantine: the values go there with each row's key; the rows load without them",
      missing: "built: the new file is made on the target, so nothing is missing after the cutover",
    };
  }
  if (chain === "ahead")
    return {
      tables: "nothing yet: the cutover refuses an ahead file (a newer vox wrote it)",
      columns: "nothing yet (refused)",
      missing: "nothing yet (refused)",
    };
  return {
    tables: "kept: carried into the copy with its rows as they are (vox ignores it)",
    columns: "kept: carried into the copy with their values as they are",
    missing: "repaired: the copy beside the file gets them added (nothing is dropped), then it is swapped in",
  };
}

function printDiagnosis(ctx: Ctx, d: Diagnosis): void {
  const { out } = ctx;
  const c = formatCount;
  const fate = fateOf(d.chain);
  out.text(`chain: ${d.chain}${d.classification.maxVersion !== null ? ` (MAX(version) = ${d.classification.maxVersion})` : ""}`);
  out.text(`target: ${d.baseline.origin}`);
  out.text(`baseline: ${d.baseline.version} ${d.baseline.digest} (history: ${d.baseline.history.join(", ") || "none"})`);
  if (d.versions.length) out.text(`schema_version rows: ${d.versions.map(String).join(", ")}`);
  if (d.classification.unknownVersions.length) out.text(`unknown versions: ${d.classification.unknownVersions.join(", ")}`);
  if (d.sizeBytes !== null) out.text(`size: ${c(d.sizeBytes)} bytes${d.walBytes !== null ? ` (+ ${c(d.walBytes)} bytes of WAL)` : ""}`);
  if (d.tables.length) {
    out.text(`tables: ${c(d.tables.length)}, rows: ${c(d.totalRows)}${d.sequences ? ` (and ${c(d.sequences)} sqlite_sequence entries, counted apart)` : ""}`);
    const w = Math.max(...d.tables.map((t) => t.name.length));
    const extra =
      d.chain === "legacy"
        ? "  (not in the target: its rows go to legacy_quarantine)"
        : d.chain === "ahead"
          ? "  (not in the target)"
          : "  (not in the target: carried as it is)";
    for (const t of d.tables) out.text(`  ${t.name.padEnd(w)} ${c(t.rows).padStart(11)}${t.inBaseline ? "" : extra}`);
  }
  if (d.missingTables.length && !d.structure) out.text(`baseline tables missing: ${d.missingTables.join(", ")} — ${fate.missing}`);
  if (d.structure) {
    const fp = `fingerprint ${d.structure.fingerprint.slice(0, 16)}…, target ${d.structure.targetFingerprint.slice(0, 16)}…`;
    const same = d.structure.fingerprint === d.structure.targetFingerprint;
    const extras = d.structure.extraTables.length + d.structure.diffs.filter((x) => x.extraColumns.length).length;
    // The verdict agrees with the fingerprints it prints: "identical" only when they are equal.
    out.text(
      d.structure.equal
        ? same
          ? `structure: identical to the target (${fp})`
          : `structure: every table, column, key and index of the target is present with the same definition; the fingerprints differ (${fp}) only by what the file has beyond the target${extras ? " (listed below)" : ""}`
        : `structure: differs from the target (${fp}) — ${fate.missing}`,
    );
    for (const l of structureLines(d.structure)) out.text(`  ${l}`);
    if (d.structure.extraTables.length) out.text(`tables not in the target: ${d.structure.extraTables.join(", ")} — ${fate.tables}`);
  }
  for (const m of d.unknownColumns) out.text(`columns not in the target: ${m.table}: ${m.columns.join(", ")} — ${fate.columns}`);
  if (d.operatorObjects && (d.operatorObjects.carried.length || d.operatorObjects.notCarried.length)) {
    out.text("indexes, triggers and views the target does not define (a fold keeps them all in place; a rebuild carries what compiles against the target):");
    for (const l of objectLines(d.operatorObjects)) out.text(l);
  }
  if (d.sidecar)
    out.text(
      `sidecar: ${d.sidecar.path} ${d.sidecar.exists ? `(present, ${c(d.sidecar.sizeBytes ?? 0)} bytes) — Stage 2 backs it up, merges the rows the new file lacks (conflicts to legacy_quarantine) and archives it` : "(none)"}`,
    );
  out.text("");
  out.text(d.explanation);
  out.text("next:");
  for (const n of d.next) out.text(`  ${n}`);
}

export async function diagnoseCommand(ctx: Ctx): Promise<CommandResult> {
  const resolved = ctx.resolve();
  const d = await diagnose(resolved);
  if (d.error) throw d.error;
  // A run left unfinished (killed, refused at a step) is what an operator or support must deal with first: its resume or rollback.
  const unfinished = resolved.kind === "file" ? unfinishedRunRefusal(resolved.path!, resolved.path!) : null;
  if (unfinished) {
    ctx.out.text(`unfinished run: ${unfinished.what}`);
    d.next.unshift(unfinished.next ?? "");
  }
  printDiagnosis(ctx, d);
  const data = diagnosisJson(d);
  return {
    ok: true,
    exitCode: EXIT.ok,
    mode: "read",
    db: resolved,
    data: unfinished ? { ...data, unfinishedRun: { what: unfinished.what, next: unfinished.next, workDir: unfinished.details?.workDir } } : data,
  };
}
