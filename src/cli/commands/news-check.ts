import { assertNoUnfinishedRun } from "../../cutover/resume.js";
import { diagnose, loadBaselineContext } from "../../diagnose/diagnose.js";
import { openReadOnly } from "../../db/local.js";
import { EXIT, failed, refused } from "../../errors.js";
import { withWriteSafety } from "../../safety/guard.js";
import { applyLegacyAttempts, checkNews, LEGACY_CHANNEL } from "../../news/news.js";
import type { CommandResult, Ctx } from "../run.js";
import { pausePoint } from "../../engine/testhooks.js";
import { stopPoint } from "../../util/cancel.js";

export async function newsCheckCommand(ctx: Ctx): Promise<CommandResult> {
  const resolved = ctx.resolve();
  const { out, opts } = ctx;
  if (resolved.kind !== "file") throw failed({ what: "news-check works on local files.", untouched: "Nothing was changed.", next: "Use --db PATH." });
  const d = await diagnose(resolved, loadBaselineContext());
  if (d.error) throw d.error;
  if (d.chain === "missing")
    throw failed({ what: `There is no database at ${resolved.path}.`, untouched: "Nothing was written.", next: "Check --db (or VOX_DB_PATH)." });
  const apply = Boolean(opts.apply);
  const ro = openReadOnly(resolved.path!);
  let report;
  try {
    report = checkNews(ro);
  } finally {
    ro.close();
  }
  for (const a of report.absent) out.text(`${a.includes(".") ? "column" : "table"} ${a} is not in this file (chain ${d.chain}): what needs it was not checked`);
  let copied = 0;
  if (apply && report.legacyAttempts.pending > 0) {
    if (d.chain !== "current")
      throw refused({
        what: `news-check --apply writes only to a database on the current baseline; this one is ${d.chain}.`,
        untouched: "Nothing was changed.",
        next: "Finish Stage 1 first (vox-cutover cutover, or migrate --apply), then run news-check --apply again.",
      });
    if (report.absent.some((a) => a === "publication_attempts" || a.startsWith("publication_attempts."))) {
      throw refused({
        what: `${resolved.path} has legacy news_publish_attempts rows but no complete publication_attempts table to copy them into.`,
        untouched: "Nothing was changed.",
        next: "Run vox-cutover migrate --apply (after a verified backup it repairs the structure in a copy and swaps it in), then news-check --apply again.",
      });
    }
    const r = report;
    assertNoUnfinishedRun(resolved.path!); // resumed or rolled back first: this write would be one its rollback does not know
    copied = await withWriteSafety({ command: "news-check", dbPath: resolved.path!, breakLock: Boolean(opts.breakLock) }, async (g) => {
      // The copy is one transaction: a stop request is honoured before it (nothing copied) or after it (all copied).
      pausePoint("news-before-copy");
      await stopPoint(ctx.token, "before news-check --apply copied anything", `Nothing was copied: ${resolved.path} is as it was and the lock was released.`);
      return applyLegacyAttempts(resolved.path!, g.runId, r, { ledgerWhenNothing: false });
    });
    report.legacyAttempts.copied = copied;
  }
  out.text(`publication_manifests: ${report.manifests} checked, ${report.mismatches.length} content_sha3_256 mismatch(es)`);
  for (const m of report.mismatches) out.text(`  ${m.table} ${m.id}: stored ${m.stored ?? "NULL"}, computed ${m.computed}`);
  out.text(
    `published_news without a digest (they block republishing until backfilled): ${report.missingDigest.length ? report.missingDigest.join(", ") : "none"}`,
  );
  const pending = report.legacyAttempts.pending;
  out.text(
    `legacy news_publish_attempts not in publication_attempts: ${pending}${apply ? `; copied ${copied} (channel ${LEGACY_CHANNEL}; the legacy rows are kept)` : pending ? ` (--apply copies them in one transaction, channel ${LEGACY_CHANNEL})` : ""}`,
  );
  out.text("Stored digests are never rewritten.");
  const ok = report.mismatches.length === 0;
  out.text(
    `news-check: ${ok ? "ok" : `${report.mismatches.length} digest mismatch(es): the stored digests were left as they are; re-publish or correct the content in vox`}${report.missingDigest.length ? `; ${report.missingDigest.length} news row(s) without a digest (warning)` : ""}`,
  );
  return {
    ok,
    exitCode: ok ? EXIT.ok : EXIT.failed,
    mode: apply ? "apply" : "dry-run",
    db: resolved,
    data: {
      chain: d.chain,
      manifests: report.manifests,
      mismatches: report.mismatches,
      missingDigest: report.missingDigest,
      legacyAttempts: report.legacyAttempts,
      absent: report.absent,
    },
  };
}
