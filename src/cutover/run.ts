/** Runs a cutover (--apply), resumes it (--resume), or shows its dry-run; rollback is in ./rollback.ts. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { trialImport } from "../engine/trial.js";
import { adoptableTrial, releaseTrial, sweepKeptTrials } from "../engine/kept-trial.js";
import { hashFileBeside } from "../util/file-hash-beside.js";
import { closeWhenAlone } from "../db/raw-fd.js";
import { applyFinalCounts } from "../report/final-counts.js";
import { stepsFor, type Step } from "../../stages/index.js";
import type { RunStart } from "../../stages/types.js";
import { archivePath } from "../../stages/stage1-legacy.js";
import { chainOf, type Diagnosis } from "../diagnose/diagnose.js";
import { sqliteFailure } from "../db/local.js";
import { failed, usage, VoxError } from "../errors.js";
import { toolVersion } from "../util/paths.js";
import { formatCount, plural } from "../util/count.js";
import { CancelToken, cancelled } from "../util/cancel.js";
import { assertArchiveUnheld, type PrimaryHold } from "../safety/hold.js";
import { checkOwnedPath, checkPlanOption, checkWorkDir, identify, keepModeTree, withWriteSafety, type WriteSafety } from "../safety/guard.js";
import { inodeOf } from "../safety/identity.js";
import { assertNotSpecial, assertReadable } from "../safety/owned.js";
import { faultOf } from "../db/faults.js";
import { whereabouts } from "../engine/whereabouts.js";
import { journalProblemError } from "../safety/runfiles.js";
import { contentState, stopsResume } from "../safety/content-version.js";
import { Journal, JOURNAL_NAME } from "../engine/journal.js";
import { pausePoint } from "../engine/testhooks.js";
import { planChanged } from "../db/plan-digest.js";
import { finishedRun, pointToWorkDir, runKind, unfinishedRun, type RunOnDisk } from "../engine/runs.js";
import { planRollback } from "../rollback/from-run.js";
import { quarantineTableRows } from "../db/ledger.js";
import { emptyReport, finishReport, type CutoverReport } from "../report/cutover-report.js";
import { fillReport, tablesOf } from "../report/fill.js";
import { runStateFromJournal, trackRun, type RunState } from "../engine/run-state.js";
import { refusingGates, writeReports } from "../report/render.js";
import { applyFlags, dryRunMessage, runCommandFor, planCutover, runPaths, runStart, type CutoverOptions, type CutoverPlan } from "./plan.js";
import { rollbackCommand } from "./rollback.js";
import { checkpointIfWal } from "../db/files.js";
import { collectGarbage } from "../util/gc.js";
import { makeContext, reuseOnResume, runPreflight, settleAfterRun, yieldToEventLoop } from "./steps.js";
import { withWorkersAhead } from "../backup/export-workers.js";
import { bigLimit } from "../backup/big-source.js";
import { endIntegrityAhead, startIntegrityAhead } from "../db/integrity.js";
import { DrySidecar } from "./dry-sidecar.js";
import { nothingToDo } from "./nothing-to-do.js";
import { pendingRunRefusal } from "./resume.js";
/** The dry-run's journal and holder check: it writes no journal and holds nothing. */
const nothing = (): void => {};
/** Plans (dry-run), runs (--apply), resumes (--resume) or rolls back (--rollback) a cutover. */
export async function runCutover(given: CutoverOptions): Promise<CutoverReport> {
  try {
    return await cutoverRun(given);
  } finally {
    endIntegrityAhead(); // a check started ahead that no step took (src/db/integrity.ts startIntegrityAhead)
  }
}

