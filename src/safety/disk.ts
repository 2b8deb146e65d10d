import { existsSync, statfsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { refused } from "../errors.js";

/** Free bytes on the filesystem holding `dir`. VOX_CUTOVER_FREE_BYTES overrides it (test hook). */
export function freeBytes(dir: string): number {
  const override = process.env.VOX_CUTOVER_FREE_BYTES;
  if (override !== undefined && override !== "") return Number(override);
  const s = statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}

export function formatBytes(n: number): string {
  const u = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${u[i]}`;
}

/** Pages of an empty file on the target baseline (measured: 570 pages of 4096 bytes ≈ 2.3 MB), rounded up. */
const BASELINE_EMPTY_PAGES = 600;
/** A backup line carries each value as JSON (blobs as base64, ≈ 4/3) plus its keys: at most ~1.5 × the data. */
const BACKUP_FACTOR = 1.5;

export interface SpaceNeeded {
  backup: number;
  newFile: number;
  /** The archive is a hard link: no bytes; the -wal checkpointed into the file first may grow it by the WAL's size. */
  archive: number;
  total: number;
}

/** What a run really writes beside the database: the backup, the new file with its baseline, the archive link. */
export function spaceNeeded(dbBytes: number | null, walBytes: number | null, pageSize: number | null): SpaceNeeded {
  const data = (dbBytes ?? 0) + (walBytes ?? 0);
  const backup = Math.ceil(BACKUP_FACTOR * data);
  const newFile = BASELINE_EMPTY_PAGES * Math.max(pageSize ?? 4096, 4096) + data;
  const archive = walBytes ?? 0;
  return { backup, newFile, archive, total: backup + newFile + archive };
}

/** The nearest folder of `p` that exists (`p` itself when it does): where a folder still to be made would go. */
export function nearestExisting(p: string): string {
  let d = p;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/**
 * The work dir on the filesystem of the file it archives (the database; the sidecar): the archive is a
 * rename, atomic only there. Refused (3) before anything is written, never found out after a commit.
 */
export function assertArchivable(workDir: string, path: string, what: string): void {
  if (statSync(nearestExisting(workDir)).dev === statSync(dirname(path)).dev) return;
  throw refused({
    what: `The work dir ${workDir} is on another filesystem than ${what}: the archive move could not be an atomic rename.`,
    untouched: "Nothing was changed.",
    next: `Choose a --work-dir on ${what}'s filesystem (the default, vox-cutover-runs/ beside the database, is).`,
  });
}
