import { formatCount } from "../../util/count.js";
import { resolve } from "node:path";
import { importBackup, type ImportReport } from "../../backup/import.js";
import { loadImporters } from "../../backup/importers.js";
import { peekFormat, peekHeader, peekTrailerSha, readBackup } from "../../backup/read.js";
import { isVoxExportFile, scanReference, type ReferenceScan } from "../../backup/reference.js";
import { diagnose, loadBaselineContext } from "../../diagnose/diagnose.js";
import { EXIT, failed, refused } from "../../errors.js";
import { planDigest } from "../../db/plan-digest.js";
import { ProgressLine } from "../progress.js";
import { pausePoint } from "../../engine/testhooks.js";
import { stopPoint } from "../../util/cancel.js";
import { withWriteSafety } from "../../safety/guard.js";
import { BackupHeaderSchema, problem } from "../../validate/schemas.js";
import { closeSync, openSync, readSync } from "node:fs";
import type { CommandResult, Ctx } from "../run.js";
import { openBackupOrThrow, referenceFormatError } from "./verify-backup.js";
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
    out.text(
      `${t.source.padEnd(w)}  ${("→ " + (t.target || "(quarantine)")).padEnd(26)} ${formatCount(t.rows).padStart(8)} ${formatCount(t.loaded).padStart(8)} ${formatCount(t.quarantined).padStart(8)} ${formatCount(t.cleared).padStart(8)}${notes.length ? `  ${notes.join("; ")}` : ""}`,
    );
  }
  out.text(
    `total: ${formatCount(r.totalRows)} rows in the backup, ${formatCount(r.loaded)} ${dry ? "to load" : "loaded"}, ${formatCount(r.quarantined)} ${dry ? "to quarantine" : "quarantined"} whole (legacy_quarantine)${r.partial ? `; ${formatCount(r.partial)} loaded row(s) have values the baseline has no column for, kept in legacy_quarantine with the row's key` : ""}`,
  );
  const s = r.sequences;
  out.text(
    `sqlite_sequence: ${formatCount(s.entries)} entr${s.entries === 1 ? "y" : "ies"} (not counted as rows), ${formatCount(s.restored)} ${dry ? "to carry" : "carried"}${s.quarantined ? `, ${formatCount(s.quarantined)} to legacy_quarantine (their tables do not load)` : ""}${r.seeded ? `; baseline seed rows kept: ${formatCount(r.seeded)}` : ""}`,
  );
  out.text(`checks: integrity_check ${r.integrity}; FTS rebuilt: ${r.ftsRebuilt.join(", ") || "none"}`);
  if (r.foreignKeyViolations.length)
    out.text(
      `foreign_key_check: ${r.foreignKeyViolations.map((f) => `${f.table} ${formatCount(f.count)}`).join(", ")} orphan row(s) (kept as they were in the legacy file)`,
    );
  else out.text("foreign_key_check: no violations");
  if (r.foreignKeyUncheckable.length)
    out.text(
      `foreign_key_check cannot check ${r.foreignKeyUncheckable.map((f) => `${f.table} (${f.error})`).join(", ")}: the baseline declares those keys so; their rows are as in the legacy file`,
    );
}

function importJson(r: ImportReport): Record<string, unknown> {
  return {
    runId: r.runId,
    tables: r.tables.map((t) => ({
      name: t.source,
      target: t.target || null,
      rows: t.rows,
      loaded: t.loaded,
      quarantined: t.quarantined,
      cleared: t.cleared,
      reasons: t.reasons,
      partial: t.partial,
      partialReasons: t.partialReasons,
      columns: t.columns,
      seeded: t.seeded,
      mapping: t.mapping,
      parity: t.parity,
      ...(t.loadedBy ? { loadedBy: t.loadedBy } : {}),
    })),
    totalRows: r.totalRows,
    loaded: r.loaded,
    quarantined: r.quarantined,
    partial: r.partial,
    sequences: r.sequences,
    seeded: r.seeded,
    foreignKeyViolations: r.foreignKeyViolations,
    foreignKeyUncheckable: r.foreignKeyUncheckable,
    integrity: r.integrity,
    ftsRebuilt: r.ftsRebuilt,
  };
}

