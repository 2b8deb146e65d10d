/**
 * The cutover dry-run's trial import: the same export and import the apply makes, into a scratch
 * folder, so a row that cannot load shows in the plan, not first at --apply. The primary is only
 * read (one snapshot). The folder is removed afterwards, or kept for the apply of the same plan to
 * adopt (./kept-trial.ts).
 */
import { rmSync, statSync } from "node:fs";
import { formatBytes } from "../safety/disk.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportBackup } from "../backup/export.js";
import { importBackup, type ImportReport } from "../backup/import.js";
import { loadImporters } from "../backup/importers.js";
import { jsonInt } from "../db/classify.js";
import type { BaselineContext, Diagnosis } from "../diagnose/diagnose.js";
import type { Emit, ImportEvidence } from "./events.js";
import { interruptedNothingLeft, signalsSeen, type CancelToken } from "../util/cancel.js";
import { VoxError } from "../errors.js";
import { pausePoint } from "./testhooks.js";
import { collectGarbage } from "../util/gc.js";
import { randomUUID } from "node:crypto";
import { contentState } from "../safety/content-version.js";
import { keepTrial, notKeptBecause, retireKeptTrial, scratchTrialDir, TRIAL_BACKUP, TRIAL_DB, type TrialRecord } from "./kept-trial.js";
import { buildOutputs, exportOutputs } from "./stage1-outputs.js";
import { assertIntact, integrityOf, type IntegrityBeside } from "../db/integrity.js";
import { bigLimit } from "../backup/big-source.js";
import type { QuarantineTable } from "../db/ledger.js";
import { hashFileBeside, type FileHashBeside } from "../util/file-hash-beside.js";
import { hashStillHolds } from "./built-hash.js";
import { closeWhenAlone } from "../db/raw-fd.js";

/**
 * The evidence a swap rests on, from an import report (trial or real). `exported`: the tables whose
 * big values the export read whole (its own `readWhole`); the import's list adds the others.
 */
export function importEvidence(
  r: Pick<ImportReport, "tables" | "loaded" | "quarantined" | "foreignKeyViolations" | "sequences"> & Partial<Pick<ImportReport, "objects" | "readWhole">>,
  backupVerified: boolean,
  exported: ImportReport["readWhole"] = [],
): ImportEvidence {
  const readWhole = [...exported, ...(r.readWhole ?? []).filter((w) => !exported.some((e) => e.table === w.table))];
  const tables = r.tables
    .filter((t) => t.source !== "sqlite_sequence")
    .map((t) => ({
      name: t.source,
      target: t.target || null,
      rowsIn: t.rows,
      loaded: t.loaded,
      quarantined: t.quarantined,
      reasons: t.reasons,
      partial: t.partial ?? 0,
      columns: Object.entries(t.columns ?? {}).map(([column, nonNull]) => ({ column, nonNull })),
    }));
  return {
    tables,
    rowsIn: tables.reduce((n, t) => n + t.rowsIn, 0),
    loaded: r.loaded,
    quarantined: r.quarantined,
    partial: tables.reduce((n, t) => n + t.partial, 0),
    columnsToQuarantine: tables.flatMap((t) => t.columns.map((c) => ({ table: t.name, column: c.column, nonNull: c.nonNull }))),
    orphans: r.foreignKeyViolations,
    sequences: r.sequences,
    ...(readWhole.length ? { readWhole } : {}),
    ...(r.objects ? { objects: { carried: r.objects.carried.map(({ type, name, table }) => ({ type, name, table })), notCarried: r.objects.notCarried } } : {}),
    backupVerified,
  };
}

/**
 * `inspect`: called with the trial file before its folder is removed or kept (the dry-run's Stage 2
 * comparison runs against it). `plan`: the plan the trial is kept for, when trials are kept.
 */
