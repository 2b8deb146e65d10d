import { baselineCatalog } from "../../db/catalog.js";
import { diagnose, diagnosisJson, loadBaselineContext, shellQuote } from "../../db/diagnose.js";
import { EXIT } from "../../errors.js";
import { checkDrift } from "../../schema/drift.js";
import type { CommandResult, Ctx } from "../run.js";

/** Codex verify: chain, baseline integer and digest, required tables (and their columns) present. */
export async function verifyCommand(ctx: Ctx): Promise<CommandResult> {
  const resolved = ctx.resolve();
  const base = loadBaselineContext();
  const drift = checkDrift(base.manifest, base.policy);
  const d = await diagnose(resolved, base);
  if (d.error) throw d.error;
  const { out } = ctx;
  const required = baselineCatalog(base.sql).map((t) => t.name);
  const problems: string[] = [];
  out.text(`chain: ${d.chain}`);
  out.text(`baseline integer: repository ${base.manifest.baselineVersion}, contract ${base.policy.baselineInteger}, database ${d.classification.maxVersion ?? "none"}`);
  out.text(`baseline digest: ${drift.computedDigest}${drift.ok ? " (matches the contract)" : ` (contract says ${base.policy.digestHex})`}`);
  if (!drift.ok) problems.push(...drift.problems);
  let exitCode: number = EXIT.ok;
  const where = resolved.kind === "file" ? ` --db ${shellQuote(resolved.path!)}` : "";
  if (d.chain === "legacy" || d.chain === "ahead") {
    out.text("");
    out.text(d.explanation);
    out.text(d.chain === "legacy" ? `Stage 1: vox-cutover cutover${where}  (dry-run first; rehearse with vox-cutover rehearse${where})` : "Upgrade vox-cutover; do not migrate this database with this release.");
    return { ok: false, exitCode: EXIT.legacy, mode: "read", db: resolved, data: { ...diagnosisJson(d), requiredTables: required.length, missingTables: d.missingTables, problems: [d.explanation] } };
  }
  if (d.chain !== "current") {
    problems.push(`the database is ${d.chain}, not on baseline ${base.manifest.baselineVersion}`);
  }
  const missing = d.chain === "missing" ? [] : d.chain === "empty" && d.tables.length === 0 ? required : d.missingTables;
  if (missing.length) problems.push(`required tables missing: ${missing.join(", ")}`);
  for (const m of d.missingColumns) problems.push(`table ${m.table} lacks baseline columns: ${m.columns.join(", ")}`);
  if (problems.length === 0) {
    out.text(`required tables: all ${required.length} present with their baseline columns`);
    out.text("verify: ok");
  } else {
    out.text("verify: FAILED");
    for (const p of problems) out.text(`  - ${p}`);
    out.text(`Nothing was changed.${d.chain === "missing" || d.chain === "empty" || d.chain === "behind" ? ` Next: vox-cutover migrate${where} (dry-run), then --apply.` : ""}`);
    exitCode = drift.ok ? EXIT.failed : EXIT.refused;
  }
  return {
    ok: problems.length === 0,
    exitCode,
    mode: "read",
    db: resolved,
    data: { ...diagnosisJson(d), requiredTables: required.length, missingTables: missing, digest: drift.computedDigest, drift: !drift.ok, problems },
  };
}
