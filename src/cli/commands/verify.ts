import { baselineCatalog } from "../../db/catalog.js";
import { diagnose, diagnosisJson, loadBaselineContext, structureLines } from "../../diagnose/diagnose.js";
import { EXIT } from "../../errors.js";
import { checkDrift } from "../../schema/drift.js";
import { OWN_TABLES } from "../../schema/facts.js";
import type { CommandResult, Ctx } from "../run.js";
import { shellQuote } from "../../util/shell.js";

/** Codex verify: chain, baseline integer and digest, required tables (and their columns) present. */
export async function verifyCommand(ctx: Ctx): Promise<CommandResult> {
  const resolved = ctx.resolve();
  const base = loadBaselineContext();
  const drift = checkDrift(base.manifest, base.policy);
  const d = await diagnose(resolved, base);
  if (d.error) throw d.error;
  const { out } = ctx;
  const required = baselineCatalog(base.sql)
    .map((t) => t.name)
    .filter((n) => !OWN_TABLES.includes(n));
  const problems: string[] = [];
  out.text(`chain: ${d.chain}`);
  out.text(`target: ${base.origin.label}`);
  out.text(
    `baseline integer: repository ${base.manifest.baselineVersion}, contract ${base.policy.baselineInteger}, database ${d.classification.maxVersion ?? "none"}`,
  );
  out.text(`baseline digest: ${drift.computedDigest}${drift.ok ? " (matches the contract)" : ` (contract says ${base.policy.digestHex})`}`);
  if (!drift.ok) problems.push(...drift.problems);
  let exitCode: number = EXIT.ok;
  const where = resolved.kind === "file" ? ` --db ${shellQuote(resolved.path!)}` : "";
  if (d.chain === "legacy" || d.chain === "ahead") {
    out.text("");
    out.text(d.explanation);
    out.text(
      d.chain === "legacy"
        ? `Stage 1: vox-cutover cutover${where}  (dry-run first; rehearse with vox-cutover rehearse${where})`
        : "Upgrade vox-cutover; do not migrate this database with this release.",
    );
    return {
      ok: false,
      exitCode: EXIT.legacy,
      mode: "read",
      db: resolved,
      data: { ...diagnosisJson(d), requiredTables: required.length, missingTables: d.missingTables, problems: [d.explanation] },
    };
  }
  if (d.chain !== "current") {
    problems.push(`the database is ${d.chain}, not on baseline ${base.manifest.baselineVersion}`);
  }
  const missing = d.chain === "missing" ? [] : d.chain === "empty" && d.tables.length === 0 ? required : d.missingTables;
  if (missing.length) problems.push(`required tables missing: ${missing.join(", ")}`);
  // Part by part: every target table, column, key and index with the same definition.
  if (d.structure && !d.structure.equal) {
    for (const l of structureLines(d.structure)) if (!l.endsWith(": table missing")) problems.push(l);
  }
  if (problems.length === 0) {
    out.text(`required tables: all ${required.length} present with their baseline columns`);
    if (d.structure) out.text(`structure: equal to the target (fingerprint ${d.structure.fingerprint})`);
    if (d.structure?.extraTables.length) out.text(`kept beyond the target: tables ${d.structure.extraTables.join(", ")}`);
    out.text("verify: ok");
  } else {
    out.text("verify: FAILED");
    for (const p of problems) out.text(`  - ${p}`);
    out.text(
      `Nothing was changed.${d.chain === "missing" || d.chain === "empty" || d.chain === "behind" || d.chain === "current" ? ` Next: vox-cutover migrate${where} (dry-run), then --apply (after a verified backup it repairs the structure in a copy and swaps it in, or says when only the cutover can).` : ""}`,
    );
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
