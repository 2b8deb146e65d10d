/** Carries out a `RollbackPlan` (./plan.ts): the one executor of `cutover --rollback --apply`, for the CLI and the wizard alike. */
import { existsSync, linkSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { checkpointIfWal, moveDatabaseFiles } from "../db/files.js";
import { fsyncDir } from "../util/fsync.js";
import { failed, refused, type VoxError } from "../errors.js";
import { DB_SIDE_SUFFIXES } from "../layout.js";
import { whereabouts } from "../engine/whereabouts.js";
import { assertRecorded, newFileWrittenByItsName } from "../safety/runfiles.js";
import { assertUnheldBeforeRename } from "../safety/holders.js";
import { Journal } from "../engine/journal.js";
import { removeDeadLocks, type Lock } from "../safety/lock.js";
import type { RunOnDisk } from "../engine/runs.js";
import { removePointer } from "../engine/run-pointers.js";
import type { RollbackPlan } from "./plan.js";

/** The refusals the plan found, as errors (the journal already says a rollback began). */
function refusalError(plan: RollbackPlan, run: RunOnDisk): VoxError | null {
  const start = run.state.start!;
  const f = plan.refusal;
  if (f?.kind === "archive-missing") {
    return failed({
      what: `The archived original ${f.archive} is not there.`,
      untouched: `The database ${plan.dbPath} was left as it is.`,
      next: "Look for it in the work dir; the verified backup can rebuild it (vox-cutover import-legacy).",
    });
  }
  if (f?.kind === "primary-not-original") {
    return refused({
      what: `The archived original ${f.archive} is gone, and ${plan.dbPath} is ${f.detail}: there is nothing this rollback could put back.`,
      untouched: `Nothing was moved. ${whereabouts({ ...start, dbPath: plan.dbPath }, plan.swapPhase, null)}`,
      next: `Look for the original (the archive folder ${start.archiveDir}); the verified backup ${start.backupPath} can rebuild its rows (vox-cutover import-legacy into a new file).`,
      details: { workDir: run.workDir, archive: f.archive },
    });
  }
  if (f?.kind === "new-file-written")
    return newFileWrittenByItsName(f.wal, `Nothing was moved. ${whereabouts({ ...start, dbPath: plan.dbPath }, plan.swapPhase, null)}`);
  return null;
}

/**
 * Carries out a rollback plan: the new file in place gets a second name in the work dir first (never
 * deleted), then the archived original is renamed over the name in one step (never empty); only the
 * run's own temporary files are removed. Journaled (rollback-start, rollback-done).
 */
export function executeRollback(plan: RollbackPlan, run: RunOnDisk, lock?: Lock | null): string {
  const journal = new Journal(run.workDir);
  journal.append({ e: "rollback-start" });
  const err = refusalError(plan, run);
  if (err) throw err;
  const msgs: string[] = [];
  let restored = false;
  for (const a of plan.actions) {
    if (a.kind === "restore-original") assertArchived(run, a.from); // before anything moves
  }
  for (const a of plan.actions) {
    switch (a.kind) {
      case "keep-new":
        if (a.checkpoint) checkpointIfWal(a.from);
        linkSync(a.from, a.to);
        for (const sfx of DB_SIDE_SUFFIXES) if (existsSync(a.from + sfx)) renameSync(a.from + sfx, a.to + sfx);
        msgs.push(`the new file is kept at ${a.to}`);
        break;
      case "restore-original":
        for (const sfx of DB_SIDE_SUFFIXES) if (existsSync(a.from + sfx)) renameSync(a.from + sfx, a.to + sfx);
        lock?.cover(a.from); // the original is locked for this rollback before it takes the name back
        renameSync(a.from, a.to); // one step: the name holds the new file, then the original
        fsyncDir(dirname(a.to));
        restored = true;
        msgs.push(`the original was put back from ${a.from}`);
        break;
      case "drop-archive-name":
        for (const sfx of DB_SIDE_SUFFIXES) if (existsSync(a.path + sfx) && !existsSync(plan.dbPath + sfx)) renameSync(a.path + sfx, plan.dbPath + sfx);
        rmSync(a.path, { force: true }); // a second name of the primary, not data
        msgs.push(`the primary ${plan.dbPath} was never replaced`);
        break;
      case "restore-sidecar":
        if (existsSync(a.to)) break;
        moveDatabaseFiles(a.from, a.to);
        msgs.push("the sidecar was put back beside it");
        break;
      case "remove-temp":
        rmSync(a.path, { force: true });
        if (a.newFile) msgs.push(`removed the unfinished new file ${a.path}`);
        break;
      case "remove-partial":
        rmSync(a.path, { force: true });
        break;
    }
  }
  if (!plan.actions.some((a) => a.kind === "restore-original" || a.kind === "drop-archive-name"))
    msgs.unshift(
      `the primary ${plan.dbPath} was never moved${!plan.replaced ? "" : plan.replaced.gone ? " (there is no file at its name now)" : ` (the file at its name now is ${plan.replaced.detail}: left as it is)`}`,
    );
  if (!plan.finished) removeDeadLocks(plan.dbPath, plan.runId);
  journal.append({ e: "rollback-done", restored });
  removePointer(plan.dbPath, plan.runId); // the run is closed: nothing to find beside the database any more
  const kept = plan.backupKept ? ` The backup ${plan.backupKept} is kept.` : plan.finished ? "" : " No backup had been finished, so there is none to keep.";
  // Returned, not emitted: it is the report's message, which every driver prints once (it was printed twice).
  return `rolled back ${plan.finished ? "the finished run" : "run"} ${plan.runId}: ${msgs.join("; ")}.${kept}`;
}

/** The archive must be the original primary (the run-start device/inode) and, after a finished swap, what the swap recorded. */
function assertArchived(run: RunOnDisk, archive: string): void {
  const orig = run.state.start!.identity;
  const untouched = "Nothing was moved: the database, the archive and the new file stay where they are.";
  const next =
    "Find out who replaced it. If the original is elsewhere, put it back by hand; the verified backup can rebuild its rows (vox-cutover import-legacy into a new file).";
  // Nobody may hold it by its archive name (an operator inspecting it): it would keep that name's -wal and -shm after the rename.
  assertUnheldBeforeRename(archive, {
    role: "the archived original",
    untouched,
    next: "Close that process (an sqlite3 shell or a viewer left open on the archive?), then run --rollback --apply again.",
  });
  if (orig?.dev && orig.ino)
    assertRecorded(
      "the archived original",
      archive,
      { dev: orig.dev, ino: orig.ino, size: 0, mtimeNs: "", fingerprint: "" },
      { inodeOnly: true, untouched, next },
    );
  assertRecorded("the archived original", archive, run.state.done.get("swap")?.archiveFile, { untouched, next });
}
