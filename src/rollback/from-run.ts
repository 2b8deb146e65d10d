/** A run's `RollbackPlan`, computed from its journal and what is on disk now (reads only). */
import { existsSync, readdirSync } from "node:fs";
import { sideFileWithWrites } from "../db/files.js";
import { basename, dirname, join } from "node:path";
import { archivedPath, isOwnTempBeside, isPartial, ROLLED_BACK_NEW, sidecarBeside, SIDECAR_NAME } from "../layout.js";
import { birthNsOf, bornIso, inodeOf, sameFileAs, sameInode } from "../safety/identity.js";
import { describeContentChange, contentState, sameContent } from "../safety/content-version.js";
import type { RunOnDisk } from "../engine/runs.js";
import { swapMoved } from "../engine/journal.js";
import type { RollbackAction, RollbackPlan, RollbackRefusal } from "./plan.js";

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

function freeName(p: string): string {
  if (!existsSync(p)) return p;
  for (let n = 2; ; n++) if (!existsSync(`${p}.${n}`)) return `${p}.${n}`;
}

/** The rollback of `run` as things stand now (reads only). */
export function planRollback(run: RunOnDisk, dbPath: string): RollbackPlan {
  const start = run.state.start!;
  const finished = run.state.finished;
  const archive = archivedPath(start.archiveDir, dbPath);
  const actions: RollbackAction[] = [];
  let refusal: RollbackRefusal | null = null;
  let replaced: RollbackPlan["replaced"];
  const keepNew = (checkpoint: boolean) => actions.push({ kind: "keep-new", from: dbPath, to: freeName(join(run.workDir, ROLLED_BACK_NEW)), checkpoint });
  if (finished) {
    const change = changeSinceFinish(run, dbPath);
    if (!existsSync(archive)) refusal = { kind: "archive-missing", archive };
    else if (change) refusal = { kind: "changed-since-finish", change };
    if (existsSync(dbPath)) keepNew(true);
    actions.push({ kind: "restore-original", from: archive, to: dbPath });
  } else if (existsSync(archive)) {
    if (existsSync(dbPath) && sameInode(dbPath, archive)) actions.push({ kind: "drop-archive-name", path: archive });
    else {
      if (existsSync(dbPath)) keepNew(false);
      actions.push({ kind: "restore-original", from: archive, to: dbPath });
    }
  } else {
    // No archive: the primary is the original only if it is still the file the run started from.
    const orig = start.identity;
    const ino = inodeOf(dbPath);
    const same = sameFileAs(orig, dbPath); // null: the journal does not say which file the run started from
    const detail = !ino
      ? "not there (no file at its name)"
      : orig?.dev
        ? `not the file run ${start.runId} started from (device/inode ${orig.dev}/${orig.ino} then, ${ino.dev}/${ino.ino} now${ino.ino === orig.ino && orig.born ? `: the number reused by a file made ${bornIso(birthNsOf(dbPath))}, the original was made ${bornIso(orig.born)}` : ""})`
        : "not there";
    // The original is linked into the archive (journaled "intent" first) before anything is renamed:
    // with no archive and the swap short of "primary-archived", this run never moved the file at the
    // name, so whatever is there now (another file put there since, or none) is left as it is.
    if (swapMoved(run.state.swapPhase) && same !== true) refusal = { kind: "primary-not-original", archive, detail };
    else if (same === false) replaced = { gone: !ino, detail };
  }
  const sideArchived = join(start.archiveDir, SIDECAR_NAME);
  const sideHome = sidecarBeside(dbPath);
  if (existsSync(sideArchived) && !existsSync(sideHome)) actions.push({ kind: "restore-sidecar", from: sideArchived, to: sideHome });
  // Stopped inside its swap's undo (the new file at the name and at its own), a -wal or -journal at the new file's own name is not the build's: it holds writes.
  const written = !finished && !refusal && existsSync(start.newPath) && sameInode(dbPath, start.newPath) ? sideFileWithWrites(start.newPath) : null;
  if (written) refusal = { kind: "new-file-written", wal: written };
  if (!finished) {
    // Only our own temporary files: the unfinished new file (built from the backup, which is kept)
    // and the temporary names an interrupted import or export leaves.
    const dir = dirname(dbPath);
    for (const f of existsSync(dir) ? readdirSync(dir) : [])
      if (isOwnTempBeside(dbPath, f)) actions.push({ kind: "remove-temp", path: join(dir, f), newFile: f === basename(start.newPath) });
    for (const f of existsSync(run.workDir) ? readdirSync(run.workDir) : [])
      if (isPartial(f)) actions.push({ kind: "remove-partial", path: join(run.workDir, f) });
  }
  const backupKept = existsSync(start.backupPath) && (finished || run.state.done.has("export")) ? start.backupPath : null;
  return {
    runId: start.runId,
    dbPath,
    workDir: run.workDir,
    archiveDir: start.archiveDir,
    finished,
    swapPhase: run.state.swapPhase,
    actions,
    backupKept,
    refusal,
    ...(replaced ? { replaced } : {}),
  };
}
