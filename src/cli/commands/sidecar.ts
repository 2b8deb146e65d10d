import { assertNoUnfinishedRun } from "../../cutover/resume.js";
import { commandFor } from "../../cutover/plan.js";
import { formatCount } from "../../util/count.js";
import { existsSync, lstatSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { assertNoHolders, identify, keepModeTree, readMarker, withWriteSafety } from "../../safety/guard.js";
import { archiveDirOf } from "../../layout.js";
import { assertArchivable } from "../../safety/disk.js";
import { diagnose, loadBaselineContext } from "../../diagnose/diagnose.js";
import { openReadOnly } from "../../db/local.js";
import { isDatabaseFile, notADatabase, probeFile } from "../../db/probe.js";
import { EXIT, failed, refused } from "../../errors.js";
import { listLedger } from "../../db/ledger.js";
import { applySidecar, compareSidecar, type SidecarTable } from "../../sidecar/sidecar.js";
import { assertNotPrimary, sidecarPathFor } from "../../sidecar/paths.js";
import type { CommandResult, Ctx } from "../run.js";
import { pausePoint } from "../../engine/testhooks.js";
import { stopPoint } from "../../util/cancel.js";

function printTables(ctx: Ctx, tables: SidecarTable[], applied: boolean, merge: boolean): void {
  if (tables.length === 0) return applied ? undefined : ctx.out.text("(the sidecar has no tables: nothing to merge)");
  const w = Math.max(5, ...tables.map((t) => t.name.length));
  ctx.out.text(
    `${"table".padEnd(w)} ${"rows".padStart(8)} ${"present".padStart(8)} ${"missing".padStart(8)} ${(applied && merge ? "merged" : "to merge").padStart(8)} ${(applied && merge ? "quarant." : "conflict").padStart(8)}`,
  );
  const empty = tables.filter((t) => t.rows === 0).length;
  for (const t of tables) {
    if (t.rows === 0) continue;
    ctx.out.text(
      `${t.name.padEnd(w)} ${formatCount(t.rows).padStart(8)} ${formatCount(t.present).padStart(8)} ${formatCount(t.missing).padStart(8)} ${formatCount(t.merged).padStart(8)} ${formatCount(t.conflicts).padStart(8)}${t.note ? `  (${t.note})` : ""}`,
    );
  }
  if (empty) ctx.out.text(`(${empty} more table(s) without rows${tables.length === empty ? "" : " not listed"}; --json lists every table)`);
}

export async function sidecarCommand(ctx: Ctx): Promise<CommandResult> {
  const resolved = ctx.resolve();
  const { out, opts } = ctx;
  if (resolved.kind !== "file") throw failed({ what: "sidecar works on local files.", untouched: "Nothing was changed.", next: "Use --db PATH." });
  const dbPath = resolved.path!;
  const sidecar = sidecarPathFor(dbPath, opts.sidecar as string | undefined);
  const apply = Boolean(opts.apply);
  const merge = Boolean(opts.merge);
  // Before anything else: a --sidecar that is the primary (or a link to it) would archive the live database.
  assertNotPrimary(sidecar, dbPath);
  const base = loadBaselineContext();
  const d = await diagnose(resolved, base);
  if (d.error) throw d.error;
  if (d.chain === "missing")
    throw failed({ what: `There is no database at ${dbPath}.`, untouched: "Nothing was written.", next: "Check --db (or VOX_DB_PATH)." });
  if (!existsSync(sidecar) && !isDanglingLink(sidecar)) {
    const prior = d.chain === "current" ? lastSidecarRun(dbPath) : undefined;
    out.text(`sidecar: ${sidecar} is not there${prior ? ` (archived by run ${prior.runId} at ${prior.createdAt})` : ""}: nothing to do.`);
    return {
      ok: true,
      mode: apply ? "apply" : "dry-run",
      db: resolved,
      data: { sidecar: { path: sidecar, exists: false }, archive: { path: null }, tables: [], changed: false },
    };
  }
  const probe = probeFile(sidecar);
  if (!isDatabaseFile(probe)) throw notADatabase(sidecar, probe); // a 0-byte file is an empty database, as SQLite and vox open it
  if (d.chain !== "current") {
    throw refused({
      what: `The primary ${dbPath} is ${d.chain}; the sidecar is merged or archived only once the primary is on the current baseline.`,
      untouched: "Nothing was changed.",
      next:
        d.chain === "legacy" || d.chain === "ahead"
          ? `Finish Stage 1 first: ${commandFor("cutover", dbPath, "")} (its Stage 2 takes the sidecar).`
          : `Run ${commandFor("migrate", dbPath, "--apply")} first.`,
      details: { chain: d.chain },
    });
  }
  const side = await diagnose(
    { kind: "file", path: sidecar, source: resolved.source, why: "the training-telemetry sidecar", display: sidecar, warnings: [] },
    base,
  );
  if (side.error) throw side.error;
  const versions = side.versions.map((v) => String(v));
  const canonical = openReadOnly(dbPath);
  let tables: SidecarTable[];
  try {
    tables = compareSidecar(sidecar, canonical);
  } finally {
    canonical.close();
  }
  out.text(`sidecar: ${sidecar} (chain ${side.chain}; schema_version rows: ${versions.join(", ") || "none"})`);
  printTables(ctx, tables, false, merge);
  const sidecarInfo = { path: sidecar, exists: true, chain: side.chain, versions };
  if (!apply) {
    out.text("");
    out.text(
      `dry-run: nothing was changed. --apply backs it up (verified), ${merge ? "copies the missing rows in one transaction (conflicts → legacy_quarantine, reason sidecar-conflict), " : "(add --merge to copy the missing rows first) "}then moves it with its -wal/-shm into the work dir's archive.`,
    );
    return { ok: true, mode: "dry-run", db: resolved, data: { sidecar: sidecarInfo, archive: { path: null }, tables } };
  }
  assertNoUnfinishedRun(dbPath); // resumed or rolled back first: this write would be one its rollback does not know
  return withWriteSafety(
    {
      command: "sidecar",
      dbPath,
      workDir: typeof opts.workDir === "string" && opts.workDir ? resolve(opts.workDir) : undefined,
      breakLock: Boolean(opts.breakLock),
    },
    async (g) => {
      // The sidecar moves too: it must not be held open, nor lie inside another run's work dir.
      assertNoHolders(identify(sidecar), "(the sidecar: an application still running?)");
      const enc = readMarker(dirname(sidecar));
      if (enc && enc.runId !== g.runId)
        throw refused({
          what: `--sidecar ${sidecar} is inside the work dir of another run (${enc.command} run ${enc.runId}).`,
          untouched: "Nothing was changed.",
          next: "Pass the live sidecar beside the database.",
        });
      assertArchivable(g.workDir, sidecar, "the sidecar"); // it failed after the merge had committed (EXDEV)
      const workDir = g.ensureWorkDir();
      const runId = g.runId;
      const applied = await applySidecar({
        sidecar,
        dbPath,
        workDir,
        archiveDir: archiveDirOf(workDir),
        runId,
        merge,
        baseline: { version: base.manifest.baselineVersion, digest: base.digest },
        // A stop request after the backup: the sidecar is neither merged nor moved, and the run's
        // folder (only that backup of a file still in place) is removed.
        afterBackup: async () => {
          pausePoint("sidecar-backup-written");
          await stopPoint(
            ctx.token,
            "after the sidecar's backup, before anything changed",
            `Nothing was merged or moved: ${sidecar} and ${dbPath} are as they were; the run's folder ${workDir} (only the sidecar's backup) was removed.`,
          );
        },
      });
      g.started();
      keepModeTree(workDir, g.id);
      const { backup, archive } = applied;
      tables = applied.tables;
      out.text(`backup: ${backup.path} verified (${formatCount(backup.rows)} rows, sha256 ${backup.sha256})`);
      if (merge)
        out.text(
          `merged: ${formatCount(applied.merged)} row(s) copied, ${formatCount(applied.conflicts)} conflict(s) in legacy_quarantine (reason sidecar-conflict)${applied.heldAlready ? `, ${formatCount(applied.heldAlready)} of them there already from an earlier merge (not stored twice)` : ""}`,
        );
      else out.text("archive only: no row was copied (the sidecar's rows stay in the archive and the backup)");
      out.text(`archived: ${archive} (never deleted)`);
      printTables(ctx, tables, true, merge);
      return {
        ok: true,
        exitCode: EXIT.ok,
        mode: "apply" as const,
        db: resolved,
        data: {
          sidecar: { ...sidecarInfo, exists: false },
          archive: { path: archive },
          backup: { path: backup.path, sha256: backup.sha256, verified: true },
          tables,
          runId,
          workDir,
          changed: true,
        },
      };
    },
  );
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function lastSidecarRun(dbPath: string) {
  const db = openReadOnly(dbPath);
  try {
    return listLedger(db)
      .filter((r) => r.command === "sidecar")
      .at(-1);
  } finally {
    db.close();
  }
}
