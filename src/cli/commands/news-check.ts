import { randomUUID } from "node:crypto";
import { diagnose, loadBaselineContext } from "../../db/diagnose.js";
import { openReadOnly } from "../../db/local.js";
import { EXIT, failed, refused } from "../../errors.js";
import { applyLegacyAttempts, checkNews, hasNewsTables } from "../../stages2to4/news.js";
import type { CommandResult, Ctx } from "../run.js";

export async function newsCheckCommand(ctx: Ctx): Promise<CommandResult> {
  const resolved = ctx.resolve();
  const { out, opts } = ctx;
  if (resolved.kind !== "file") throw failed({ what: "news-check works on local files.", untouched: "Nothing was changed.", next: "Use --db PATH." });
  const d = await diagnose(resolved, loadBaselineContext());
  if (d.error) throw d.error;
  if (d.chain === "missing") throw failed({ what: `There is no database at ${resolved.path}.`, untouched: "Nothing was written.", next: "Check --db." });
  const apply = Boolean(opts.apply);
  const ro = openReadOnly(resolved.path!);
  let report;
  try {
    if (!hasNewsTables(ro)) throw refused({ what: `${resolved.path} has no publication/news tables (chain ${d.chain}).`, untouched: "Nothing was changed.", next: "Run the cutover (Stage 1) or migrate first." });
    report = checkNews(ro);
  } finally {
    ro.close();
  }
  let copied = 0;
  if (apply) {
    if (d.chain !== "current") throw refused({ what: `news-check --apply writes only to a database on the current baseline; this one is ${d.chain}.`, untouched: "Nothing was changed.", next: "Finish Stage 1 (vox-cutover cutover) first." });
    copied = applyLegacyAttempts(resolved.path!, randomUUID(), report, { ledgerWhenNothing: true });
    report.legacyAttempts.copied = copied;
  }
  out.text(`publication_manifests: ${report.manifests} checked, ${report.mismatches.length} content_sha3_256 mismatch(es)`);
  for (const m of report.mismatches) out.text(`  ${m.table} ${m.id}: stored ${m.stored ?? "NULL"}, computed ${m.computed}`);
  out.text(`published_news without a digest (they block republishing): ${report.missingDigest.length ? report.missingDigest.join(", ") : "none"}`);
  out.text(`legacy news_publish_attempts not in publication_attempts: ${report.legacyAttempts.pending}${apply ? `; copied ${copied} (the legacy rows are kept)` : report.legacyAttempts.pending ? " (--apply copies them, channel legacy_news_publish)" : ""}`);
  out.text("Stored digests are never rewritten.");
  const ok = report.mismatches.length === 0;
  out.text(`news-check: ${ok ? "ok" : `${report.mismatches.length} digest mismatch(es)`}${report.missingDigest.length ? `, ${report.missingDigest.length} news row(s) without a digest (warning)` : ""}`);
  return { ok, exitCode: ok ? EXIT.ok : EXIT.failed, mode: apply ? "apply" : "dry-run", db: resolved, data: { manifests: report.manifests, mismatches: report.mismatches, missingDigest: report.missingDigest, legacyAttempts: report.legacyAttempts } };
}
