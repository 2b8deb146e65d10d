/**
 * A swap resumed after its rename (the process stopped between the new file's rename over the name
 * and the journal's `new-in-place`): the new file is in place, the original in the archive. It is
 * finished only if nobody holds the original and nothing wrote to it since the swap journaled it
 * (after its link, under the hold): an application that held the old file could have written to it
 * once this run's lock went with its process — that write would be only in the archive.
 */
import { refused } from "../src/errors.js";
import { contentState, describeContentChange, LIVE_WRITE_GATE, sameContent } from "../src/safety/content-version.js";
import { describeHolders, openHolders } from "../src/safety/holders.js";
import { inodeOf } from "../src/safety/identity.js";
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
