/** What a cutover will do: its paths, route, steps and plan digest, computed before anything is written. */
import type { KeptTrial } from "../engine/kept-trial.js";
import { dirname, resolve } from "node:path";
import { routeFor, stepsFor, type Route, type RunOptions, type RunPaths, type Step } from "../../stages/index.js";
import type { RunStart } from "../../stages/types.js";
import { diagnose, loadBaselineContext, type BaselineContext, type Diagnosis } from "../diagnose/diagnose.js";
import type { ResolvedDb } from "../db/resolve.js";
import { planDigest } from "../db/plan-digest.js";
import { contentVersion } from "../db/probe.js";
import { sidecarPathFor } from "../sidecar/paths.js";
import { failed } from "../errors.js";
import { archiveDirOf, defaultBackupPath, newFilePath, runsRoot } from "../layout.js";
import { planDefaultWorkDir, realPathOf, type DbIdentity } from "../safety/guard.js";
import type { CancelToken } from "../util/cancel.js";
import type { Decide, Emit } from "../engine/events.js";
import type { RunOnDisk } from "../engine/runs.js";
import { shellQuote } from "../util/shell.js";
import type { CutoverReport } from "../report/cutover-report.js";
import { refusingGates } from "../report/render.js";

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

export function runPaths(dbPath: string, workDir: string, backupPath?: string): RunPaths {
  return {
    dbPath,
    workDir,
    backupPath: backupPath ? resolve(backupPath) : defaultBackupPath(workDir),
    newPath: newFilePath(dbPath),
    archiveDir: archiveDirOf(workDir),
  };
}

export function commandFor(c: string, dbPath: string, extra: string): string {
  return `vox-cutover ${c} --db ${shellQuote(dbPath)} ${extra}`.trim();
}

/** A run's resume or rollback command: with --work-dir when the run's is of the operator's choosing (found there only: helper-103, the printed lines failed, 2). */
export function runCommandFor(path: string, paths: Pick<RunPaths, "dbPath" | "workDir">, extra: string): string {
  return commandFor("cutover", path, `${extra}${dirname(paths.workDir) === runsRoot(paths.dbPath) ? "" : ` --work-dir ${shellQuote(paths.workDir)}`}`);
}

/**
 * The options an apply must be given again to run exactly this plan: each changes the plan's digest
 * (the target, Stage 2–3's choices) or where the run writes (the work dir, the backup).
 */
export function applyFlags(plan: Pick<CutoverPlan, "options" | "base">, given: { workDir?: string; backupPath?: string }): string {
  const flags: string[] = [];
  if (given.workDir) flags.push(`--work-dir ${shellQuote(given.workDir)}`);
  if (given.backupPath) flags.push(`--backup ${shellQuote(given.backupPath)}`);
  const origin = plan.base.origin;
  if (origin.kind === "vox") flags.push("--target-schema vox");
  else if (origin.kind === "file") flags.push(`--target-schema ${shellQuote(resolve(origin.path))}`);
  if (!plan.options.sidecarMerge) flags.push("--no-sidecar-merge");
  if (plan.options.telemetry.length) flags.push(`--telemetry ${plan.options.telemetry.map(shellQuote).join(" ")}`);
  return flags.join(" ");
}

/** A dry-run's last line: the command that applies exactly this plan, and the gates that would refuse it now. */
export function dryRunLine(gates: string[], exactly: string): string {
  return gates.length
    ? `dry-run: nothing was changed. --apply would be refused now (${gates.join(", ")}: see above); once that is fixed, run exactly this plan: ${exactly}`
    : `dry-run: nothing was changed. To run exactly this plan: ${exactly}`;
}

/**
 * A dry-run given `--plan` (a digest reviewed before): whether this plan is still that one — what
 * `--apply --plan` would answer (it was ignored without --apply). Null without `--plan`.
 */
