/**
 * The apply of a dry-run's plan checks the kept built file's sha256 before it adopts it (kept-trial.ts
 * builtFileIntact: 1 GB read and hashed, ~0.8 s on one core). Taken on a worker thread from the moment
 * the trial is taken, it runs beside Stage 0's integrity_check of the primary (the same length at
 * 1 GB, on the main thread) instead of after it. What it proves holds only for the file as it was
 * while hashed, so the build step uses it only when the file's stat — device, inode, size, mtime and
 * ctime, which any write, truncation, utimes or chmod moves — is the same before the first read,
 * after the last, and just before the file is moved; after a rename (the same inode) its size and
 * mtime must still be those. Otherwise (a copy to another filesystem, a stat that moved, no worker)
 * the moved file is hashed as before.
 */
import { sameStat, statNow, type FileHashBeside, type StatNow } from "../util/file-hash-beside.js";

/**
 * The sha256 the worker took of `path`, when it still speaks for the file there now: it matched
 * `want`, nothing wrote to the file while it was read, and its stat is unchanged since. Returns that
 * stat (to compare after the move), or null: hash the file again after it is moved.
 */
export async function provenBefore(beside: FileHashBeside | null | undefined, path: string, want: string): Promise<StatNow | null> {
  if (!beside) return null;
  const r = await beside.result;
  if ("error" in r || r.sha256 !== want || !sameStat(r.before, r.after) || !sameStat(r.after, statNow(path))) return null;
  return r.after;
}

/** The same inode, size and mtime: nothing wrote to the file between the two (a rename moves only the ctime). */
const unwritten = (a: StatNow, b: StatNow): boolean => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;

/** After the move: the same inode, size and mtime as when proven. */
export function stillProven(was: StatNow | null, path: string): boolean {
  const now = statNow(path);
  return was !== null && now !== null && unwritten(was, now);
}

/**
 * The sha256 the worker took of a file that may since have been renamed (the dry-run's trial file,
 * taken beside its checks: engine/trial.ts): when nothing wrote to it while it was read (a rename
 * meanwhile moves only the ctime) and its inode, size and mtime are the same now. Otherwise null:
 * hash the file again. What is recorded stands for nothing by itself: an apply adopts the file only
 * if the sha256 of the file it finds is this one (kept-trial.ts).
 */
export async function hashStillHolds(beside: FileHashBeside | null, path: string): Promise<string | null> {
  if (!beside) return null;
  const r = await beside.result;
  return !("error" in r) && unwritten(r.before, r.after) && stillProven(r.after, path) ? r.sha256 : null;
}
