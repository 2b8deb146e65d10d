/**
 * The one home for fsync. `fsyncFile` is strict: a failed fsync (EIO, ENOSPC…) means the bytes may
 * not be on disk, so it throws and the caller stops before it relies on them (the journal, the run
 * marker, the lock file, a backup, a new database before its rename). `fsyncDir` makes a rename or
 * a new entry durable and is tolerant: some platforms and filesystems cannot fsync a directory.
 */
import { closeSync, fsyncSync, openSync } from "node:fs";

/** fsync a file (by path, or an open descriptor); errors are thrown, never swallowed. */
export function fsyncFile(file: string | number): void {
  if (typeof file === "number") {
    fsyncSync(file);
    return;
  }
  const fd = openSync(file, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a directory (a rename is durable once its directory is synced); a platform that cannot is let be. */
export function fsyncDir(dir: string): void {
  try {
    fsyncFile(dir);
  } catch {
    /* some platforms cannot open or fsync a directory */
  }
}
