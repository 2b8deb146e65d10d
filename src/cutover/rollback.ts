/** `cutover --rollback`: what it would do (dry-run) and doing it, for an unfinished or a finished run. */
import { existsSync, linkSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { diagnose } from "../db/diagnose.js";
import { openReadWrite } from "../db/local.js";
import { fsyncPath, moveDatabaseFiles } from "../db/files.js";
import { failed, refused, usage } from "../errors.js";
import { archivedPath, DB_SIDE_SUFFIXES, isOwnTempBeside, isPartial, ROLLED_BACK_NEW, sidecarBeside, SIDECAR_NAME } from "../layout.js";
import type { Emit } from "../engine/events.js";
import { withWriteSafety, type DbIdentity } from "../safety/guard.js";
import { inodeOf, sameInode } from "../safety/identity.js";
import { whereabouts } from "../engine/whereabouts.js";
import { assertRecorded, journalProblemError } from "../safety/runfiles.js";
import { describeContentChange, contentState, sameContent } from "../safety/content-version.js";
import { Journal } from "../engine/journal.js";
import { describeHolder, isStale, readLock, removeDeadLocks, type Lock } from "../safety/lock.js";
import { finishedRun, type RunOnDisk } from "../engine/runs.js";
import { emptyReport, finishReport, type CutoverReport } from "../report/cutover-report.js";
import { commandFor, type CutoverOptions } from "./plan.js";
/** `cutover --rollback`: an unfinished run (any phase) or, after a finished cutover, the last finished run. */
export async function rollbackCommand(opts: CutoverOptions, id: DbIdentity, pending: RunOnDisk | undefined, started: number): Promise<CutoverReport> {
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
    return finishReport(r, started);
  }
  if (finished && change && !opts.force) {
    throw refused({
      what: `The database ${dbPath} changed since the cutover finished (${change}): rolling back would set those changes aside with the new file.`,
      untouched: "Nothing was changed: the database and the archived original stay where they are.",
      next: `If the changes may be set aside (the new file is kept in ${run.workDir}), run again with --force: ${commandFor("cutover", opts.resolved.path!, "--rollback --apply --force")}.`,
      details: { workDir: run.workDir, change },
    });
  }
  r.message = await withWriteSafety({ command: `${opts.command}:rollback`, dbPath, workDir: run.workDir, workDirOurs: true, runId: start.runId, lock: true, breakLock: opts.breakLock, holders: true, signals: false }, async (g) =>
    finished ? rollbackFinished(run, dbPath, opts.emit, g.lock) : rollbackRun(run, dbPath, opts.emit, g.lock),
  );
  r.outcome = "rolled-back";
  r.archive.path = null;
  r.after.chain = (await diagnose(opts.resolved)).chain;
  return finishReport(r, started);
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
export function rollbackFinished(run: RunOnDisk, dbPath: string, emit: Emit, lock?: Lock | null): string {
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
  lock?.cover(archive); // the original is locked for this rollback before it takes the name back
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

/** WAL: every frame into the file and the -wal removed (our own connection, closed). */
export function checkpointIfWal(dbPath: string): void {
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
export function rollbackRun(run: RunOnDisk, dbPath: string, emit: Emit, lock?: Lock | null): string {
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
      lock?.cover(archive);
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
