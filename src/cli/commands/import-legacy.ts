import { assertNoUnfinishedRun } from "../../cutover/resume.js";
import { formatCount } from "../../util/count.js";
import { join, resolve } from "node:path";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { vacuumCopy } from "../../db/clone.js";
import { importBackup, type ImportReport } from "../../backup/import.js";
import { importJson } from "../../backup/import-json.js";
import { APPEND_ONLY } from "../../backup/import-plan.js";
import { readImportInput, type ImportInput } from "../../backup/import-input.js";
import { readBackup } from "../../backup/read.js";
import { loadImporters } from "../../backup/importers.js";
import { diagnose, loadBaselineContext } from "../../diagnose/diagnose.js";
import { EXIT, failed, refused } from "../../errors.js";
import { planDigest } from "../../db/plan-digest.js";
import type { ResolvedDb } from "../../db/resolve.js";
import { ProgressLine } from "../progress.js";
import { faultAfterRows, pausePoint } from "../../engine/testhooks.js";
import { resolveWorkDir } from "../../engine/workdir.js";
import { CancelToken, stopPoint, withSignals } from "../../util/cancel.js";
import { withWriteSafety } from "../../safety/guard.js";
import { dryRunLine, reportJson, reviewedPlanLine, runCutover, swapDryRun } from "../../cutover/index.js";
import type { RunOptions } from "../../../stages/index.js";
import type { CommandResult, Ctx } from "../run.js";
import { openBackupOrThrow } from "./verify-backup.js";
import { textRenderer } from "./cutover.js";
import { shellQuote } from "../../util/shell.js";

function printImport(ctx: Ctx, r: ImportReport, dry: boolean): void {
  const { out } = ctx;
  const rows = r.tables.filter((t) => t.rows > 0 || t.cleared > 0);
  const w = Math.max(6, ...rows.map((t) => t.source.length));
  out.text(
    `${"table".padEnd(w)}  ${"→ target".padEnd(26)} ${"rows".padStart(8)} ${(dry ? "load" : "loaded").padStart(8)} ${"quarant.".padStart(8)} ${(dry ? "clear" : "cleared").padStart(8)}`,
  );
  for (const t of rows) {
    const notes = Object.entries(t.reasons).map(([k, n]) => `${k} ${n}`);
    if (t.partial)
      notes.push(
        `${formatCount(t.partial)} loaded without ${Object.entries(t.columns)
          .filter(([, n]) => n > 0)
          .map(([c, n]) => `${c} (${n} non-null)`)
          .join(", ")}`,
      );
    if (t.seeded) notes.push(`${formatCount(t.seeded)} seed row(s) kept`);
    if (t.present) notes.push(`${formatCount(t.present)} held already (the same rows): not added again`);
    out.text(
      `${t.source.padEnd(w)}  ${("→ " + (t.target || "(quarantine)")).padEnd(26)} ${formatCount(t.rows).padStart(8)} ${formatCount(t.loaded).padStart(8)} ${formatCount(t.quarantined).padStart(8)} ${formatCount(t.cleared).padStart(8)}${notes.length ? `  ${notes.join("; ")}` : ""}`,
    );
  }
  const held = r.tables.reduce((n, t) => n + t.present, 0); // the same rows an append-only table holds (import-plan.ts APPEND_ONLY)
  out.text(
    `total: ${formatCount(r.totalRows)} rows in the backup, ${formatCount(r.loaded)} ${dry ? "to load" : "loaded"}, ${formatCount(r.quarantined)} ${dry ? "to quarantine" : "quarantined"} whole (legacy_quarantine)${held ? `, ${formatCount(held)} held already` : ""}${r.partial ? `; ${formatCount(r.partial)} loaded row(s) have values the baseline has no column for, kept in legacy_quarantine with the row's key` : ""}`,
  );
  const s = r.sequences;
  out.text(
    `sqlite_sequence: ${formatCount(s.entries)} entr${s.entries === 1 ? "y" : "ies"} (not counted as rows), ${formatCount(s.restored)} ${dry ? "to carry" : "carried"}${s.quarantined ? `, ${formatCount(s.quarantined)} to legacy_quarantine (their tables do not load)` : ""}${r.seeded ? `; baseline seed rows kept: ${formatCount(r.seeded)}` : ""}`,
  );
  out.text(`checks: integrity_check ${r.integrity}; FTS rebuilt: ${r.ftsRebuilt.join(", ") || "none"}`);
  // Orphans in a table this import loads came with the backup's rows; in one it does not load (the target's own rows) the import
  // made them, clearing and replacing their parents (helper-105: "kept as they were in the legacy file" of tables it never had).
  const loads = new Set(r.tables.flatMap((t) => (t.target && !APPEND_ONLY.has(t.target) ? [t.target] : [])));
  const list = (fs: typeof r.foreignKeyViolations) => fs.map((f) => `${f.table} ${formatCount(f.count)}`).join(", ");
  const fromBackup = r.foreignKeyViolations.filter((f) => loads.has(f.table));
  const own = r.foreignKeyViolations.filter((f) => !loads.has(f.table));
  if (fromBackup.length)
    out.text(`foreign_key_check: ${list(fromBackup)} orphan row(s) from the backup: their parent key is in no row of the new file (kept, never dropped)`);
  if (own.length)
    out.text(
      `foreign_key_check: ${list(own)} orphan row(s) of the target's own, in tables this import does not load: it replaces the tables their parents are in (${dry ? "the apply archives the original file, parents included" : "the original file, parents included, is in the archive"}; kept, never dropped)`,
    );
  if (!r.foreignKeyViolations.length) out.text("foreign_key_check: no violations");
  if (r.foreignKeyUncheckable.length)
    out.text(
      `foreign_key_check cannot check ${r.foreignKeyUncheckable.map((f) => `${f.table} (${f.error})`).join(", ")}: the baseline declares those keys so; their rows are as in the legacy file`,
    );
}

