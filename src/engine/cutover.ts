import { existsSync, linkSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { trialImport } from "./trial.js";
import { applyFinalCounts, countsMarkdown, type CountedReport, type FinalCounts } from "../report/final.js";
import { formatCount } from "../util/count.js";
import type { ImportEvidence } from "./events.js";
import { routeFor, stepsFor, type Route, type RunContext, type RunOptions, type RunPaths, type Step } from "../../stages/index.js";
import type { RunState } from "../../stages/types.js";
import { archivePath } from "../../stages/stage1-legacy.js";
import { diagnose, loadBaselineContext, shellQuote, type BaselineContext, type Diagnosis } from "../db/diagnose.js";
import { allRows, openReadOnly, openReadWrite } from "../db/local.js";
import { fsyncPath, moveDatabaseFiles } from "../db/files.js";
import type { ResolvedDb } from "../db/resolve.js";
import { failed, refused, usage, VoxError } from "../errors.js";
import { archivedPath, archiveDirOf, DB_SIDE_SUFFIXES, defaultBackupPath, isOwnTempBeside, isPartial, newFilePath, ROLLED_BACK_NEW, sidecarBeside, SIDECAR_NAME } from "../layout.js";
import { toolVersion } from "../util/paths.js";
import { CancelToken, cancelled } from "./cancel.js";
import type { Decide, Emit } from "./events.js";
import { describeHolders, openHolders } from "../safety/holders.js";
import { checkOwnedPath, checkPlanOption, checkWorkDir, identify, keepModeTree, planDefaultWorkDir, realPathOf, withWriteSafety, type DbIdentity, type WriteSafety } from "../safety/guard.js";
import { inodeOf, sameInode } from "../safety/identity.js";
import { assertNotSpecial } from "../safety/owned.js";
import { faultOf } from "../safety/faults.js";
import { whereabouts } from "./whereabouts.js";
import { assertRecorded, journalProblemError } from "../safety/runfiles.js";
import { describeContentChange, contentState, sameContent } from "../safety/content-version.js";
import { Journal, JOURNAL_NAME } from "./journal.js";
import { pausePoint } from "./testhooks.js";
import { describeHolder, isStale, readLock, removeDeadLocks } from "../safety/lock.js";
import { planChanged, planDigest } from "../db/plan-digest.js";
import { finishedRun, unfinishedRun, type RunOnDisk } from "./runs.js";
import { sqliteFailure } from "../db/local.js";

export interface CutoverOptions {
  resolved: ResolvedDb;
  apply: boolean;
  plan?: string;
  workDir?: string;
  backupPath?: string;
  resume?: boolean;
  rollback?: boolean;
  /** --rollback after a finished cutover although the database changed since. */
  force?: boolean;
  breakLock?: boolean;
  command: string;
  emit: Emit;
  token?: CancelToken;
  /** Stage 2–3 choices (defaults: merge the sidecar, no telemetry files). */
  options?: Partial<RunOptions>;
  /** A driver that asks the operator (the wizard): typed confirmations and Stage 2–3 choices. */
  decide?: Decide;
}

export interface StepReport {
  id: string;
  stage: number;
  kind: string;
  title: string;
  status: "pending" | "done" | "skipped" | "failed" | "reused";
  summary: string;
  durationMs?: number;
}

export interface CutoverReport {
  mode: "dry-run" | "apply";
  outcome: "planned" | "completed" | "nothing-to-do" | "already-done" | "rolled-back";
  runId: string | null;
  planDigest: string | null;
  before: { chain: string };
  after: { chain: string };
  workDir: string | null;
  backup: { path: string | null; verified: boolean; sha256: string | null };
  archive: { path: string | null };
  newPath: string | null;
  tables: { name: string; target: string | null; rowsBefore: number; rowsAfter: number; quarantined: number; reasons?: Record<string, number>; partial?: number; columns?: { column: string; nonNull: number }[] }[];
  quarantined: number;
  /** The dry-run's trial import (rebuild route). */
  trial?: ImportEvidence;
  /** The old file's own indexes, triggers and views: carried or named with SQL and reason (rebuild route). */
  objects?: ImportEvidence["objects"];
  /** After a finished run: every table of the final file counted (src/report/final.ts); the sidecar's tables (Stage 2). */
  final?: FinalCounts | null;
  sidecar?: CountedReport["sidecar"];
  /** After --apply: the rows legacy_quarantine holds (import, partial values, sequences, sidecar conflicts), per reason. */
  quarantineTable?: { rows: number; byReason: Record<string, number> } | null;
  steps: StepReport[];
  rollbackCommand: string | null;
  resumeCommand: string | null;
  message: string;
  durationMs: number;
}

export function runPaths(dbPath: string, workDir: string, backupPath?: string): RunPaths {
  return {
    dbPath,
    workDir,
    backupPath: backupPath ? resolve(backupPath) : defaultBackupPath(workDir),
    newPath: newFilePath(dbPath),
    archiveDir: archiveDirOf(workDir),
  };
}

function commandFor(c: string, dbPath: string, extra: string): string {
  return `vox-cutover ${c} --db ${shellQuote(dbPath)} ${extra}`.trim();
}

export interface CutoverPlan {
  base: BaselineContext;
  diagnosis: Diagnosis;
  steps: Step[];
  route: Route;
  paths: RunPaths;
  digest: string;
  options: RunOptions;
}

function runOptions(o?: Partial<RunOptions>): RunOptions {
  return { sidecarMerge: o?.sidecarMerge ?? true, telemetry: o?.telemetry ?? [] };
}

export async function planCutover(resolved: ResolvedDb, opts: { workDir?: string; backupPath?: string; options?: Partial<RunOptions> } = {}): Promise<CutoverPlan> {
  if (resolved.kind !== "file") {
    throw failed({ what: "The cutover works on local database files.", untouched: "The remote database was not changed.", next: "Run it where the file is, with --db PATH." });
  }
  const base = loadBaselineContext();
  const diagnosis = await diagnose(resolved, base);
  if (diagnosis.error) throw diagnosis.error;
  // Every path of the run hangs off the database's real path: a symbolic link keeps pointing at the new file.
  const real = realPathOf(resolved.path!);
  const workDir = opts.workDir ?? planDefaultWorkDir(real);
  const paths = runPaths(real, workDir, opts.backupPath);
  const route = routeFor(diagnosis, base);
  const steps = stepsFor(route);
  const digest = planDigest({
    db: resolved.display,
    chain: diagnosis.chain,
    target: base.digest,
    sizeBytes: diagnosis.sizeBytes,
    walBytes: diagnosis.walBytes,
    changeCounter: diagnosis.changeCounter,
    ...(diagnosis.contentVersion ? { contentVersion: diagnosis.contentVersion } : {}),
    steps: [...steps.map((s) => `${s.id}:${s.kind}`), JSON.stringify(runOptions(opts.options))],
  });
  return { base, diagnosis, steps, route, paths, digest, options: runOptions(opts.options) };
}

function emptyReport(mode: CutoverReport["mode"], chain: string): CutoverReport {
  return {
    mode,
    outcome: "planned",
    runId: null,
    planDigest: null,
    before: { chain },
    after: { chain },
    workDir: null,
    backup: { path: null, verified: false, sha256: null },
    archive: { path: null },
    newPath: null,
    tables: [],
    quarantined: 0,
    steps: [],
    rollbackCommand: null,
    resumeCommand: null,
    message: "",
    durationMs: 0,
  };
}

function lastCutoverLedger(dbPath: string): { run_id: string; created_at: string } | null {
  try {
    const db = openReadOnly(dbPath);
    try {
      const has = allRows(db, "SELECT 1 FROM sqlite_master WHERE name = 'cutover_ledger'").length;
      if (!has) return null;
      const r = allRows(db, "SELECT run_id, created_at FROM cutover_ledger WHERE command IN ('cutover', 'rehearse', 'wizard') AND mode = 'apply' ORDER BY id DESC LIMIT 1");
      return r.length ? { run_id: String(r[0]!.run_id), created_at: String(r[0]!.created_at) } : null;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

/** Plans (dry-run), runs (--apply), resumes (--resume) or rolls back (--rollback) a cutover. */
export async function runCutover(opts: CutoverOptions): Promise<CutoverReport> {
  const started = performance.now();
  const token = opts.token ?? new CancelToken();
  if (opts.rollback && opts.resume) {
    throw usage({ what: "--rollback and --resume were given together: one undoes the unfinished run, the other continues it.", untouched: "Nothing was read or changed.", next: "Choose one: cutover --resume --apply, or cutover --rollback --apply." });
  }
  checkPlanOption(opts.plan);
  // Inputs that are FIFOs or devices would block (a telemetry FIFO hangs after the swap): refused before anything moves.
  for (const f of opts.options?.telemetry ?? []) assertNotSpecial("--telemetry", f, "input");
  if (opts.resolved.kind !== "file") await planCutover(opts.resolved); // throws the remote error
  const id = identify(opts.resolved.path!);
  const dbPath = id.real;
  const pending = unfinishedRun(dbPath, opts.workDir);
  if (pending?.problem) throw journalProblemError(pending.workDir, pending.problem);
  if (opts.rollback) return rollbackCommand(opts, id, pending, started);
  if (pending && !opts.resume) {
    const holder = readLock(dbPath);
    const live = holder && holder.runId === pending.state.start!.runId && !isStale(holder);
    if (live) {
      throw refused({
        what: `Run ${holder.runId} of this database is still running (${describeHolder(holder)}).`,
        untouched: "Nothing was changed by this command.",
        next: "Wait for it to finish, or stop it (Ctrl-C stops it at a safe point); then resume or roll it back.",
        details: { workDir: pending.workDir, lock: holder },
      });
    }
    throw refused({
      what: `An unfinished cutover of this database is recorded in ${pending.workDir} (stopped ${pending.state.interruptedAt ? `at ${pending.state.interruptedAt}` : `after ${pending.state.lastStep ?? "its start"}`}${pending.state.swapPhase !== "none" ? `, swap phase ${pending.state.swapPhase}` : ""}).`,
      untouched: "Nothing was changed.",
      next: `Resume it: ${commandFor("cutover", opts.resolved.path!, "--resume --apply")} — or undo it: ${commandFor("cutover", opts.resolved.path!, "--rollback --apply")}.`,
      details: { workDir: pending.workDir },
    });
  }
  if (opts.resume && !pending) {
    throw usage({ what: `There is no unfinished cutover run for ${dbPath} to resume.`, untouched: "Nothing was changed.", next: "Run vox-cutover cutover (dry-run) to see the plan." });
  }
  const start = pending?.state.start;
  if (opts.resume && !opts.apply) {
    const r = emptyReport("dry-run", start!.chainBefore ?? start!.chain);
    r.workDir = pending!.workDir;
    r.runId = start!.runId;
    r.message = `--resume would continue run ${r.runId} in ${pending!.workDir} after ${pending!.state.lastStep ?? "its start"}; add --apply to do it.`;
    return finish(r, started);
  }
  // A fresh run's operator-given paths are checked before anything else (a resume's are its own).
  if (!pending && opts.apply) {
    if (opts.workDir) checkWorkDir(opts.workDir, id, "", false);
    if (opts.backupPath) checkOwnedPath({ flag: "--backup", path: opts.backupPath, within: opts.workDir }, id, "");
  }
  const plan = pending
    ? await planCutover(opts.resolved, { workDir: pending.workDir, backupPath: start!.backupPath, options: start!.options ?? opts.options })
    : await planCutover(opts.resolved, { workDir: opts.workDir, backupPath: opts.backupPath, options: opts.options });
  // The run state comes from the journal on resume: the file now at the path may be the new one.
  const chain = start ? ((start.chainBefore ?? start.chain) as Diagnosis["chain"]) : plan.diagnosis.chain;
  const steps = start ? stepsFor(start.route ?? (chain === "legacy" ? "rebuild" : chain === "empty" ? "baseline" : "fold")) : plan.steps;
  const report = emptyReport(opts.apply ? "apply" : "dry-run", chain);
  report.planDigest = start ? start.planDigest : plan.digest;
  const ctxBase = { ...plan.paths, base: plan.base, diagnosis: plan.diagnosis, options: plan.options };
  report.steps = steps.map((s) => ({ id: s.id, stage: s.stage, kind: s.kind, title: s.title, status: "pending", summary: s.describe(ctxBase) }));
  if (steps.length === 0) {
    report.outcome = "nothing-to-do";
    if (chain === "current") {
      const led = lastCutoverLedger(dbPath);
      if (led) {
        report.outcome = "already-done";
        report.message = `Nothing to do: ${dbPath} is on the current baseline; the ledger records the cutover run ${led.run_id} at ${led.created_at}.`;
      } else report.message = `Nothing to do: ${dbPath} is on the current baseline ${plan.base.manifest.baselineVersion}.`;
      return finish(report, started);
    }
    if (chain === "missing") {
      report.message = `Nothing to cut over: there is no database at ${opts.resolved.path}. ${commandFor("migrate", opts.resolved.path!, "--apply")} creates it on the baseline.`;
      return finish(report, started);
    }
    if (chain === "ahead") {
      throw refused({ what: `LegacySchemaChain: ${dbPath} is on version ${plan.diagnosis.classification.maxVersion}, above the target baseline ${plan.base.manifest.baselineVersion} (${plan.base.origin.label}): a newer vox wrote it.`, untouched: "Nothing was changed.", next: `Take the target from the vox that wrote it: ${commandFor("cutover", opts.resolved.path!, "--target-schema vox")} (or --target-schema FILE, a database freshly created by that vox).`, details: { chain } });
    }
    throw failed({ what: `${dbPath} is ${chain}.`, untouched: "Nothing was changed.", next: "See vox-cutover diagnose." });
  }
  opts.emit({ type: "plan", steps: report.steps.map((s) => ({ id: s.id, stage: s.stage, kind: s.kind as never, title: s.title, description: s.summary })), digest: report.planDigest! });
  if (!opts.apply) {
    // The dry-run checks the preconditions too (read-only; the lock is looked at, not taken).
    const ctx = makeContext(opts, plan, pending, "dry-run", token, () => {}, runState(plan, id, start), () => {});
    await runPreflight(ctx, steps, report, opts, true);
    if (plan.route === "rebuild") {
      // The same export and import --apply makes, into a scratch folder (removed): misfits show now.
      opts.emit({ type: "step-start", id: "trial-import", title: "Trial import (dry-run)" });
      const evidence = await trialImport(dbPath, plan.diagnosis, plan.base, opts.emit, token);
      report.trial = evidence;
      if (evidence.objects) report.objects = evidence.objects;
      report.tables = evidence.tables.map((t) => ({ name: t.name, target: t.target, rowsBefore: t.rowsIn, rowsAfter: t.loaded, quarantined: t.quarantined, reasons: t.reasons, partial: t.partial, columns: t.columns }));
      report.quarantined = evidence.quarantined;
      opts.emit({ type: "trial", evidence });
      opts.emit({ type: "step-done", id: "trial-import", summary: `${evidence.loaded} of ${evidence.rowsIn} rows would load, ${evidence.quarantined} go to legacy_quarantine whole, ${evidence.partial} load with values of ${evidence.columnsToQuarantine.length} column(s) the target lacks kept in quarantine` });
    }
    const scan = openHolders(id.real, id.dev && id.ino ? { dev: id.dev, ino: id.ino } : null);
    if (!scan.supported) opts.emit({ type: "note", text: "This system does not show which processes hold a file open (no /proc): stop every application using the database before --apply." });
    else if (scan.holders.length) opts.emit({ type: "note", text: `--apply would be refused now: ${describeHolders(scan.holders)}. Stop that application first.` });
    report.message = `dry-run: nothing was changed. To run exactly this plan: ${commandFor("cutover", opts.resolved.path!, `--apply --plan ${report.planDigest}`)}`;
    report.workDir = plan.paths.workDir;
    report.backup.path = plan.paths.backupPath;
    report.archive.path = archivePath(plan.paths);
    return finish(report, started);
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
      runId: start?.runId,
      lock: false, // Stage 0's lock step takes it (keyed on the same identity), so the plan shows it
      holders: true,
      token,
      signals: false, // the driver installs them (cutover/rehearse commands, the wizard's worker)
    },
    (g) => executeSteps(opts, plan, steps, pending, report, token, started, g, runState(plan, id, start)),
  );
}

function runState(plan: CutoverPlan, id: DbIdentity, start: RunOnDisk["state"]["start"] | undefined): RunState {
  return {
    chainBefore: start ? (start.chainBefore ?? start.chain) : plan.diagnosis.chain,
    maxVersionBefore: start ? (start.maxVersionBefore ?? null) : (plan.diagnosis.classification.maxVersion?.toString() ?? null),
    identity: start?.identity ?? { path: id.path, real: id.real, dev: id.dev, ino: id.ino },
    mode: id.mode,
    uid: id.uid,
    gid: id.gid,
  };
}

async function executeSteps(opts: CutoverOptions, plan: CutoverPlan, steps: Step[], pending: RunOnDisk | undefined, report: CutoverReport, token: CancelToken, started: number, g: WriteSafety, run: RunState): Promise<CutoverReport> {
  let paths = plan.paths;
  const runId = g.runId;
  report.runId = runId;
  report.workDir = paths.workDir;
  report.rollbackCommand = commandFor("cutover", opts.resolved.path!, "--rollback --apply");
  report.resumeCommand = commandFor("cutover", opts.resolved.path!, "--resume --apply");
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
  if (!pending) {
    // Stage 0 (preconditions) runs before anything is written: a refused preflight leaves no work
    // dir and no unfinished run behind; its results are journaled once the run starts.
    const preflight = await runPreflight(ctx, steps, report, opts, false);
    if (g.ensureWorkDir() !== paths.workDir) {
      // Another run took the default name meanwhile (same UTC second): this run's folder is the next one.
      paths = runPaths(paths.dbPath, g.workDir, opts.backupPath);
      Object.assign(ctx, paths);
      journal.path = join(paths.workDir, JOURNAL_NAME);
      report.workDir = paths.workDir;
    }
    journal.append({ e: "run-start", runId, command: opts.command, db: paths.dbPath, chain: run.chainBefore, chainBefore: run.chainBefore, maxVersionBefore: run.maxVersionBefore, route: plan.route, planDigest: report.planDigest!, workDir: paths.workDir, backupPath: paths.backupPath, newPath: paths.newPath, archiveDir: paths.archiveDir, toolVersion: toolVersion(), options: plan.options, identity: run.identity });
    g.started();
    for (const p of preflight) journal.append({ e: "step-done", step: p.step.id, outputs: { ...p.outputs, summary: p.summary } });
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
      const recorded = ctx.outputs.get(step.id);
      if (recorded && reuseOnResume(step, ctx, recorded, i, swapIdx)) {
        rep.status = "reused";
        rep.summary = `done in an earlier attempt (${String(recorded.summary ?? "recorded in the journal")})`;
        opts.emit({ type: "step-done", id: step.id, summary: rep.summary, reused: true });
        continue;
      }
      if (opts.decide) await step.prepare?.(ctx);
      if (step.needsConfirmation && opts.decide) {
        const want = step.confirmation?.(ctx) ?? null;
        if (want) {
          const answer = await opts.decide({ kind: "confirm", step: step.id, title: step.title, description: step.describe(ctx), expected: want.expected, ...(want.evidence ? { evidence: want.evidence } : {}) });
          if (!("ok" in answer) || !answer.ok) throw cancelled(step.id);
        }
      }
      current = step.id;
      journal.append({ e: "step-start", step: step.id });
      opts.emit({ type: "step-start", id: step.id, title: step.title });
      const t0 = performance.now();
      const res = await step.run(ctx);
      rep.durationMs = Math.round(performance.now() - t0);
      ctx.outputs.set(step.id, { ...res.outputs, summary: res.summary });
      journal.append({ e: "step-done", step: step.id, outputs: { ...res.outputs, summary: res.summary } });
      rep.status = "done";
      rep.summary = res.summary;
      opts.emit({ type: "step-done", id: step.id, summary: res.summary, outputs: res.outputs });
      current = null;
      pausePoint(`after:${step.id}`);
    }
    g.keepMode(paths.backupPath);
    keepModeTree(paths.workDir, g.id);
    const final = existsSync(paths.dbPath) ? contentState(paths.dbPath) : null;
    journal.append({ e: "run-done", outcome: "completed", finalIdentity: final, finalInode: inodeOf(paths.dbPath) });
  } catch (e) {
    // The journal line is best effort here: on a full disk it cannot be written either (the error below still says where the run stood).
    const note = (en: Parameters<Journal["append"]>[0]) => {
      try {
        journal.append(en);
      } catch {
        /* see above */
      }
    };
    if (current) {
      note(e instanceof VoxError && e.kind === "interrupted" ? { e: "interrupted", step: current, signal: String(e.details?.signal) } : { e: "step-failed", step: current, message: e instanceof Error ? e.message : String(e) });
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
    const err = (e instanceof VoxError ? e : sqliteFailure(e, paths.dbPath)) ?? failed({ what: `The run stopped${current ? ` in step ${current}` : ""}: ${e instanceof Error ? e.message : String(e)}.`, next: "Keep the work dir (its journal says where the run stood) and report this." });
    const where = whereabouts(paths, ctx.swapPhase, current);
    const stateChanged = ctx.swapPhase !== "none" || fault !== null || !(e instanceof VoxError);
    const what = fault && !err.what.includes(fault.words) && !err.what.includes(fault.code) ? `${err.what.replace(/\.$/, "")}: ${fault.words} (${fault.code}).` : err.what;
    const hint = `${fault ? `${fault.fix}, then resume` : "Resume"}: ${report.resumeCommand} · Roll back: ${report.rollbackCommand}`;
    throw new VoxError(fault ? "failed" : err.kind, { what, untouched: stateChanged ? where : err.untouched, next: `${fault ? "" : (err.next ?? "")} ${hint}`.trim(), details: { ...err.details, workDir: paths.workDir, runId, phase: ctx.swapPhase, step: current, ...(fault ? { fault: fault.code } : {}) }, exitCode: fault ? undefined : err.exitCode });
  }
  ctx.lock?.release();
  fillReport(report, ctx, paths);
  report.quarantineTable = quarantineTableRows(opts.resolved.path!);
  applyFinalCounts(report, opts.resolved.path!, ctx.outputs.get("sidecar"));
  report.outcome = "completed";
  report.after.chain = (await diagnose(opts.resolved, plan.base)).chain;
  report.message = `cutover complete: ${opts.resolved.path} is ${report.after.chain}.`;
  finish(report, started);
  try {
    writeReports(report, paths.workDir);
    keepModeTree(paths.workDir, g.id);
  } catch (e) {
    // The cutover is complete (journaled); only its report files could not be written.
    const f = faultOf(e);
    opts.emit({ type: "note", text: `The cutover is complete, but its report files could not be written to ${paths.workDir}: ${f ? f.words : e instanceof Error ? e.message : String(e)}. The journal there records the run.` });
  }
  return report;
}

/** The engine's reuse decision on resume (pure; table-tested). */
export function reuseOnResume(step: Pick<Step, "reuse" | "reusable">, ctx: RunContext, recorded: Record<string, unknown>, index: number, swapIdx: number): boolean {
  if (step.reuse === "never") return false;
  const pastSwap = ctx.swapPhase !== "none" && swapIdx >= 0 && index < swapIdx;
  if (pastSwap || step.reuse === "always") return true;
  return step.reuse === "check" && Boolean(step.reusable?.(ctx, recorded));
}

/** What legacy_quarantine holds now, per reason key: the count the summary shows is the table's. */
function quarantineTableRows(dbPath: string): { rows: number; byReason: Record<string, number> } | null {
  try {
    const db = openReadOnly(dbPath);
    try {
      if (!allRows(db, "SELECT 1 FROM sqlite_master WHERE name = 'legacy_quarantine'").length) return { rows: 0, byReason: {} };
      const byReason: Record<string, number> = {};
      let rows = 0;
      for (const r of allRows(db, "SELECT CASE WHEN instr(reason, ':') > 0 THEN substr(reason, 1, instr(reason, ':') - 1) ELSE reason END AS k, count(*) AS n FROM legacy_quarantine GROUP BY 1")) {
        byReason[String(r.k)] = Number(r.n);
        rows += Number(r.n);
      }
      return { rows, byReason };
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

function fillReport(report: CutoverReport, ctx: RunContext, paths: RunPaths): void {
  const exp = ctx.outputs.get("export");
  const ver = ctx.outputs.get("verify-backup");
  const imp = ctx.outputs.get("build-import");
  const swap = ctx.outputs.get("swap");
  report.backup = { path: exp ? paths.backupPath : null, verified: Boolean(ver?.verified), sha256: (exp?.sha256 as string) ?? null };
  report.archive = { path: (swap?.archive as string) ?? null };
  report.newPath = imp ? paths.newPath : null;
  const tables = (imp?.tables as { name: string; target: string; rows: number; loaded: number; quarantined: number; reasons?: Record<string, number>; partial?: number; columns?: Record<string, number> }[]) ?? [];
  report.tables = tables
    .filter((t) => t.name !== "sqlite_sequence")
    .map((t) => ({ name: t.name, target: t.target || null, rowsBefore: t.rows, rowsAfter: t.loaded, quarantined: t.quarantined, reasons: t.reasons ?? {}, partial: t.partial ?? 0, columns: Object.entries(t.columns ?? {}).map(([column, nonNull]) => ({ column, nonNull })) }));
  report.quarantined = Number(imp?.quarantined ?? 0);
  const objects = (imp?.evidence as ImportEvidence | undefined)?.objects;
  if (objects) report.objects = objects;
  if (!imp && exp) {
    report.tables = ((exp.tables as { name: string; rows: number }[]) ?? []).filter((t) => t.name !== "sqlite_sequence").map((t) => ({ name: t.name, target: t.name, rowsBefore: t.rows, rowsAfter: t.rows, quarantined: 0 }));
  }
}

function makeContext(opts: CutoverOptions, plan: CutoverPlan, pending: RunOnDisk | undefined, runId: string, token: CancelToken, journalSwap: RunContext["journalSwap"], run: RunState, checkHolders: RunContext["checkHolders"]): RunContext {
  return {
    ...plan.paths,
    base: plan.base,
    diagnosis: plan.diagnosis,
    options: plan.options,
    runId,
    run,
    planDigest: pending ? pending.state.start!.planDigest : plan.digest,
    command: opts.command,
    outputs: new Map(pending?.state.done ?? []),
    emit: opts.emit,
    token,
    breakLock: Boolean(opts.breakLock),
    swapPhase: pending?.state.swapPhase ?? "none",
    swapState: pending?.state.swapState ?? null,
    journalSwap,
    decide: opts.decide,
    checkHolders,
  };
}

/** Runs Stage 0. In a dry-run the lock is only checked (never taken) and nothing is written. */
async function runPreflight(ctx: RunContext, steps: Step[], report: CutoverReport, opts: CutoverOptions, dry: boolean): Promise<{ step: Step; outputs: Record<string, unknown>; summary: string }[]> {
  const done: { step: Step; outputs: Record<string, unknown>; summary: string }[] = [];
  try {
    for (const [i, step] of steps.entries()) {
      if (step.stage !== 0) break;
      opts.emit({ type: "step-start", id: step.id, title: step.title });
      const res = dry && step.check ? await step.check(ctx) : await step.run(ctx);
      ctx.outputs.set(step.id, { ...res.outputs, summary: res.summary });
      report.steps[i]!.status = "done";
      report.steps[i]!.summary = res.summary;
      done.push({ step, outputs: res.outputs, summary: res.summary });
      opts.emit({ type: "step-done", id: step.id, summary: res.summary, outputs: res.outputs });
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

/** Signal handlers run as macrotasks: a step boundary must give the event loop a turn. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

function finish(r: CutoverReport, started: number): CutoverReport {
  r.durationMs = Math.round(performance.now() - started);
  return r;
}

export function reportMarkdown(r: CutoverReport, error?: unknown): string {
  const lines = [
    `# vox-cutover report`,
    "",
    `- outcome: **${error ? "failed" : r.outcome}**${error ? ` — ${error instanceof Error ? error.message : String(error)}` : ""}`,
    `- run: ${r.runId ?? "-"} · plan digest: ${r.planDigest ?? "-"}`,
    `- chain: ${r.before.chain} → ${r.after.chain}`,
    `- backup: ${r.backup.path ?? "-"} (verified: ${r.backup.verified ? "yes" : "no"}${r.backup.sha256 ? `, sha256 ${r.backup.sha256}` : ""})`,
    `- archive (the old primary): ${r.archive.path ?? "-"}`,
    `- quarantined rows: ${formatCount(r.quarantineTable?.rows ?? r.quarantined)}`,
    `- roll back: \`${r.rollbackCommand ?? "-"}\``,
    `- time: ${r.durationMs} ms`,
    "",
    "## Steps",
    "",
    "| stage | step | kind | status | summary |",
    "|---|---|---|---|---|",
    ...r.steps.map((s) => `| ${s.stage} | ${s.id} | ${s.kind} | ${s.status} | ${s.summary.replace(/\|/g, "\\|")} |`),
  ];
  lines.push(...countsMarkdown(r));
  if (r.objects && (r.objects.carried.length || r.objects.notCarried.length)) {
    lines.push("", "## Indexes, triggers and views the target does not define", "", `${r.objects.carried.length} carried into the new file, ${r.objects.notCarried.length} not carried (they stay in the archive).`, "");
    for (const x of r.objects.carried) lines.push(`- carried: ${x.type} \`${x.name}\` on ${x.table}`);
    for (const x of r.objects.notCarried) lines.push(`- **not carried**: ${x.type} \`${x.name}\` on ${x.table} — ${x.reason}`, "", "  ```sql", `  ${x.sql}`, "  ```");
  }
  return lines.join("\n") + "\n";
}

export function reportJson(r: CutoverReport): Record<string, unknown> {
  return {
    outcome: r.outcome,
    runId: r.runId,
    planDigest: r.planDigest,
    before: r.before,
    after: r.after,
    workDir: r.workDir,
    backup: r.backup,
    archive: r.archive,
    tables: r.tables,
    quarantined: r.quarantined,
    ...(r.final ? { final: r.final } : {}),
    ...(r.sidecar ? { sidecar: r.sidecar } : {}),
    ...(r.trial ? { trial: r.trial } : {}),
    ...(r.objects ? { objects: r.objects } : {}),
    ...(r.quarantineTable ? { quarantineTable: r.quarantineTable } : {}),
    steps: r.steps,
    rollbackCommand: r.rollbackCommand,
    message: r.message,
  };
}

function writeReports(r: CutoverReport, workDir: string, error?: unknown): void {
  if (!existsSync(workDir)) return;
  writeFileSync(join(workDir, "report.json"), JSON.stringify({ ...reportJson(r), durationMs: r.durationMs, error: error ? String(error instanceof Error ? error.message : error) : undefined }, null, 2) + "\n");
  writeFileSync(join(workDir, "report.md"), reportMarkdown(r, error));
}

/** `cutover --rollback`: an unfinished run (any phase) or, after a finished cutover, the last finished run. */
async function rollbackCommand(opts: CutoverOptions, id: DbIdentity, pending: RunOnDisk | undefined, started: number): Promise<CutoverReport> {
  const dbPath = id.real;
  const run = pending ?? finishedRun(dbPath, opts.workDir);
  if (!run) {
    throw usage({ what: `There is no cutover run of ${dbPath} to roll back (no unfinished run, and no finished one that is not rolled back yet).`, untouched: "Nothing was changed.", next: "Check --work-dir, or run vox-cutover cutover (dry-run) to see the plan." });
  }
  if (run.problem) throw journalProblemError(run.workDir, run.problem);
  const start = run.state.start!;
  const holder = readLock(dbPath);
  if (holder && holder.runId === start.runId && !isStale(holder)) {
    throw refused({ what: `Run ${holder.runId} is still in progress (${describeHolder(holder)}).`, untouched: "Nothing was changed.", next: "Stop it first (Ctrl-C lets it stop at a safe point), then roll back." });
  }
  const r = emptyReport(opts.apply ? "apply" : "dry-run", start.chainBefore ?? start.chain);
  r.workDir = run.workDir;
  r.runId = start.runId;
  const finished = run.state.finished;
  const change = finished ? changeSinceFinish(run, dbPath) : null;
  if (!opts.apply) {
    r.message = finished ? describeFinishedRollback(run, dbPath, change, Boolean(opts.force)) : describeRollback(run);
    return finish(r, started);
  }
  if (finished && change && !opts.force) {
    throw refused({
      what: `The database ${dbPath} changed since the cutover finished (${change}): rolling back would set those changes aside with the new file.`,
      untouched: "Nothing was changed: the database and the archived original stay where they are.",
      next: `If the changes may be set aside (the new file is kept in ${run.workDir}), run again with --force: ${commandFor("cutover", opts.resolved.path!, "--rollback --apply --force")}.`,
      details: { workDir: run.workDir, change },
    });
  }
  r.message = await withWriteSafety({ command: `${opts.command}:rollback`, dbPath, workDir: run.workDir, workDirOurs: true, runId: start.runId, lock: true, breakLock: opts.breakLock, holders: true, signals: false }, async () =>
    finished ? rollbackFinished(run, dbPath, opts.emit) : rollbackRun(run, dbPath, opts.emit),
  );
  r.outcome = "rolled-back";
  r.archive.path = null;
  r.after.chain = (await diagnose(opts.resolved)).chain;
  return finish(r, started);
}

/** How the primary differs from what the finished run left (null: unchanged). */
function changeSinceFinish(run: RunOnDisk, dbPath: string): string | null {
  const fin = run.state.final;
  if (!existsSync(dbPath)) return "there is no file at its name any more";
  const ino = inodeOf(dbPath);
  if (fin?.inode && ino && (fin.inode.dev !== ino.dev || fin.inode.ino !== ino.ino)) return `another file is at its name (inode ${fin.inode.ino} → ${ino.ino})`;
  if (fin?.identity) {
    const now = contentState(dbPath);
    if (!sameContent(fin.identity, now)) return describeContentChange(fin.identity, now);
  }
  return null;
}

function describeFinishedRollback(run: RunOnDisk, dbPath: string, change: string | null, force: boolean): string {
  const start = run.state.start!;
  const base = `--rollback would put the original back from ${archivedPath(start.archiveDir, dbPath)} and keep the new file in ${run.workDir} as ${ROLLED_BACK_NEW}`;
  if (change && !force) return `${base}, but the database changed since the cutover finished (${change}): --apply refuses unless --force.`;
  return `${base}. Add --apply to do it.`;
}

/** Puts the archived original back after a finished cutover; the new file stays in the work dir. The name is never empty. */
export function rollbackFinished(run: RunOnDisk, dbPath: string, emit: Emit): string {
  const start = run.state.start!;
  const journal = new Journal(run.workDir);
  journal.append({ e: "rollback-start" });
  const archive = archivedPath(start.archiveDir, dbPath);
  if (!existsSync(archive)) {
    throw failed({ what: `The archived original ${archive} is not there.`, untouched: `The database ${dbPath} was left as it is.`, next: "Look for it in the work dir; the verified backup can rebuild it (vox-cutover import-legacy)." });
  }
  // Only the file this run archived is put back: its device/inode (the original primary's) and its record at the swap.
  assertArchived(run, archive);
  const msgs: string[] = [];
  const keep = freeName(join(run.workDir, ROLLED_BACK_NEW));
  if (existsSync(dbPath)) {
    checkpointIfWal(dbPath);
    linkSync(dbPath, keep);
    for (const sfx of DB_SIDE_SUFFIXES) if (existsSync(dbPath + sfx)) renameSync(dbPath + sfx, keep + sfx);
    msgs.push(`the new file is kept at ${keep}`);
  }
  for (const sfx of DB_SIDE_SUFFIXES) if (existsSync(archive + sfx)) renameSync(archive + sfx, dbPath + sfx);
  renameSync(archive, dbPath); // one step: the name holds the new file, then the original
  fsyncPath(dirname(dbPath));
  msgs.push(`the original was put back from ${archive}`);
  const sideArchived = join(start.archiveDir, SIDECAR_NAME);
  const sideHome = sidecarBeside(dbPath);
  if (existsSync(sideArchived) && !existsSync(sideHome)) {
    moveDatabaseFiles(sideArchived, sideHome);
    msgs.push("the sidecar was put back beside it");
  }
  journal.append({ e: "rollback-done", restored: true });
  const text = `rolled back the finished run ${start.runId}: ${msgs.join("; ")}.${existsSync(start.backupPath) ? ` The backup ${start.backupPath} is kept.` : ""}`;
  emit({ type: "note", text });
  return text;
}

/** The archive must be the original primary (the run-start device/inode) and, after a finished swap, what the swap recorded. */
function assertArchived(run: RunOnDisk, archive: string): void {
  const orig = run.state.start!.identity;
  const untouched = "Nothing was moved: the database, the archive and the new file stay where they are.";
  const next = "Find out who replaced it. If the original is elsewhere, put it back by hand; the verified backup can rebuild its rows (vox-cutover import-legacy into a new file).";
  if (orig?.dev && orig.ino) assertRecorded("the archived original", archive, { dev: orig.dev, ino: orig.ino, size: 0, mtimeNs: "", fingerprint: "" }, { inodeOnly: true, untouched, next });
  assertRecorded("the archived original", archive, run.state.done.get("swap")?.archiveFile, { untouched, next });
}

function freeName(p: string): string {
  if (!existsSync(p)) return p;
  for (let n = 2; ; n++) if (!existsSync(`${p}.${n}`)) return `${p}.${n}`;
}

function checkpointIfWal(dbPath: string): void {
  if (!existsSync(`${dbPath}-wal`)) return;
  const db = openReadWrite(dbPath);
  try {
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

function describeRollback(run: RunOnDisk): string {
  const s = run.state;
  const backup = existsSync(s.start!.backupPath) && s.done.has("export") ? ` The backup ${s.start!.backupPath} is kept.` : " No backup was finished (nothing to keep).";
  return s.swapPhase === "none"
    ? `--rollback would remove this run's temporary files (the unfinished new file, partial backups) and mark run ${s.start!.runId} rolled back; the primary was never touched.${backup} Add --apply to do it.`
    : `--rollback would put the old primary back from ${s.start!.archiveDir} (swap phase ${s.swapPhase}), keep the new file in the work dir as ${ROLLED_BACK_NEW}, and mark the run rolled back.${backup} Add --apply to do it.`;
}

/** Undo an unfinished run: restore the archived primary if the swap began; remove only our own temporary files. The name is never empty. */
export function rollbackRun(run: RunOnDisk, dbPath: string, emit: Emit): string {
  const start = run.state.start!;
  const journal = new Journal(run.workDir);
  journal.append({ e: "rollback-start" });
  const archive = archivedPath(start.archiveDir, dbPath);
  let restored = false;
  const msgs: string[] = [];
  if (existsSync(archive)) {
    if (existsSync(dbPath) && sameInode(dbPath, archive)) {
      // The swap had only linked the original into the archive: the primary is the original.
      for (const sfx of DB_SIDE_SUFFIXES) if (existsSync(archive + sfx) && !existsSync(dbPath + sfx)) renameSync(archive + sfx, dbPath + sfx);
      rmSync(archive, { force: true }); // a second name of the primary, not data
      msgs.push(`the primary ${dbPath} was never replaced`);
    } else {
      assertArchived(run, archive);
      if (existsSync(dbPath)) {
        // The new file is in place: keep it in the work dir (a second name first), never delete it.
        const keep = freeName(join(run.workDir, ROLLED_BACK_NEW));
        linkSync(dbPath, keep);
        for (const sfx of DB_SIDE_SUFFIXES) if (existsSync(dbPath + sfx)) renameSync(dbPath + sfx, keep + sfx);
        msgs.push(`the new file was kept at ${keep}`);
      }
      for (const sfx of DB_SIDE_SUFFIXES) if (existsSync(archive + sfx)) renameSync(archive + sfx, dbPath + sfx);
      renameSync(archive, dbPath);
      fsyncPath(dirname(dbPath));
      restored = true;
      msgs.push(`the original primary was restored from ${archive}`);
    }
  } else {
    // No archive: the primary is the original only if it is still the file the run started from.
    const orig = start.identity;
    const ino = inodeOf(dbPath);
    const isOriginal = Boolean(orig?.dev && ino && ino.dev === orig.dev && ino.ino === orig.ino);
    const known = Boolean(orig?.dev);
    if (known ? !isOriginal : run.state.swapPhase === "primary-archived" || run.state.swapPhase === "new-in-place") {
      throw refused({
        what: `The archived original ${archive} is gone, and ${dbPath} is ${ino && orig?.dev ? `not the file run ${start.runId} started from (device/inode ${orig.dev}/${orig.ino} then, ${ino.dev}/${ino.ino} now)` : "not there"}: there is nothing this rollback could put back.`,
        untouched: `Nothing was moved. ${whereabouts({ ...start, dbPath }, run.state.swapPhase, null)}`,
        next: `Look for the original (the archive folder ${start.archiveDir}); the verified backup ${start.backupPath} can rebuild its rows (vox-cutover import-legacy into a new file).`,
        details: { workDir: run.workDir, archive },
      });
    }
    msgs.push(`the primary ${dbPath} was never moved`);
  }
  const sideArchived = join(start.archiveDir, SIDECAR_NAME);
  const sideHome = sidecarBeside(dbPath);
  if (existsSync(sideArchived) && !existsSync(sideHome)) {
    moveDatabaseFiles(sideArchived, sideHome);
    msgs.push(`the sidecar was put back beside it`);
  }
  // Only our own temporary files: the unfinished new file (built from the backup, which is kept)
  // and the temporary names an interrupted import or export leaves.
  for (const f of readdirSync(dirname(dbPath))) {
    if (!isOwnTempBeside(dbPath, f)) continue;
    rmSync(join(dirname(dbPath), f), { force: true });
    if (f === basename(start.newPath)) msgs.push(`removed the unfinished new file ${f}`);
  }
  for (const f of existsSync(run.workDir) ? readdirSync(run.workDir) : []) {
    if (isPartial(f)) rmSync(join(run.workDir, f), { force: true });
  }
  removeDeadLocks(dbPath, start.runId);
  journal.append({ e: "rollback-done", restored });
  const backupKept = run.state.done.has("export") && existsSync(start.backupPath);
  const text = `rolled back run ${start.runId}: ${msgs.join("; ")}. ${backupKept ? `The backup ${start.backupPath} is kept.` : "No backup had been finished, so there is none to keep."}`;
  emit({ type: "note", text });
  return text;
}
