/** `cutover --rollback`: shows the run's `RollbackPlan` (dry-run) or carries it out (--apply), for an unfinished or a finished run. */
import { chainOf } from "../diagnose/diagnose.js";
import { refused, usage } from "../errors.js";
import { withWriteSafety, type DbIdentity } from "../safety/guard.js";
import { journalProblemError } from "../safety/runfiles.js";
import { describeHolder, isStale, readLock } from "../safety/lock.js";
import { finishedRun, type RunOnDisk } from "../engine/runs.js";
import { emptyReport, finishReport, type CutoverReport } from "../report/cutover-report.js";
import { commandFor, type CutoverOptions } from "./plan.js";
import { rollbackLines, type RollbackPlan } from "../rollback/plan.js";
import { planRollback } from "../rollback/from-run.js";
import { executeRollback } from "../rollback/execute.js";

/** `cutover --rollback`: an unfinished run (any phase) or, after a finished cutover, the last finished run. */
export async function rollbackCommand(opts: CutoverOptions, id: DbIdentity, pending: RunOnDisk | undefined, started: number): Promise<CutoverReport> {
  const dbPath = id.real;
  const run = pending ?? finishedRun(dbPath, opts.workDir);
  if (!run) {
    throw usage({
      what: `There is no cutover run of ${dbPath} to roll back (no unfinished run, and no finished one that is not rolled back yet).`,
      untouched: "Nothing was changed.",
      next: "Check --work-dir, or run vox-cutover cutover (dry-run) to see the plan.",
    });
  }
  if (run.problem) throw journalProblemError(run.workDir, run.problem);
  const start = run.state.start!;
  const holder = readLock(dbPath);
  if (holder && holder.runId === start.runId && !isStale(holder)) {
    throw refused({
      what: `Run ${holder.runId} is still in progress (${describeHolder(holder)}).`,
      untouched: "Nothing was changed.",
      next: "Stop it first (Ctrl-C lets it stop at a safe point), then roll back.",
    });
  }
  const r = emptyReport(opts.apply ? "apply" : "dry-run", start.chainBefore ?? start.chain);
  r.workDir = run.workDir;
  r.runId = start.runId;
  const plan = planRollback(run, dbPath);
  r.rollback = plan;
  if (!opts.apply) {
    r.message =
      `--rollback would roll back ${plan.finished ? "the finished" : "the unfinished"} run ${plan.runId}: ${rollbackLines(plan).join(" ")} ${plan.refusal && !(plan.refusal.kind === "changed-since-finish" && opts.force) ? "" : "Add --apply to do it."}`.trim();
    return finishReport(r, started);
  }
  refuseChanged(plan, opts);
  r.message = await withWriteSafety(
    {
      command: `${opts.command}:rollback`,
      dbPath,
      workDir: run.workDir,
      workDirOurs: true,
      runId: start.runId,
      lock: true,
      breakLock: opts.breakLock,
      holders: !plan.replaced, // a run that never moved the file now at the name only closes: who holds that file is not its business
      signals: false,
    },
    async (g) => {
      // Under the lock: the plan again, from what is on disk now (the executor carries out this one).
      const now = planRollback(run, dbPath);
      refuseChanged(now, opts);
      r.rollback = now; // the plan carried out (the wizard words it from this, never from the message)
      return executeRollback(now, run, g.lock);
    },
  );
  r.outcome = "rolled-back";
  r.archive.path = null;
  r.after.chain = await chainOf(opts.resolved);
  return finishReport(r, started);
}

function refuseChanged(plan: RollbackPlan, opts: CutoverOptions): void {
  if (plan.refusal?.kind !== "changed-since-finish" || opts.force) return;
  throw refused({
    what: `The database ${plan.dbPath} changed since the cutover finished (${plan.refusal.change}): rolling back would set those changes aside with the new file.`,
    untouched: "Nothing was changed: the database and the archived original stay where they are.",
    next: `If the changes may be set aside (the new file is kept in ${plan.workDir}), run again with --force: ${commandFor("cutover", opts.resolved.path!, "--rollback --apply --force")}.`,
    details: { workDir: plan.workDir, change: plan.refusal.change },
  });
}