export async function importLegacyCommand(ctx: Ctx, inArg: unknown): Promise<CommandResult> {
  const resolved = ctx.resolve();
  const { out, opts } = ctx;
  if (resolved.kind !== "file")
    throw failed({ what: "import-legacy writes local database files only.", untouched: "Nothing was changed.", next: "Use --db PATH." });
  const backupPath = openBackupOrThrow(String(inArg));
  const base = loadBaselineContext();
  const rules = loadImporters();
  const input = readImportInput(backupPath, Boolean(opts.acceptUnverified), (text) => out.warn(text));
  const { reference, claimedSha } = input;
  const d = await diagnose(resolved, base);
  if (d.error) throw d.error;
  if (!["missing", "empty", "current"].includes(d.chain)) {
    throw refused({
      what: `The target ${resolved.path} is ${d.chain}; import-legacy loads into a database on the current baseline (or creates one).`,
      untouched: "The target was not changed.",
      next:
        d.chain === "behind"
          ? "Run vox-cutover migrate --apply on it first."
          : "Import into a new file (a path that does not exist yet); Stage 1 (vox-cutover cutover) does this for you.",
      details: { chain: d.chain },
    });
  }
  // A file with tables but not on the target's structure (an empty chain holding tables, a drifted current one) is folded first:
  // loaded as it is, the import kept its shape and quarantined the baseline's columns as missing (helper-103).
  if ((d.chain === "empty" && d.tables.length > 0) || (d.chain === "current" && d.structure && !d.structure.equal))
    throw refused({
      what: `The target ${resolved.path} holds tables that are not on the target's structure (${d.chain === "empty" ? "no schema_version" : "its structure differs"}): import-legacy loads into a database on the current baseline.`,
      untouched: "The target was not changed.",
      next: `Bring it onto the baseline first (vox-cutover migrate --db ${shellQuote(resolved.path!)} --apply: in a copy, after a verified backup), or import into a new file.`,
      details: { chain: d.chain },
    });
  // Every change is a swap: a database that exists and holds tables is imported into in a copy beside it, the original archived (stages/stage1-import.ts).
  const bySwap = existsSync(resolved.path!) && d.tables.length > 0;
  const digest = planDigest({
    db: resolved.display,
    chain: d.chain,
    sizeBytes: d.sizeBytes,
    walBytes: d.walBytes,
    changeCounter: d.changeCounter,
    ...(d.contentVersion ? { contentVersion: d.contentVersion } : {}),
    steps: ["import-legacy", claimedSha, bySwap ? "into a copy, swapped" : "in place"],
  });
  const apply = Boolean(opts.apply);
  const workDir = typeof opts.workDir === "string" ? resolveWorkDir(opts.workDir, resolved.path) : undefined; // the import route's (a run of the engine)
  if (apply && typeof opts.plan === "string" && opts.plan !== digest) {
    throw refused({
      what: `The plan changed since it was reviewed: reviewed ${opts.plan}, now ${digest}.`,
      untouched: "Nothing was changed.",
      next: "Review the new plan (run without --apply) and apply it with its digest.",
    });
  }
  const progress = new ProgressLine(out, apply ? "import" : "trial import");
  const common = {
    backupPath,
    reference,
    targetPath: resolved.path!,
    baselineSql: base.sql,
    baselineVersion: base.manifest.baselineVersion,
    history: base.policy.history,
    rules,
    planDigest: digest,
    // The database the backup was made from, if it is still there: tables copied from it inside SQLite
    // count only when proven equal to this backup by their hashes (the others load from the backup).
    source: input.source,
    onProgress: (p: { rowsDone: number; totalRows: number; table: string }) => {
      progress.update(p.rowsDone, p.totalRows, p.table);
      pausePoint("import-progress");
    },
  };
  /** The --json data of both modes: the plan, the backup read, the chain and the import's counts. */
  const jsonData = (r: ImportReport) => ({
    planDigest: digest,
    backup: { path: resolve(String(inArg)), verified: !reference, sha256: r.backupSha256 },
    chain: d.chain,
    ...importJson(r),
  });
  let report: ImportReport;
  if (!apply) {
    // Into a file that holds tables the apply is a run of the cutover engine: its Stage 0 checks (read-only) and steps, shown now.
    const pre = bySwap
      ? await swapDryRun({
          resolved,
          command: "import-legacy",
          workDir,
          options: { importFrom: importFromOf(input, opts) },
          emit: textRenderer(out, { digest: false }),
        })
      : null;
    await stopPoint(ctx.token, "before import-legacy's trial import", "Nothing was written: the backup and the database were only read.");
    // Into a file that exists the trial loads into a copy of it, as the apply will (its rows meet the target's: a key
    // the target holds already, a quarantine row's id; its text encoding); into a new file, into a scratch file on the baseline.
    report = existsSync(resolved.path!)
      ? await trialOnCopy(resolved.path!, (copy) => importBackup({ ...common, targetPath: copy, into: "target" }))
      : await importBackup({ ...common, into: "scratch" });
    progress.end();
    out.text(
      `backup: ${resolve(String(inArg))} ${reference ? "read (unverifiable)" : "verified"} (${formatCount(report.totalRows)} rows, sha256 ${report.backupSha256})`,
    );
    // What the real target holds now is what replace semantics would clear.
    const current = new Map(d.tables.map((t) => [t.name, Number(t.rows)]));
    // The product's own records are append-only: the import adds to them, never clears them (import-plan.ts APPEND_ONLY).
    for (const t of report.tables) t.cleared = t.target && !APPEND_ONLY.has(t.target) ? (current.get(t.target) ?? 0) : 0;
    out.text(`target: ${resolved.path} (${d.chain})${d.chain === "missing" ? " — would be created on baseline " + base.manifest.baselineVersion : ""}`);
    if (bySwap)
      out.text(
        `--apply: ${resolved.path} holds tables, so it is not written in place: a verified backup of it in the work dir, then this import into a copy beside it (the tables it loads cleared there), checked, and swapped in; the original is archived in the work dir (vox-cutover cutover --rollback --apply puts it back).`,
      );
    out.text(`plan digest: ${digest}`);
    printImport(ctx, report, true);
    out.text("");
    out.text(`trial: an import into ${d.chain === "missing" ? "a scratch file" : "a copy of the database"}, removed.`);
    out.text(
      dryRunLine(
        pre?.refusing ?? [],
        `vox-cutover import-legacy ${shellQuote(resolve(String(inArg)))} --db ${shellQuote(resolved.path!)} --apply --plan ${digest}${reference ? " --accept-unverified" : ""}${workDir ? ` --work-dir ${shellQuote(workDir)}` : ""}`,
      ),
    );
    const reviewed = reviewedPlanLine(opts.plan, digest);
    if (reviewed) out.text(reviewed);
    return {
      ok: true,
      mode: "dry-run",
      db: resolved,
      data: { ...jsonData(report), ...(pre ? { steps: pre.report.steps, refusedBy: pre.refusing } : {}) },
    };
  }
  if (bySwap) return importBySwap(ctx, resolved, input, digest, d.chain, workDir);
  assertNoUnfinishedRun(resolved.path!); // resumed or rolled back first: this write would be one its rollback does not know
  report = await withWriteSafety({ command: "import-legacy", dbPath: resolved.path!, plan: opts.plan }, async (g) => {
    // The load is one synchronous transaction: a stop request is honoured before it (nothing
    // imported) or once it committed (runCommand's note: the work is complete).
    pausePoint("import-start");
    await stopPoint(
      ctx.token,
      "before import-legacy loaded anything",
      `Nothing was imported: ${resolved.path} is as it was${d.chain === "missing" ? " (still missing: it was not created)" : ""} and the lock was released.`,
    );
    const r = await importBackup({ ...common, into: "target", command: "import-legacy", failAfterRows: faultAfterRows() });
    g.keepMode(resolved.path!);
    return r;
  });
  progress.end();
  out.text(
    `backup: ${resolve(String(inArg))} ${reference ? "read (unverifiable)" : "verified"} while loading (${formatCount(report.totalRows)} rows, sha256 ${report.backupSha256})`,
  );
  out.text(`imported into ${resolved.path} (run ${report.runId}) in one transaction`);
  printImport(ctx, report, false);
  return {
    ok: true,
    exitCode: EXIT.ok,
    mode: "apply",
    db: resolved,
    data: jsonData(report),
  };
}

