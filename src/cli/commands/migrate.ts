import { assertNoUnfinishedRun } from "../../cutover/resume.js";
import { formatCount } from "../../util/count.js";
import { diagnose, loadBaselineContext } from "../../diagnose/diagnose.js";
import { applyMigration, planLines, planMigration } from "../../migrate/migrate.js";
import { resolve } from "node:path";
import { withWriteSafety } from "../../safety/guard.js";
import { defaultBackupPath } from "../../layout.js";
import { writeVerifiedBackup } from "../../backup/verified.js";
import { jsonInt } from "../../db/classify.js";
import { EXIT, failed, refused } from "../../errors.js";
import { planChanged } from "../../db/plan-digest.js";
import { checkDrift } from "../../schema/drift.js";
import type { CommandResult, Ctx } from "../run.js";
import type { ResolvedDb } from "../../db/resolve.js";
import { CancelToken, withSignals } from "../../util/cancel.js";
import { resolveWorkDir } from "../../engine/workdir.js";
import { dryRunLine, reportJson, reviewedPlanLine, runCutover, swapDryRun } from "../../cutover/index.js";
import { textRenderer } from "./cutover.js";
import { shellQuote } from "../../util/shell.js";

export async function migrateCommand(ctx: Ctx): Promise<CommandResult> {
  const resolved = ctx.resolve();
  const base = loadBaselineContext();
  const drift = checkDrift(base.manifest, base.policy);
  if (!drift.ok) {
    throw refused({
      what: `The repository drifts: ${drift.problems.join("; ")}.`,
      untouched: "The database was not opened for writing.",
      next: "Run vox-cutover ssot-drift and fix the contract first.",
    });
  }
  const d = await diagnose(resolved, base);
  const plan = planMigration(d, base);
  const { out, opts } = ctx;
  const apply = Boolean(opts.apply);
  out.text(`chain: ${d.chain}${plan.fromVersion !== null ? ` (version ${plan.fromVersion})` : ""} → baseline ${plan.toVersion}`);
  if (plan.steps.length === 0) {
    out.text("nothing to migrate: the database is on the current baseline.");
    return { ok: true, mode: apply ? "apply" : "dry-run", db: resolved, data: { chain: d.chain, planDigest: plan.digest, steps: [], changed: false } };
  }
  out.text(`plan digest: ${plan.digest}`);
  for (const l of planLines(plan)) out.text(l);
  for (const b of plan.blockers) out.text(`BLOCKED: ${b}`);
  const stepsJson = plan.steps.map((s) => ({ id: s.id, kind: s.kind, description: s.description, sql: s.sql }));
  const workDir = opts.workDir ? resolveWorkDir(opts.workDir, resolved.path) : undefined;
  const backupPath = typeof opts.backup === "string" && opts.backup ? resolve(opts.backup) : undefined;
  if (!apply) {
    // A file that holds rows is migrated by the cutover engine (migrateBySwap): its Stage 0 checks (read-only) and steps, shown now.
    const pre =
      plan.needsBackup && resolved.kind === "file" && plan.blockers.length === 0
        ? await swapDryRun({ resolved, command: "migrate", workDir, backupPath, emit: textRenderer(out, { digest: false }) })
        : null;
    out.text("");
    const flags = [workDir ? ` --work-dir ${shellQuote(workDir)}` : "", backupPath ? ` --backup ${shellQuote(backupPath)}` : ""].join("");
    out.text(
      dryRunLine(
        pre?.refusing ?? [],
        `vox-cutover migrate${resolved.kind === "file" ? ` --db ${shellQuote(resolved.path!)}` : ""} --apply --plan ${plan.digest}${flags}`,
      ),
    );
    const reviewed = reviewedPlanLine(opts.plan, plan.digest);
    if (reviewed) out.text(reviewed);
    return {
      ok: plan.blockers.length === 0,
      exitCode: plan.blockers.length ? EXIT.refused : EXIT.ok,
      mode: "dry-run",
      db: resolved,
      data: {
        chain: d.chain,
        planDigest: plan.digest,
        steps: stepsJson,
        blockers: plan.blockers,
        ...(pre ? { refusedBy: pre.refusing, runSteps: pre.report.steps } : {}),
      },
    };
  }
  if (typeof opts.plan === "string" && opts.plan !== plan.digest) {
    throw planChanged(opts.plan, plan.digest);
  }
  if (resolved.kind !== "file") {
    throw failed({
      what: "migrate --apply works on local database files only.",
      untouched: "The remote database was not changed.",
      next: "Run it on the machine that holds the file, or use --db PATH.",
    });
  }
  if (plan.blockers.length) {
    throw refused({
      what: `The database cannot be folded: ${plan.blockers.join("; ")}.`,
      untouched: "Nothing was changed.",
      next: "Use Stage 1 instead: vox-cutover cutover (export, new file, import).",
    });
  }
  if (plan.needsBackup) return migrateBySwap(ctx, resolved, plan.toVersion, stepsJson, workDir, backupPath);
  assertNoUnfinishedRun(resolved.path!); // resumed or rolled back first: this write would be one its rollback does not know
  let madeWorkDir = "";
  const result = await withWriteSafety(
    {
      command: "migrate",
      dbPath: resolved.path!,
      plan: opts.plan,
      workDir,
      owned: typeof opts.backup === "string" ? [{ flag: "--backup", path: opts.backup }] : [],
      breakLock: Boolean(opts.breakLock),
    },
    async (g) =>
      applyMigration(plan, {
        path: resolved.path!,
        workDir: g.workDir,
        targetFacts: base.facts,
        backup: async () => {
          madeWorkDir = g.ensureWorkDir();
          const path = backupPath ?? defaultBackupPath(madeWorkDir);
          out.note(`writing the backup ${path} …`);
          const b = await writeVerifiedBackup({
            dbPath: resolved.path!,
            outPath: path,
            chain: d.chain,
            maxVersion: jsonInt(d.classification.maxVersion),
            baseline: { version: base.manifest.baselineVersion, digest: base.digest },
          });
          g.keepMode(path);
          g.started(); // a verified backup exists: kept whatever happens next
          out.text(
            `backup: ${b.path} verified (${formatCount(b.rows)} rows of ${formatCount(b.tables)} tables re-read, every hash equal to the database's${b.live === "content-version" ? " as the export read it (unchanged since: content version), every count to its count(*)" : " (re-read)"}; sha256 ${b.sha256})`,
          );
          return b;
        },
      }),
  );
  out.text(`migrated: ${resolved.path} is on baseline ${plan.toVersion} (run ${result.runId}).`);
  return {
    ok: true,
    mode: "apply",
    db: resolved,
    data: {
      chain: d.chain,
      planDigest: plan.digest,
      steps: stepsJson,
      runId: result.runId,
      backup: result.backup ? { path: result.backup.path, sha256: result.backup.sha256, verified: true } : null,
      workDir: result.backup ? madeWorkDir : undefined,
      changed: true,
    },
  };
}

