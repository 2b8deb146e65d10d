/**
 * A run whose work dir is of the operator's choosing (`--work-dir`) leaves a pointer to it in
 * `vox-cutover-runs/` beside the database before its journal begins, so that diagnose, the wizard
 * and every writing command find it unfinished — and resume or roll it back — without being told
 * where it is (a default work dir lies there already). Its rollback removes it.
 *
 * A pointer, and the folder it names, are input to verify (helper-104): a pointer is read only when
 * it is a small regular file (never a FIFO, a device or a link: reading one could block for ever)
 * of this user's, the database owner's or root's; the folder it names must belong to one of them
 * too, and its run marker must name the pointer's run and this database. The run itself is then
 * taken from the folder's journal (engine/runs.ts), which must name this database.
 */
import { lstatSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from "node:fs";
import { readSmallFile } from "../util/small-file.js";
import { dirname, join } from "node:path";
import { RUN_MARKER, runsRoot, workDirPointer } from "../layout.js";
import { check, RunMarkerSchema, WorkDirPointerSchema } from "../validate/schemas.js";
import { fsyncDir, fsyncFile } from "../util/fsync.js";

const MAX_POINTER_BYTES = 64 << 10;

/** Writes (or rewrites) the pointer to `workDir`; a pointer that cannot be written is said (`warn`), and the run goes on: its printed resume and rollback name --work-dir. */
export function pointToWorkDir(dbPath: string, workDir: string, runId: string, warn: (text: string) => void): void {
  const root = runsRoot(dbPath);
  if (dirname(workDir) === root) return;
  const pointer = workDirPointer(dbPath, runId);
  const partial = `${pointer}.partial-${process.pid}`;
  try {
    mkdirSync(root, { recursive: true });
    writeFileSync(partial, JSON.stringify({ format: "vox-cutover-work-dir", runId, db: dbPath, workDir }, null, 2) + "\n", { flag: "w" });
    fsyncFile(partial);
    renameSync(partial, pointer); // whole or absent; one of the same run (an adopted trial's run id) is replaced
    fsyncDir(root);
  } catch (e) {
    try {
      rmSync(partial, { force: true });
    } catch {
      /* no folder to remove it from */
    }
    warn(
      `The pointer to this run's work dir could not be written beside the database (${pointer}: ${(e as NodeJS.ErrnoException).code ?? String(e)}): diagnose and the wizard find this run only when given --work-dir ${workDir}.`,
    );
  }
}

/** Removes a run's pointer (its rollback closed it); best effort. */
export function removePointer(dbPath: string, runId: string): void {
  try {
    rmSync(workDirPointer(dbPath, runId), { force: true });
  } catch {
    /* no folder to remove it from (a file where vox-cutover-runs would be): nothing was pointed to */
  }
}

/** Who may have written a run's files: this user, the database's owner, root. */
export function runOwners(real: string): Set<number> {
  const owners = new Set<number>([0]);
  const me = process.getuid?.();
  if (me !== undefined) owners.add(me);
  try {
    owners.add(statSync(real).uid);
  } catch {
    /* no file at the name now */
  }
  return owners;
}

const trusted = (st: Stats, owners: Set<number>): boolean => process.getuid === undefined || owners.has(st.uid);

/** A small regular file of a trusted owner (util/small-file.ts); else null. */
function readSmall(path: string, owners: Set<number>): string | null {
  return readSmallFile(path, MAX_POINTER_BYTES, (st) => trusted(st, owners));
}

/** The work dir a pointer in `vox-cutover-runs/` (`name`: `<run id>.work-dir.json`) names, when the pointer, the folder and its marker hold up (above); else null. */
export function pointedWorkDir(name: string, real: string, owners: Set<number>): string | null {
  try {
    const p = check(WorkDirPointerSchema, JSON.parse(readSmall(join(runsRoot(real), name), owners) ?? "null"));
    if (!p || p.db !== real) return null;
    const st = statSync(p.workDir);
    if (!st.isDirectory() || !trusted(st, owners)) return null;
    const m = check(RunMarkerSchema, JSON.parse(readSmall(join(p.workDir, RUN_MARKER), owners) ?? "null"));
    return m && m.runId === p.runId && m.db === real ? p.workDir : null;
  } catch {
    return null; // gone, unreadable or not JSON: not a pointer to a run of this database
  }
}

/** Whether a run folder's journal may be read: a regular file (never a FIFO or a device), of a trusted owner where the folder was only pointed to. */
export function readableJournal(path: string, owners: Set<number> | null): boolean {
  try {
    const st = lstatSync(path);
    return st.isFile() && (owners === null || trusted(st, owners));
  } catch {
    return false;
  }
}