export async function trialImport(
  dbPath: string,
  d: Diagnosis,
  base: BaselineContext,
  emit: Emit,
  token?: CancelToken,
  inspect?: (trialDb: string) => void,
  plan?: { planDigest: string; command: string; refusing: string[] },
  integrity?: IntegrityBeside | null,
): Promise<ImportEvidence & { kept?: string; integrity?: string; quarantineTable: QuarantineTable | null }> {
  const notKept = plan && (plan.refusing.length ? `--apply would be refused now: ${plan.refusing.join(", ")}` : notKeptBecause());
  if (notKept) emit({ type: "note", text: `The trial is not kept for the apply (${notKept}): the apply exports and builds again.` });
  const keep = plan && !notKept ? { planDigest: plan.planDigest, command: plan.command } : undefined;
  if (keep) retireKeptTrial(dbPath); // this trial replaces it: its files go beside the export
  const stop = () => token?.throwIfCancelled("during the dry-run's trial import");
  const dir = scratchTrialDir();
  // Stage 0's integrity_check of the primary runs on another thread from here, beside the export (whose
  // writer thread leaves that core mostly idle) and the build: its answer is asked for before anything of
  // the trial is kept or shown (docs/benchmark.md, "Session 24").
  integrity?.start();
  let kept: string | null = null;
  let checked: string | undefined;
  let asked = false; // its answer was asked for (a failure then is the answer's own: not asked again)
  const built: { hash: FileHashBeside | null } = { hash: null }; // the kept trial's built file's sha256, taken beside its checks
  try {
    const t = await trialIn(dir, dbPath, d, base, emit, stop, keep ? { ...keep, runId: randomUUID() } : inspect ? {} : null, built);
    // Stage 0's integrity_check, run beside the trial: its answer before anything of the trial is kept or shown.
    asked = true;
    if (integrity) checked = await integrityAnswer(dbPath, integrity, emit);
    await signalsSeen();
    stop(); // a signal that came while it waited: nothing is kept or shown
    inspect?.(join(dir, TRIAL_DB));
    if (keep && t.kept) {
      // The apply of this plan adopts the export and the build (kept-trial.ts): recorded after the Stage 2 look above.
      const bytes = statSync(join(dir, TRIAL_BACKUP)).size + statSync(join(dir, TRIAL_DB)).size;
      const builtSha256 = await hashStillHolds(built.hash, join(dir, TRIAL_DB));
      const at = keepTrial(dir, dbPath, { ...keep, ...t.kept, build: buildOutputs(t.report, join(dir, TRIAL_DB), true, t.exported.readWhole) }, builtSha256);
      kept = at;
      emit({
        type: "note",
        text: at
          ? `The trial's backup and new file are kept in ${at} (${formatBytes(bytes)}${builtSha256 ? "; the new file's sha256 taken beside its checks" : ""}) for the apply of plan ${keep.planDigest}, which adopts them while the database is unchanged; removed by that apply, the next dry-run of this database, or the first cutover command a day from now (VOX_CUTOVER_KEEP_TRIAL=0 keeps none).`
          : `The trial could not be kept for the apply (no folder of this user's alone in ${tmpdir()}, or it could not be written there): the apply exports and builds again.`,
      });
    }
    return { ...t.evidence, ...(kept ? { kept } : {}), ...(checked ? { integrity: checked } : {}), quarantineTable: t.report.quarantineTable ?? null };
  } catch (e) {
    // A dry-run leaves no run behind: the note says so and offers no resume.
    if (e instanceof VoxError && e.kind === "interrupted") throw dryRunInterrupted(e);
    // A file with problems is refused for them, whatever they made the trial fail with.
    if (integrity && !asked && !(e instanceof VoxError && e.kind === "refused"))
      await integrityAnswer(dbPath, integrity, emit).catch((ie: unknown) => {
        if (ie instanceof VoxError && ie.kind === "refused") throw ie; // else the trial's own error stands
      });
    throw e;
  } finally {
    built.hash?.stop();
    if (!kept) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The answer of the integrity_check that ran beside the trial (checked on this thread if that thread
 * could not): the step's summary, or the same refusal (3) Stage 0 gives a file with problems.
 */
async function integrityAnswer(dbPath: string, integrity: IntegrityBeside, emit: Emit): Promise<string> {
  const answer = await integrity.result;
  const r = "error" in answer ? integrityOf(dbPath, bigLimit()) : answer;
  try {
    assertIntact(dbPath, r);
  } catch (e) {
    emit({ type: "step-failed", id: "integrity", message: e instanceof Error ? e.message : String(e) });
    throw e;
  }
  const where = "error" in answer ? `checked on this thread: beside the trial import, ${answer.error}` : "checked beside the trial import";
  const summary = `ok (${where}${r.how ? `; ${r.how}` : ""})`;
  emit({ type: "note", text: `integrity_check of the primary: ${summary}.` });
  return summary;
}

/** An interrupted dry-run: nothing was written and there is nothing to resume. */
function dryRunInterrupted(e: VoxError): VoxError {
  return interruptedNothingLeft(
    e,
    "during the dry-run's trial import",
    "Nothing was written: the database was only read, and the trial's scratch folder was removed (no work dir, journal or lock remains).",
  );
}

/**
 * `keep`: the trial file is built as a new file (kept in the folder until it is removed) instead of a
 * scratch file removed at once; with a run id, built as the apply would build it (that run id, the
 * plan digest and the command in its ledger and quarantine rows) and what the apply's export step
 * would record returned too (`kept`), for the dry-run to keep it (kept-trial.ts).
 */
async function trialIn(
  dir: string,
  dbPath: string,
  d: Diagnosis,
  base: BaselineContext,
  emit: Emit,
  stop: () => void,
  keep: { planDigest?: string; command?: string; runId?: string } | null,
  built: { hash: FileHashBeside | null },
): Promise<{
  evidence: ImportEvidence;
  report: ImportReport;
  exported: { readWhole: ImportReport["readWhole"] };
  kept: Pick<TrialRecord, "runId" | "export"> | null;
}> {
  {
    const backupPath = join(dir, TRIAL_BACKUP);
    const identity = contentState(dbPath); // as the apply's export step takes it: before the export's snapshot
    const exp = await exportBackup({
      dbPath,
      outPath: backupPath,
      chain: d.chain,
      maxVersion: jsonInt(d.classification.maxVersion),
      baseline: { version: base.manifest.baselineVersion, digest: base.digest },
      onProgress: (p) => {
        emit({
          type: "step-progress",
          id: "trial-import",
          done: p.rowsDone,
          total: p.totalRows * 2,
          label: `export ${p.table}`,
          phase: "reading the database for the trial",
        });
        stop();
        pausePoint("trial-progress");
      },
    });
    const total = exp.totalRows;
    // What the export dropped (its shared ring, its read buffers) is freed before the import allocates, as between the apply's steps (cutover/run.ts).
    collectGarbage();
    const r = await importBackup({
      backupPath,
      targetPath: join(dir, TRIAL_DB),
      baselineSql: base.sql,
      baselineVersion: base.manifest.baselineVersion,
      history: base.policy.history,
      rules: loadImporters(),
      into: keep ? "target" : "scratch",
      countQuarantine: true, // the dry-run's prediction of what legacy_quarantine holds after the apply
      source: dbPath,
      ...(keep?.runId ? { runId: keep.runId, planDigest: keep.planDigest, command: `${keep.command}:import` } : {}),
      // The trial's backup is the file this export just wrote: checked against the export's own
      // whole-file hash before anything it fed is kept (as the apply's import checks its verified
      // backup's), so its rows are not re-encoded and a proven table's lines are hashed once.
      verifiedSha256: exp.sha256,
      // A kept trial's built file: its sha256 taken beside its checks (they read the committed file as it stays).
      ...(keep?.runId ? { onCommitted: (path: string) => (built.hash = hashFileBeside(path, { close: closeWhenAlone })) } : {}),
      onProgress: (p) => {
        emit({
          type: "step-progress",
          id: "trial-import",
          done: total + p.rowsDone,
          total: total * 2,
          label: p.table ? `import ${p.table}` : (p.phase ?? "import"),
          phase: p.phase ?? "copying rows into the trial file",
        });
        stop();
      },
    });
    pausePoint("trial-import-done");
    // The import runs in one go: a signal that came meanwhile is honoured here, before the plan is shown.
    await signalsSeen();
    stop();
    const kept = keep?.runId ? { runId: keep.runId, export: exportOutputs(exp, identity) } : null;
    return { evidence: importEvidence(r, true, exp.readWhole), report: r, exported: exp, kept };
  }
}