export async function importLegacyCommand(ctx: Ctx, inArg: unknown): Promise<CommandResult> {
  const resolved = ctx.resolve();
  const { out, opts } = ctx;
  if (resolved.kind !== "file")
    throw failed({ what: "import-legacy writes local database files only.", untouched: "Nothing was changed.", next: "Use --db PATH." });
  const backupPath = openBackupOrThrow(String(inArg));
  const base = loadBaselineContext();
  const rules = loadImporters();
  const format = peekFormat(backupPath);
  let reference: ReferenceScan | undefined;
  if (isVoxExportFile(backupPath, format)) {
    if (!opts.acceptUnverified) throw referenceFormatError(backupPath);
    out.warn(`${backupPath} is in vox's export-legacy format, which has no hashes: it cannot be verified (accepted with --accept-unverified).`);
    reference = scanReference(backupPath); // refuses a malformed line before anything is written
  } else if (format === "unknown") {
    readBackup(backupPath); // throws the precise reason (not JSON, not our header, empty, …)
  } else {
    checkHeader(backupPath); // the header is checked, not cast, before the importer relies on it
  }
  // The plan digest names the file by its content: the trailer's hash, or the whole reference file's sha256.
  const claimedSha = reference ? `reference:${reference.sha256}` : (peekTrailerSha(backupPath) ?? "no-trailer");
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
  const digest = planDigest({
    db: resolved.display,
    chain: d.chain,
    sizeBytes: d.sizeBytes,
    walBytes: d.walBytes,
    changeCounter: d.changeCounter,
    steps: ["import-legacy", claimedSha],
  });
  const apply = Boolean(opts.apply);
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
    source: reference ? undefined : peekHeader(backupPath)?.source?.path,
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
    await stopPoint(ctx.token, "before import-legacy's trial import", "Nothing was written: the backup and the database were only read.");
    report = await importBackup({ ...common, into: "scratch" });
    progress.end();
    out.text(
      `backup: ${resolve(String(inArg))} ${reference ? "read (unverifiable)" : "verified"} (${formatCount(report.totalRows)} rows, sha256 ${report.backupSha256})`,
    );
    // What the real target holds now is what replace semantics would clear.
    const current = new Map(d.tables.map((t) => [t.name, Number(t.rows)]));
    for (const t of report.tables) t.cleared = t.target ? (current.get(t.target) ?? 0) : 0;
    out.text(`target: ${resolved.path} (${d.chain})${d.chain === "missing" ? " — would be created on baseline " + base.manifest.baselineVersion : ""}`);
    out.text(`plan digest: ${digest}`);
    printImport(ctx, report, true);
    out.text("");
    out.text(
      `dry-run (a trial import into a scratch file, removed): nothing was changed. To apply exactly this: vox-cutover import-legacy ${shellQuote(resolve(String(inArg)))} --db ${shellQuote(resolved.path!)} --apply --plan ${digest}${reference ? " --accept-unverified" : ""}`,
    );
    return {
      ok: true,
      mode: "dry-run",
      db: resolved,
      data: jsonData(report),
    };
  }
  const fault = process.env.VOX_CUTOVER_FAULT_AFTER_ROWS; // test hook: inject a failure mid-import
  report = await withWriteSafety({ command: "import-legacy", dbPath: resolved.path!, plan: opts.plan }, async (g) => {
    // The load is one synchronous transaction: a stop request is honoured before it (nothing
    // imported) or once it committed (runCommand's note: the work is complete).
    pausePoint("import-start");
    await stopPoint(
      ctx.token,
      "before import-legacy loaded anything",
      `Nothing was imported: ${resolved.path} is as it was${d.chain === "missing" ? " (still missing: it was not created)" : ""} and the lock was released.`,
    );
    const r = await importBackup({ ...common, into: "target", command: "import-legacy", failAfterRows: fault ? Number(fault) : undefined });
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

/** The first line of a vox-cutover backup, checked against its schema: a damaged header is refused (exit 3), as verify-backup does. */
function checkHeader(path: string): void {
  const fd = openSync(path, "r");
  let first = "";
  try {
    const buf = Buffer.alloc(1 << 20);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString("utf8");
    const nl = text.indexOf("\n");
    if (nl < 0 && n === buf.length) return; // a header over 1 MB: the importer's own reading checks it
    first = nl >= 0 ? text.slice(0, nl) : text;
  } finally {
    closeSync(fd);
  }
  let why: string | null;
  try {
    why = problem(BackupHeaderSchema, JSON.parse(first));
  } catch {
    why = "the line is not valid JSON";
  }
  if (why) {
    throw refused({
      what: `The backup ${path} does not verify at line 1: its header is not what vox-cutover writes (${why}).`,
      untouched: "Nothing was written.",
      next: "Do not rely on this file: take a new backup with vox-cutover export-legacy (the database itself was not touched).",
    });
  }
}
