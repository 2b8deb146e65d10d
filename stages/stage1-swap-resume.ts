/**
 * Swaps resumed after a stop inside them. After its rename (the process stopped between the new
 * file's rename over the name and the journal's `new-in-place`): the new file is in place, the
 * original in the archive. It is finished only if nobody holds the original and nothing wrote to it
 * since the swap journaled it (after its link, under the hold): an application that held the old
 * file could have written to it once this run's lock went with its process — that write would be
 * only in the archive. Inside the undo of a swap (a late holder found): the swap is finished forward.
 */
import { existsSync, renameSync } from "node:fs";
import { dirname } from "node:path";
import { refused } from "../src/errors.js";
import { newFileWrittenByItsName } from "../src/safety/runfiles.js";
import { pausePoint } from "../src/engine/testhooks.js";
import { DB_SIDE_SUFFIXES } from "../src/layout.js";
import { removeOwnDatabaseFiles, sideFileWithWrites } from "../src/db/files.js";
import { fsyncDir } from "../src/util/fsync.js";
import { contentState, describeContentChange, LIVE_WRITE_GATE, sameContent } from "../src/safety/content-version.js";
import { describeHolders, openHolders } from "../src/safety/holders.js";
import { inodeOf, sameInode } from "../src/safety/identity.js";
import type { RunContext } from "./types.js";

export function finishRenamedSwap(c: RunContext, archive: string): void {
  const late = openHolders(archive, inodeOf(archive)).holders;
  if (late.length)
    throw refused({
      what: `${describeHolders(late)}: it holds the original file, archived at ${archive}, so its writes would be lost.`,
      untouched: `The new file is at ${c.dbPath}; the original is in the archive.`,
      next: "Stop that application, then --resume --apply again, or --rollback --apply to put the original back.",
    });
  // Content alone: the rename took the original's name away, which moved its ctime.
  const now = contentState(archive);
  if (c.swapState && !sameContent(c.swapState, now))
    throw refused({
      what: `The original, archived at ${archive}, was written to after the swap moved it there (${describeContentChange(c.swapState, now)}): the new file at ${c.dbPath} would miss those writes.`,
      untouched: `The new file is at ${c.dbPath}; the original, with those writes, is in the archive.`,
      next: "Roll this run back (--rollback --apply puts the original back), stop the application that wrote to it, and run the cutover again.",
      details: { gate: LIVE_WRITE_GATE },
    });
  c.journalSwap("new-in-place");
}

/**
 * The process stopped inside the undo of a swap (a late holder of the original was found): the new
 * file already linked back to its own name, still at the database's name too, the original not yet
 * renamed back from the archive. Only that moment has the name and the new file's name on one inode.
 */
export function stoppedInUndo(c: RunContext, archive: string): boolean {
  return c.swapPhase !== "none" && existsSync(archive) && existsSync(c.newPath) && existsSync(c.dbPath) && sameInode(c.dbPath, c.newPath);
}

/**
 * The undo's step: the archived original renamed back over its name (the new file keeps its own),
 * with its side files.
 */
export function renameArchivedBack(c: RunContext, archive: string): void {
  renameSync(archive, c.dbPath);
  pausePoint("swap-undo-renamed");
  for (const sfx of DB_SIDE_SUFFIXES) if (existsSync(archive + sfx) && !existsSync(c.dbPath + sfx)) renameSync(archive + sfx, c.dbPath + sfx);
  fsyncDir(dirname(c.dbPath));
}

/**
 * A resume of a run stopped inside its undo finishes the swap forward: the new file has served the
 * database's name since the rename, and an application may have written to it there (its `-wal` is
 * the name's: renaming the original back over the name would strand those frames — review of session
 * 31). The new file's second name, linked back by the undo, goes; the run is then one stopped right
 * after its rename (finishRenamedSwap: nobody may hold the archived original, nothing may have
 * written to it). Refused if the new file's own name has a -wal or -journal with content (something opened it by
 * that name and wrote: the unlink would strand those frames).
 */
export function forwardFromUndo(c: RunContext): void {
  const written = sideFileWithWrites(c.newPath);
  if (written)
    throw newFileWrittenByItsName(written, `Nothing was moved: the new file is at ${c.dbPath} and also at ${c.newPath}; the original is in the archive.`);
  if (!sameInode(c.dbPath, c.newPath)) throw new Error(`${c.newPath} is no longer the file at ${c.dbPath}`); // checked by stoppedInUndo, under this run's lock
  removeOwnDatabaseFiles(c.newPath); // a second name of the file at the database's name, and its side files (nothing in them: above)
  fsyncDir(dirname(c.newPath));
}