/**
 * A fold, a repair or a baseline on a file that holds rows: every change is a swap. The cutover
 * engine runs Stage 0–1 for `migrate` (preconditions, verified backup, a folded copy beside the
 * file, the swap under SQLite's write lock; no Stage 2–4), journaled in the work dir, so
 * `vox-cutover cutover --resume --apply` and `--rollback --apply` work on it like on any cutover.
 */
async function migrateBySwap(
  ctx: Ctx,
  resolved: ResolvedDb,
  toVersion: number,
  stepsJson: unknown[],
  workDir: string | undefined,
  backupPath: string | undefined,
): Promise<CommandResult> {
  const { out, opts } = ctx;
  const token = new CancelToken();
  const render = textRenderer(out);
  const report = await withSignals(token, () =>
    runCutover({
      resolved,
      apply: true,
      workDir,
      backupPath,
      breakLock: Boolean(opts.breakLock),
      command: "migrate",
      // The plan (and its digest) is migrate's own, printed above: the engine's step list is not printed again.
      emit: (e) => e.type !== "plan" && render(e),
      token,
    }),
  );
  out.text(`migrated: ${resolved.path} is on baseline ${toVersion} (run ${report.runId}); the original is archived at ${report.archive.path}.`);
  out.text(`roll back: ${report.rollbackCommand}`);
  return {
    ok: true,
    mode: "apply",
    db: resolved,
    data: {
      ...reportJson(report),
      chain: report.before.chain,
      steps: stepsJson,
      runId: report.runId,
      backup: report.backup.path ? { path: report.backup.path, sha256: report.backup.sha256, verified: report.backup.verified } : null,
      workDir: report.workDir,
      archive: report.archive,
      changed: true,
    },
  };
}