export function reviewedPlanLine(given: unknown, digest: string | null | undefined): string | null {
  if (typeof given !== "string" || !digest) return null;
  return given === digest
    ? `--plan ${given}: this is still the reviewed plan.`
    : `--plan ${given} is not this plan (${digest}): the database or the options changed since that one was reviewed, and --apply --plan ${given} would be refused (3). Review this plan instead.`;
}

/** The cutover dry-run's last line: the command that applies exactly this plan (`flags`: applyFlags), and the Stage 0 gates that would refuse it now. */
export function dryRunMessage(report: Pick<CutoverReport, "steps" | "planDigest">, path: string, flags: string): string {
  return dryRunLine(refusingGates(report), commandFor("cutover", path, `--apply --plan ${report.planDigest} ${flags}`));
}

export interface CutoverPlan {
  base: BaselineContext;
  diagnosis: Diagnosis;
  steps: Step[];
  route: Route;
  paths: RunPaths;
  digest: string;
  options: RunOptions;
  /** The apply's: the dry-run's kept trial it adopts (src/engine/kept-trial.ts). */
  trial?: KeptTrial | null;
}

function runOptions(o?: Partial<RunOptions>): RunOptions {
  return { sidecarMerge: o?.sidecarMerge ?? true, telemetry: o?.telemetry ?? [], ...(o?.importFrom ? { importFrom: o.importFrom } : {}) };
}

export async function planCutover(
  resolved: ResolvedDb,
  opts: { workDir?: string; backupPath?: string; options?: Partial<RunOptions>; command?: string } = {},
): Promise<CutoverPlan> {
  if (resolved.kind !== "file") {
    throw failed({
      what: "The cutover works on local database files.",
      untouched: "The remote database was not changed.",
      next: "Run it where the file is, with --db PATH.",
    });
  }
  const base = loadBaselineContext();
  const diagnosis = await diagnose(resolved, base);
  if (diagnosis.error) throw diagnosis.error;
  // Every path of the run hangs off the database's real path: a symbolic link keeps pointing at the new file.
  const real = realPathOf(resolved.path!);
  const workDir = opts.workDir ?? planDefaultWorkDir(real);
  const paths = runPaths(real, workDir, opts.backupPath);
  // import-legacy into a database that exists takes the import route whatever its chain (the command checked it is on the baseline).
  const route = opts.options?.importFrom ? "import" : routeFor(diagnosis, base);
  const steps = stepsFor(route, opts.command);
  // Stage 2 merges and archives the sidecar the dry-run compared: a sidecar written, added or removed since is another plan.
  const side = steps.some((s) => s.id === "sidecar") ? contentVersion(sidecarPathFor(real)) : "missing";
  const digest = planDigest({
    db: resolved.display,
    chain: diagnosis.chain,
    target: base.digest,
    sizeBytes: diagnosis.sizeBytes,
    walBytes: diagnosis.walBytes,
    changeCounter: diagnosis.changeCounter,
    ...(diagnosis.contentVersion ? { contentVersion: diagnosis.contentVersion } : {}),
    steps: [...steps.map((s) => `${s.id}:${s.kind}`), JSON.stringify(runOptions(opts.options)), ...(side === "missing" ? [] : [`sidecar:${side}`])],
  });
  return { base, diagnosis, steps, route, paths, digest, options: runOptions(opts.options) };
}

export function runStart(plan: CutoverPlan, id: DbIdentity, start: RunOnDisk["state"]["start"] | undefined): RunStart {
  return {
    chainBefore: start ? (start.chainBefore ?? start.chain) : plan.diagnosis.chain,
    maxVersionBefore: start ? (start.maxVersionBefore ?? null) : (plan.diagnosis.classification.maxVersion?.toString() ?? null),
    identity: start?.identity ?? { path: id.path, real: id.real, dev: id.dev, ino: id.ino, born: id.born },
    mode: id.mode,
    uid: id.uid,
    gid: id.gid,
  };
}
