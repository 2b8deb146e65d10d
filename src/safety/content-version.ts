import { contentState, sameContent, untouchedSince, type ContentState } from "../db/probe.js";
import { refused } from "../errors.js";

/**
 * The **content version** of a SQLite file: what changes with every committed write, in WAL and
 * rollback-journal mode alike. (Not the file's identity — device + inode, which says *which* file
 * it is; this says *what state* it is in.)
 * - rollback-journal mode: every commit increments the header's change counter (bytes 24–27) and
 *   rewrites the file (size, mtime);
 * - WAL mode: the change counter does not move, so the `-wal` is covered by a hash of its bytes.
 *   Within one WAL generation frames are only appended; a restart rewrites the header with new
 *   salts (and every frame carries them), so every commit changes the -wal's bytes. A checkpoint
 *   changes the main file (mtime) without a new commit: the version changes then too — a false
 *   "changed" is a refusal, never a lost row.
 * An absent and an empty `-wal` are the same state (opening a WAL file creates an empty one).
 * The state and its two comparisons (`sameContent`, `untouchedSince`) are defined beside the file's
 * probe (src/db/probe.ts), so that db/ (openSnapshot's private copy) judges by the same rule.
 */
export { contentState, sameContent, untouchedSince, type ContentState };

export function describeContentChange(a: ContentState, b: ContentState): string {
  const parts: string[] = [];
  if (a.size !== b.size) parts.push(`size ${a.size} → ${b.size}`);
  if (a.changeCounter !== b.changeCounter) parts.push(`change counter ${a.changeCounter} → ${b.changeCounter}`);
  if (a.mtimeNs !== b.mtimeNs) parts.push("modification time changed");
  if (a.walSize !== b.walSize || a.walMtimeNs !== b.walMtimeNs || (a.walSha256 ?? null) !== (b.walSha256 ?? null)) parts.push("its -wal changed");
  if (!parts.length && !untouchedSince(a, b))
    parts.push("its status-change time moved: written to with its size and modification time put back, or its permissions, owner or links changed");
  return parts.join(", ");
}

/** The refusal's `details.gate` when the primary was written to since the export: resuming would stop at the same gate. */
export const LIVE_WRITE_GATE = "live-write";
/** The refusal's `details.gate` when another file is at the primary's name before the swap began: resuming would stop there again; the rollback closes the run. */
export const REPLACED_GATE = "replaced";
/** Whether a refusal with this `details.gate` stops every resume of the run (only a rollback, then a new run, goes on). */
export const stopsResume = (gate: unknown): boolean => gate === LIVE_WRITE_GATE || gate === REPLACED_GATE;

/**
 * The gate before anything replaces or changes the primary: it must still be exactly what the
 * export read. `consequence` says what would be lost (for the message); `now` is given under the
 * hold (read through its descriptor, see src/safety/hold.ts). `same`: `untouchedSince`, or
 * `sameContent` where this run's own swap may have linked the file since `before` (a resume).
 */
export function assertUnchangedSince(
  before: ContentState,
  path: string,
  consequence: string,
  now: ContentState = contentState(path),
  same: (a: ContentState, b: ContentState) => boolean = untouchedSince,
): ContentState {
  if (!same(before, now)) {
    // Only its ctime moved: a write with its size and times put back, or a chmod, chown or link — said as such.
    const touched = sameContent(before, now);
    throw refused({
      what: touched
        ? `The primary ${path} was touched since the export (${describeContentChange(before, now)}): if it was written to, ${consequence}.`
        : `The primary ${path} changed since the export (${describeContentChange(before, now)}): ${consequence}.`,
      untouched: "The primary was left in place, unchanged by this tool.",
      next: touched
        ? "Find what touched it (an application writing, a sync or restore tool, a permission or owner change), roll this run back (--rollback) and run the cutover again."
        : "Stop the application writing to it, roll this run back (--rollback) and run the cutover again.",
      details: { gate: LIVE_WRITE_GATE },
    });
  }
  return now;
}