/**
 * Into a database that exists: the cutover engine runs the import route (stages/stage1-import.ts:
 * Stage 0, a verified backup of the database, the import into a copy beside it, the swap under
 * SQLite's write lock), journaled in the work dir, so `vox-cutover cutover --resume --apply` and
 * `--rollback --apply` work on it like on any cutover. The plan and its digest are import-legacy's own.
 */
async function importBySwap(
  ctx: Ctx,
  resolved: ResolvedDb,
  input: ImportInput,
  digest: string,
  chain: string,
  workDir: string | undefined,
): Promise<CommandResult> {
  const { out, opts } = ctx;
  // The file to import is verified whole before the run begins: a damaged one is refused (3) with nothing written, no run begun
  // (the import verifies it again as it loads). vox's own export format has no hashes: scanned line by line already (readImportInput).
  if (!input.reference) {
    const progress = new ProgressLine(out, "verify");
    try {
      readBackup(input.path, { onProgress: (p) => progress.update(p.rowsDone, p.totalRows, p.table) });
    } finally {
      progress.end();
    }
  }
  const token = new CancelToken();
  const render = textRenderer(out);
  // The import's own counts, as the dry-run gave them: the import step's outputs (journaled; a resumed run's too).
  let imported: Record<string, unknown> = {};
  const report = await withSignals(token, () =>
    runCutover({
      resolved,
      apply: true,
      workDir,
      command: "import-legacy",
      options: { importFrom: importFromOf(input, opts) },
      emit: (e) => {
        if (e.type === "step-done" && e.id === "import" && e.outputs?.report && typeof e.outputs.report === "object")
          imported = e.outputs.report as Record<string, unknown>;
        if (e.type !== "plan") render(e);
      },
      token,
    }),
  );
  out.text(`imported into a copy of ${resolved.path} and swapped in (run ${report.runId}); the original is archived at ${report.archive.path}.`);
  out.text(`roll back: ${report.rollbackCommand}`);
  return {
    ok: true,
    exitCode: EXIT.ok,
    mode: "apply",
    db: resolved,
    data: {
      ...reportJson(report),
      planDigest: digest,
      backup: { path: input.path, verified: !input.reference },
      chain,
      ...imported,
      runId: report.runId,
      workDir: report.workDir,
      archive: report.archive,
      databaseBackup: report.backup.path ? { path: report.backup.path, sha256: report.backup.sha256, verified: report.backup.verified } : null,
    },
  };
}

/** The run option naming the file to import: its path, and the hash the plan names (held on every run and resume). */
function importFromOf(input: ImportInput, opts: Ctx["opts"]): NonNullable<RunOptions["importFrom"]> {
  return { path: input.path, acceptUnverified: Boolean(opts.acceptUnverified), sha: input.claimedSha };
}

/** `fn` on a private copy of `dbPath` (VACUUM INTO from one read transaction, in the temp folder), removed afterwards whatever happens. */
async function trialOnCopy<T>(dbPath: string, fn: (copy: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "vox-cutover-import-trial-"));
  try {
    const copy = join(dir, "trial.db");
    vacuumCopy(dbPath, copy, () => undefined);
    return await fn(copy);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