async function cutoverRun(given: CutoverOptions): Promise<CutoverReport> {
  const started = performance.now();
  // The run's state is reduced from the events the engine emits (seeded from the journal on resume): the report reads it.
  const tracked = trackRun(given.emit);
  const opts: CutoverOptions = { ...given, emit: tracked.emit };
  const token = opts.token ?? new CancelToken();
  if (opts.rollback && opts.resume) {
    throw usage({
      what: "--rollback and --resume were given together: one undoes the unfinished run, the other continues it.",
      untouched: "Nothing was read or changed.",
      next: "Choose one: cutover --resume --apply, or cutover --rollback --apply.",
    });
  }
  checkPlanOption(opts.plan);
  sweepKeptTrials(); // this user's kept dry-run trials of databases gone or replaced, or older than a day
  // Inputs that are FIFOs or devices would block (a telemetry FIFO hangs after the swap): refused before anything moves.
  for (const f of opts.options?.telemetry ?? []) assertNotSpecial("--telemetry", f, "input");
  assertReadable("--telemetry", opts.options?.telemetry ?? []);
  if (opts.resolved.kind !== "file") await planCutover(opts.resolved); // throws the remote error
  const id = identify(opts.resolved.path!);
  const dbPath = id.real;
  const pending = unfinishedRun(dbPath, opts.workDir);
  if (pending?.problem) throw journalProblemError(pending.workDir, pending.problem);
  if (pending) tracked.seed(runStateFromJournal(pending.state.done));
  if (opts.rollback) return rollbackCommand(opts, id, pending, started);
  if (pending && !opts.resume) throw pendingRunRefusal(pending, dbPath, opts.resolved.path!);
  if (opts.resume && !pending) {
    throw usage({
      what: `There is no unfinished cutover run for ${dbPath} to resume.`,
      untouched: "Nothing was changed.",
      next: "Run vox-cutover cutover (dry-run) to see the plan.",
    });
  }
  const start = pending?.state.start;
  if (opts.resume && !opts.apply) {
    const r = emptyReport("dry-run", start!.chainBefore ?? start!.chain);
    r.workDir = pending!.workDir;
    r.runId = start!.runId;
    r.message = `--resume would continue run ${r.runId} in ${pending!.workDir} after ${pending!.state.lastStep ?? "its start"}; add --apply to do it.`;
    return finishReport(r, started);
  }
  // A fresh run's operator-given paths are checked before anything else (a resume's are its own); by its dry-run too (helper-104: it printed them in its apply line).
  if (!pending) {
    if (opts.workDir) checkWorkDir(opts.workDir, id, "", false);
    if (opts.backupPath) checkOwnedPath({ flag: "--backup", path: opts.backupPath, within: opts.workDir }, id, "");
  }
  // A fresh apply's Stage 0 integrity_check starts on another thread now, beside the plan (db/integrity.ts); taken by its step, else ended with the run (runCutover).
  if (opts.apply && !pending) startIntegrityAhead(dbPath, bigLimit());
  const plan = pending
    ? await planCutover(opts.resolved, {
        workDir: pending.workDir,
        backupPath: start!.backupPath,
        options: start!.options ?? opts.options,
        command: start!.command,
      })
    : await planCutover(opts.resolved, { workDir: opts.workDir, backupPath: opts.backupPath, options: opts.options, command: opts.command });
  // The run state comes from the journal on resume: the file now at the path may be the new one.
  const chain = start ? ((start.chainBefore ?? start.chain) as Diagnosis["chain"]) : plan.diagnosis.chain;
  const steps = start ? stepsFor(start.route ?? (chain === "legacy" ? "rebuild" : chain === "empty" ? "baseline" : "fold"), start.command) : plan.steps;
  const report = emptyReport(opts.apply ? "apply" : "dry-run", chain);
  report.planDigest = start ? start.planDigest : plan.digest;
  // The apply of a dry-run's plan takes its kept trial (engine/kept-trial.ts) before the plan is shown, which says it adopts it; one that --plan refuses (below) leaves it.
  const take = opts.apply && !pending && plan.route === "rebuild" && (opts.plan ?? plan.digest) === plan.digest;
  const trial = take ? adoptableTrial(dbPath, plan.digest, opts.command, opts.emit) : null;
  // Its built file's sha256, taken on another core beside Stage 0 (engine/built-hash.ts: used only while the file's stat says nothing wrote to it since).
  if (trial) trial.builtHash = hashFileBeside(trial.builtPath, { close: closeWhenAlone });
  const ctxBase = { ...plan.paths, base: plan.base, diagnosis: plan.diagnosis, options: plan.options, trial };
  try {
    report.steps = steps.map((s) => ({ id: s.id, stage: s.stage, kind: s.kind, title: s.title, status: "pending", summary: s.describe(ctxBase) }));
    if (steps.length === 0) {
      nothingToDo(report, plan, dbPath, opts.resolved.path!); // or its refusal
      return finishReport(report, started);
    }
    opts.emit({
      type: "plan",
      steps: report.steps.map((s) => ({ id: s.id, stage: s.stage, kind: s.kind as never, title: s.title, description: s.summary })),
      digest: report.planDigest!,
    });
    // The export's workers start now, beside Stage 0 (none when a taken trial is adopted; a resumed run may reuse its backup).
    return await withWorkersAhead(dbPath, !pending && plan.route === "rebuild" && !trial, async () => {
      if (!opts.apply) {
        // The dry-run checks the preconditions too (read-only; the lock is looked at, not taken).
        const ctx = makeContext(opts, plan, pending, "dry-run", token, nothing, runStart(plan, id, start), nothing);
        await runPreflight(ctx, steps, report, opts, true);
        // Stage 2's comparison, as the apply will make it before the swap: against the trial file, or the file itself on the other routes.
        const side = new DrySidecar(dbPath);
        if (plan.route === "rebuild") {
          // The same export and import --apply makes, into a scratch folder, kept for that apply (engine/kept-trial.ts): misfits show now.
          opts.emit({ type: "step-start", id: "trial-import", title: "Trial import (dry-run)" });
          const inspect = steps.some((s) => s.id === "sidecar") ? side.inspect : undefined;
          const keep = { planDigest: report.planDigest!, command: opts.command, refusing: refusingGates(report) }; // not kept while a Stage 0 gate would refuse the apply
          const evidence = await trialImport(dbPath, plan.diagnosis, plan.base, opts.emit, token, inspect, keep, ctx.integrityBeside);
          const { integrity, quarantineTable, ...trial } = evidence; // Stage 0's integrity_check, when it ran beside the trial (stage0-preconditions.ts)
          if (integrity) report.steps.find((s) => s.id === "integrity")!.summary = integrity;
          side.stage1 = quarantineTable; // what legacy_quarantine holds after Stage 1: Stage 2's rows are added to it
          report.trial = trial;
          if (evidence.objects) report.objects = evidence.objects;
          if (evidence.readWhole) report.readWhole = evidence.readWhole;
          opts.emit({ type: "trial", evidence: trial });
          report.tables = tablesOf(tracked.state.importEvidence);
          report.quarantined = evidence.quarantined;
          opts.emit({
            type: "step-done",
            id: "trial-import",
            summary: `${formatCount(evidence.loaded)} of ${formatCount(evidence.rowsIn)} rows would load, ${formatCount(evidence.quarantined)} go to legacy_quarantine whole, ${formatCount(evidence.partial)} load with values of ${plural(evidence.columnsToQuarantine.length, "column")} the target lacks kept in quarantine`,
          });
        } else if (steps.some((s) => s.id === "sidecar")) side.compare(dbPath);
        side.show(report, opts.emit, plan.options.sidecarMerge);
        report.message = dryRunMessage(report, opts.resolved.path!, applyFlags(plan, opts));
        report.workDir = plan.paths.workDir;
        report.backup.path = plan.paths.backupPath;
        report.archive.path = archivePath(plan.paths);
        return finishReport(report, started);
      }
      if (!pending && opts.plan !== undefined && opts.plan !== plan.digest) {
        throw planChanged(opts.plan, plan.digest);
      }
      return withWriteSafety(
        {
          command: opts.command,
          dbPath,
          workDir: plan.paths.workDir,
          workDirOurs: Boolean(pending),
          workDirDefault: !pending && !opts.workDir,
          runId: start?.runId ?? trial?.record.runId, // an adopted trial's build carries its run id
          lock: false, // Stage 0's lock step takes it (keyed on the same identity), so the plan shows it
          holders: true,
          token,
          signals: false, // the driver installs them (cutover/rehearse commands, the wizard's worker)
        },
        (g) => executeSteps(opts, { ...plan, trial }, steps, pending, report, token, started, g, runStart(plan, id, start), () => tracked.state),
      );
    });
  } finally {
    trial?.builtHash?.stop();
    if (trial) releaseTrial(trial, report.workDir ?? plan.paths.workDir); // given back unless this run used it or began (in the work dir it moved to, if it did)
  }
}

