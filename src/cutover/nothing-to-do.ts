/** A cutover with no step to run: what it says (or the refusal), by the database's chain. */
import { failed, refused } from "../errors.js";
import { lastCutoverLedger } from "../db/ledger.js";
import { openReadOnly } from "../db/local.js";
import { pendingLegacyAttempts } from "../news/news.js";
import { plural } from "../util/count.js";
import type { CutoverReport } from "../report/cutover-report.js";
import { commandFor, type CutoverPlan } from "./plan.js";

/**
 * Sets the report's outcome and message for a plan without steps, or throws its refusal. On a current
 * file the cutover has nothing to do, but Stages 2 and 4 may: a sidecar put back beside it, legacy
 * news attempts written since. Each is named with the command that does it, never left unsaid.
 */
export function nothingToDo(report: CutoverReport, plan: CutoverPlan, dbPath: string, given: string): void {
  const chain = plan.diagnosis.chain;
  report.outcome = "nothing-to-do";
  if (chain === "current") {
    const led = lastCutoverLedger(dbPath);
    if (led) report.outcome = "already-done";
    const why = led ? `; the ledger records the cutover run ${led.run_id} at ${led.created_at}` : ` ${plan.base.manifest.baselineVersion}`;
    report.message = `Nothing to do: ${dbPath} is on the current baseline${why}.${stagesLeft(plan, dbPath, given)}`;
    return;
  }
  if (chain === "missing") {
    report.message = `Nothing to cut over: there is no database at ${given}. ${commandFor("migrate", given, "--apply")} creates it on the baseline.`;
    return;
  }
  if (chain === "ahead")
    throw refused({
      what: `LegacySchemaChain: ${dbPath} is on version ${plan.diagnosis.classification.maxVersion}, above the target baseline ${plan.base.manifest.baselineVersion} (${plan.base.origin.label}): a newer vox wrote it.`,
      untouched: "Nothing was changed.",
      next: `Take the target from the vox that wrote it: ${commandFor("cutover", given, "--target-schema vox")} (or --target-schema FILE, a database freshly created by that vox).`,
      details: { chain },
    });
  throw failed({ what: `${dbPath} is ${chain}.`, untouched: "Nothing was changed.", next: "See vox-cutover diagnose." });
}

/** Stage 2's and Stage 4's work a current file still holds, each with its command ("" when none). */
function stagesLeft(plan: CutoverPlan, dbPath: string, given: string): string {
  const left: string[] = [];
  if (plan.diagnosis.sidecar?.exists)
    left.push(
      `a training-telemetry sidecar sits beside it (Stage 2): ${commandFor("sidecar", given, "")} shows it, with --apply --merge it is merged and archived`,
    );
  let pending = 0;
  try {
    const db = openReadOnly(dbPath);
    try {
      pending = pendingLegacyAttempts(db);
    } finally {
      db.close();
    }
  } catch {
    // unreadable now: diagnose names it
  }
  if (pending)
    left.push(`${plural(pending, "legacy news attempt")} not yet in publication_attempts (Stage 4): ${commandFor("news-check", given, "--apply")} copies them`);
  return left.length ? ` Still to do: ${left.join("; ")}.` : "";
}
