/** The step loop's parts: the run context, the reuse decision on resume, and Stage 0 (preconditions). */
import { StepOutputs } from "../engine/step-outputs.js";
import type { RunContext, Step } from "../../stages/index.js";
import type { RunStart } from "../../stages/types.js";
import { VoxError } from "../errors.js";
import { signalsSeen, type CancelToken } from "../util/cancel.js";
import { pausePoint } from "../engine/testhooks.js";
import { settleReadersSideFiles } from "../db/files.js";
import { releaseClosedHandles } from "../safety/hold.js";
import type { RunOnDisk } from "../engine/runs.js";
import type { CutoverReport } from "../report/cutover-report.js";
import type { CutoverOptions, CutoverPlan } from "./plan.js";

/** The engine's reuse decision on resume (pure; table-tested). */
export function reuseOnResume(
  step: Pick<Step, "reuse" | "reusable">,
  ctx: RunContext,
  recorded: Record<string, unknown>,
  index: number,
  swapIdx: number,
): boolean {
  if (step.reuse === "never") return false;
  const pastSwap = ctx.swapPhase !== "none" && swapIdx >= 0 && index < swapIdx;
  if (pastSwap || step.reuse === "always") return true;
  return step.reuse === "check" && Boolean(step.reusable?.(ctx, recorded));
}

export function makeContext(
  opts: CutoverOptions,
  plan: CutoverPlan,
  pending: RunOnDisk | undefined,
  runId: string,
  token: CancelToken,
  journalSwap: RunContext["journalSwap"],
  run: RunStart,
  checkHolders: RunContext["checkHolders"],
): RunContext {
  return {
    ...plan.paths,
    base: plan.base,
    diagnosis: plan.diagnosis,
    options: plan.options,
    runId,
    run,
    planDigest: pending ? pending.state.start!.planDigest : plan.digest,
    // A resumed run is its own command's (its ledger row, its words): `cutover --resume` of an import-legacy or migrate run (helper-103).
    command: pending?.state.start?.command ?? opts.command,
    outputs: new StepOutputs(pending?.state.done ?? []),
    emit: opts.emit,
    token,
    breakLock: Boolean(opts.breakLock),
    resuming: Boolean(pending),
    swapPhase: pending?.state.swapPhase ?? "none",
    swapState: pending?.state.swapState ?? null,
    journalSwap,
    decide: opts.decide,
    checkHolders,
    trial: pending ? null : (plan.trial ?? null),
  };
}

/** Runs Stage 0. In a dry-run the lock is only checked (never taken) and nothing is written. */
export async function runPreflight(
  ctx: RunContext,
  steps: Step[],
  report: CutoverReport,
  opts: CutoverOptions,
  dry: boolean,
): Promise<{ step: Step; outputs: Record<string, unknown> }[]> {
  const done: { step: Step; outputs: Record<string, unknown> }[] = [];
  try {
    for (const [i, step] of steps.entries()) {
      if (step.stage !== 0) break;
      opts.emit({ type: "step-start", id: step.id, title: step.title });
      const res = dry && step.check ? await step.check(ctx) : await step.run(ctx);
      const kept = ctx.outputs.record(step.id, res.outputs, res.summary, res);
      report.steps[i]!.status = "done";
      report.steps[i]!.summary = res.summary;
      if (res.warnings?.length) report.steps[i]!.warnings = res.warnings;
      done.push({ step, outputs: kept });
      opts.emit({ type: "step-done", id: step.id, summary: res.summary, outputs: kept, ...(res.warnings?.length ? { warnings: res.warnings } : {}) });
      if (!dry) pausePoint(`after:${step.id}`);
      await yieldToEventLoop();
      ctx.token.throwIfCancelled(`after ${step.id} (nothing was written)`);
    }
  } catch (e) {
    ctx.lock?.release();
    const failedStep = steps[done.length];
    if (failedStep && failedStep.stage === 0) {
      const rep = report.steps[done.length];
      if (rep) rep.status = "failed";
      opts.emit({ type: "step-failed", id: failedStep.id, message: e instanceof Error ? e.message : String(e) });
    }
    if (e instanceof VoxError && e.kind === "interrupted") {
      // Stage 0 only reads: there is no run to resume, so the note must not offer one.
      throw new VoxError("interrupted", {
        what: e.what,
        untouched: "Nothing was written: the preconditions only read (no work dir, journal or lock remains).",
        next: "Run the same command again when ready; there is nothing to resume or roll back.",
        exitCode: e.exitCode,
        details: e.details,
      });
    }
    throw e;
  }
  return done;
}

/** Signal handlers run as macrotasks: a step boundary must give the event loop a turn (two: see signalsSeen). */
export function yieldToEventLoop(): Promise<void> {
  return signalsSeen();
}

/**
 * The end of a finished run, once its report has read the final file: those read-only connections let
 * go (releaseClosedHandles: libsql closes a connection once its statements are collected), SQLite takes
 * away the empty -wal and the -shm they left beside a WAL-mode database (db/files.ts
 * settleReadersSideFiles: only an empty -wal; a connection of another process keeps both), as the swap
 * did for the new file before its rename. Without it they stayed or went by the collector's timing.
 * An application may have the file by now: its lock never makes this wait (busy timeout 0; helper-98
 * saw 5 s under an exclusive lock), and an application that commits and closes while this connection is
 * open has its frames checkpointed into the file at this close, as SQLite's last closer does (no row
 * changes; the rollback's gate sees that write as any other).
 */
export async function settleAfterRun(dbPath: string): Promise<void> {
  await releaseClosedHandles();
  try {
    settleReadersSideFiles(dbPath, 0);
  } catch {
    /* tidying only: the run is complete, and SQLite reads the file with or without those two */
  }
}