async function executeSteps(
  opts: CutoverOptions,
  plan: CutoverPlan,
  steps: Step[],
  pending: RunOnDisk | undefined,
  report: CutoverReport,
  token: CancelToken,
  started: number,
  g: WriteSafety,
  run: RunStart,
  state: () => RunState,
): Promise<CutoverReport> {
  let paths = plan.paths;
  const runId = (report.runId = g.runId);
  report.workDir = paths.workDir;
  report.rollbackCommand = runCommandFor(opts.resolved.path!, paths, "--rollback --apply");
  report.resumeCommand = runCommandFor(opts.resolved.path!, paths, "--resume --apply");
  const journal = new Journal(paths.workDir);
  const ctx = makeContext(
    opts,
    plan,
    pending,
    runId,
    token,
    (phase, state) => {
      journal.append({ e: "swap", phase, ...(state ? { state } : {}) });
      ctx.swapPhase = phase;
      if (state) ctx.swapState = state;
    },
    run,
    (where) => g.checkHolders(where),
  );
  // The swap's hold, now on the archived original, kept until the last check before success.
  let archiveHold: PrimaryHold | null = null;
  ctx.keepArchiveHeld = (h) => {
    archiveHold = h;
  };
  const releaseArchive = () => {
    (archiveHold as PrimaryHold | null)?.release();
    archiveHold = null;
  };
  if (!pending) {
    // Stage 0 runs before anything is written (a refused preflight leaves no work dir or unfinished run); journaled once the run starts.
    const preflight = await runPreflight(ctx, steps, report, opts, false);
    if (g.ensureWorkDir() !== paths.workDir) {
      // Another run took the default name meanwhile (same UTC second): this run's folder is the next one.
      paths = runPaths(paths.dbPath, g.workDir, opts.backupPath);
      Object.assign(ctx, paths);
      journal.path = join(paths.workDir, JOURNAL_NAME);
      report.workDir = paths.workDir;
    }
    pointToWorkDir(paths.dbPath, paths.workDir, runId, (text) => opts.emit({ type: "note", text })); // found beside the database (engine/run-pointers.ts)
    journal.append({
      e: "run-start",
      runId,
      command: opts.command,
      db: paths.dbPath,
      chain: run.chainBefore,
      chainBefore: run.chainBefore,
      maxVersionBefore: run.maxVersionBefore,
      route: plan.route,
      planDigest: report.planDigest!,
      workDir: paths.workDir,
      backupPath: paths.backupPath,
      newPath: paths.newPath,
      archiveDir: paths.archiveDir,
      toolVersion: toolVersion(),
      options: plan.options,
      identity: run.identity,
    });
    g.started();
    for (const p of preflight) journal.append({ e: "step-done", step: p.step.id, outputs: p.outputs });
  } else {
    opts.emit({ type: "note", text: `resuming run ${runId} from ${pending.workDir}` });
  }
  const swapIdx = steps.findIndex((s) => s.swapBoundary);
  let current: string | null = null;
  try {
    for (const [i, step] of steps.entries()) {
      const rep = report.steps[i]!;
      if (!pending && step.stage === 0) continue; // ran above, before the work dir existed
      await yieldToEventLoop(); // let a pending SIGINT/SIGTERM handler run: this is a safe point
      token.throwIfCancelled(`before ${step.id}`);
      const recorded = ctx.outputs.recorded(step.id);
      if (recorded && reuseOnResume(step, ctx, recorded, i, swapIdx)) {
        rep.status = "reused";
        rep.summary = `done in an earlier attempt (${String(recorded.summary ?? "recorded in the journal")})`;
        const earlier = Array.isArray(recorded.warnings) ? recorded.warnings.map(String) : [];
        if (earlier.length) rep.warnings = earlier;
        const { summary: _s, warnings: _w, skipped: wasSkipped, ...outputs } = recorded;
        opts.emit({
          type: "step-done",
          id: step.id,
          summary: rep.summary,
          reused: true,
          outputs,
          ...(wasSkipped === true ? { skipped: true } : {}),
          ...(earlier.length ? { warnings: earlier } : {}),
        });
        continue;
      }
      if (opts.decide) await step.prepare?.(ctx);
      if (step.needsConfirmation && opts.decide) {
        const want = step.confirmation?.(ctx) ?? null;
        if (want) {
          const answer = await opts.decide({
            kind: "confirm",
            step: step.id,
            title: step.title,
            description: step.describe(ctx),
            expected: want.expected,
            ...(want.evidence ? { evidence: want.evidence } : {}),
          });
          if (!("ok" in answer) || !answer.ok) throw cancelled(step.id);
        }
      }
      current = step.id;
      journal.append({ e: "step-start", step: step.id });
      opts.emit({ type: "step-start", id: step.id, title: step.title });
      const t0 = performance.now();
      const res = await step.run(ctx);
      rep.durationMs = Math.round(performance.now() - t0);
      // What a long step dropped (its workers' shared buffers, its read buffers) is freed before the next one allocates: V8 collects it late while SQLite's loops run (peak RSS, docs/benchmark.md).
      if (rep.durationMs > 1000) collectGarbage();
      // Warnings and "skipped" are journaled with the outputs (checked through the step's schema): a resumed run's summary keeps the first attempt's.
      const kept = ctx.outputs.record(step.id, res.outputs, res.summary, res);
      journal.append({ e: "step-done", step: step.id, outputs: kept });
      rep.status = res.skipped ? "skipped" : "done";
      rep.summary = res.summary;
      if (res.warnings?.length) rep.warnings = res.warnings;
      opts.emit({
        type: "step-done",
        id: step.id,
        summary: res.summary,
        outputs: kept,
        ...(res.skipped ? { skipped: true } : {}),
        ...(res.warnings?.length ? { warnings: res.warnings } : {}),
      });
      current = null;
      pausePoint(`after:${step.id}`);
    }
    // Nobody may hold the archived original when the run reports success (this attempt's swap or an earlier one's).
    if (ctx.swapPhase === "new-in-place") assertArchiveUnheld(archivePath(paths), paths.dbPath, archiveHold);
    releaseArchive();
    g.keepMode(paths.backupPath);
    keepModeTree(paths.workDir, g.id);
    // WAL: the final file's frames go into it and its -wal is removed first, so the state recorded is the one later readers
    // see (a -wal left by the last steps would be checkpointed at a later close and read as "changed since the cutover finished": no plain rollback).
    if (existsSync(paths.dbPath)) checkpointIfWal(paths.dbPath);
    const final = existsSync(paths.dbPath) ? contentState(paths.dbPath) : null;
    journal.append({ e: "run-done", outcome: "completed", finalIdentity: final, finalInode: inodeOf(paths.dbPath) });
  } catch (e) {
    releaseArchive();
    // The journal line is best effort here: on a full disk it cannot be written either (the error below still says where the run stood).
    const note = (en: Parameters<Journal["append"]>[0]) => {
      try {
        journal.append(en);
      } catch {
        /* see above */
      }
    };
    if (current) {
      note(
        e instanceof VoxError && e.kind === "interrupted"
          ? { e: "interrupted", step: current, signal: String(e.details?.signal) }
          : {
              e: "step-failed",
              step: current,
              message: e instanceof Error ? e.message : String(e),
              ...(e instanceof VoxError && typeof e.details?.gate === "string" ? { gate: e.details.gate } : {}),
            },
      );
      const rep = report.steps.find((s) => s.id === current);
      if (rep) rep.status = "failed";
      opts.emit({ type: "step-failed", id: current, message: e instanceof Error ? e.message : String(e) });
    } else if (e instanceof VoxError && e.kind === "interrupted") {
      note({ e: "interrupted", step: null, signal: String(e.details?.signal) });
    }
    ctx.lock?.release();
    try {
      writeReports(report, paths.workDir, e);
      keepModeTree(paths.workDir, g.id);
    } catch {
      /* a full disk may refuse the report too: the error below says what happened */
    }
    // A fault (full disk, size limit, lost permission, a path too long) is named with the journal
    // phase and what is where; an unknown error too (never "Unexpected failure" mid-run).
    const fault = e instanceof VoxError ? null : faultOf(e, paths.dbPath);
    const err =
      (e instanceof VoxError ? e : sqliteFailure(e, paths.dbPath)) ??
      failed({
        what: `The run stopped${current ? ` in step ${current}` : ""}: ${e instanceof Error ? e.message : String(e)}.`,
        next: "Keep the work dir (its journal says where the run stood) and report this.",
      });
    const where = whereabouts(paths, ctx.swapPhase, current);
    const stateChanged = ctx.swapPhase !== "none" || fault !== null || !(e instanceof VoxError);
    const what =
      fault && !err.what.includes(fault.words) && !err.what.includes(fault.code) ? `${err.what.replace(/\.$/, "")}: ${fault.words} (${fault.code}).` : err.what;
    const hint = stopsResume(err.details?.gate)
      ? `Roll back: ${report.rollbackCommand}`
      : `${fault ? `${fault.fix}, then resume` : "Resume"}: ${report.resumeCommand} · Roll back: ${report.rollbackCommand}`;
    throw new VoxError(fault ? "failed" : err.kind, {
      what,
      // An interrupt before the swap says so too: where the run stopped, and that the primary is untouched.
      untouched: stateChanged ? where : err.kind === "interrupted" ? `${err.untouched ?? ""} ${where}`.trim() : err.untouched,
      // An interrupt's own words ("the same command plus --resume") would be wrong for migrate: the hint names the command.
      next: `${fault || err.kind === "interrupted" ? "" : (err.next ?? "")} ${hint}`.trim(),
      details: { ...err.details, workDir: paths.workDir, runId, phase: ctx.swapPhase, step: current, ...(fault ? { fault: fault.code } : {}) },
      exitCode: fault ? undefined : err.exitCode,
    });
  }
  ctx.lock?.release();
  fillReport(report, state());
  report.quarantineTable = quarantineTableRows(opts.resolved.path!);
  applyFinalCounts(report, opts.resolved.path!, state().outputs.sidecar);
  report.outcome = "completed";
  const done = finishedRun(paths.dbPath, paths.workDir);
  if (done?.state.start?.runId === runId) report.rollback = planRollback(done, paths.dbPath);
  report.after.chain = await chainOf(opts.resolved, plan.base);
  await settleAfterRun(paths.dbPath);
  report.message = `${runKind(opts.command)} complete: ${opts.resolved.path} is ${report.after.chain}.`;
  finishReport(report, started);
  try {
    writeReports(report, paths.workDir);
    keepModeTree(paths.workDir, g.id);
  } catch (e) {
    // The cutover is complete (journaled); only its report files could not be written.
    const f = faultOf(e);
    opts.emit({
      type: "note",
      text: `The cutover is complete, but its report files could not be written to ${paths.workDir}: ${f ? f.words : e instanceof Error ? e.message : String(e)}. The journal there records the run.`,
    });
  }
  return report;
}
