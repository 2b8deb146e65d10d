/**
 * Moving a kept dry-run trial's files (engine/kept-trial.ts) into the run that adopts them
 * (stages/stage1-adopt.ts), only files of this user's.
 */
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, renameSync, rmSync, statSync, type Stats } from "node:fs";
import { dirname } from "node:path";
import { copyFd } from "../util/copy-fd.js";
import { fsyncDir } from "../util/fsync.js";

/** This process's user (undefined where the platform has none: every file counts as this user's). */
export const myUid = process.getuid?.();

/** Whether this user owns what `st` describes. */
export function mine(st: { uid: number }): boolean {
  return myUid === undefined || st.uid === myUid;
}

/** A regular file of this user's with one name: another user could not have put it (or a link to it) where it is. */
export function ownFile(st: Stats): boolean {
  return st.isFile() && st.nlink === 1 && mine(st);
}

/**
 * Moves a kept trial's file to `to` (which must not exist), only a file of this user's: renamed on
 * the same mount (then checked there: removed if it is not), else copied from the open file
 * under `partial` (a name the run's clean-ups know), synced, the kept copy removed, renamed — so
 * `to` is whole or absent.
 */
export function adoptFile(from: string, to: string, partial: string, renamed?: () => void): void {
  if (existsSync(to)) throw new Error(`${to} exists: the kept trial's file is not moved over it`);
  const notOurs = new Error(`${from} is not a file of this user's`);
  if (statSync(from).dev === statSync(dirname(to)).dev && renamedAcross(from, to)) {
    if (!ownFile(lstatSync(to))) {
      rmSync(to, { force: true });
      throw notOurs;
    }
    renamed?.(); // at once after the rename (the folder's fsync follows), for a look at the file as it was moved
  } else {
    const fd = openSync(from, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      if (!ownFile(st)) throw notOurs;
      copyFd(fd, partial, { mode: st.mode & 0o777, exclusive: true, sync: true });
      rmSync(from, { force: true });
      renameSync(partial, to);
    } catch (e) {
      rmSync(partial, { force: true });
      throw e;
    } finally {
      closeSync(fd);
    }
  }
  fsyncDir(dirname(to));
}

/** Renamed; false where the two names are on different mounts of one filesystem (a bind mount: EXDEV), then copied. */
function renamedAcross(from: string, to: string): boolean {
  try {
    renameSync(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EXDEV") return false;
    throw e;
  }
}
