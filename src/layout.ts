/**
 * Every file name the product makes, in one place, and the "is this ours" checks. Nothing here
 * writes; the guarded write path (src/safety/guard.ts) and the steps use these names.
 *
 * Beside the database (same folder, same filesystem, so renames are atomic):
 *   (the lock is not beside it: one lock file per file identity in the host-wide lock folder, src/safety/lock.ts)
 *   .<db>.vox-cutover-new                    the new file a cutover builds
 *   .<db>.vox-cutover-<tag>-<pid>            a private file being built (renamed into place or removed)
 *   vox-cutover-runs/<UTC stamp>[-N]/         the default work dir of one run
 *   vox-cutover-runs/<run id>.work-dir.json   where a run's work dir of the operator's choosing (--work-dir) is
 * In a work dir:
 *   .vox-cutover-run.json                    the run marker: which database (real path, dev/ino) and which run
 *   journal.jsonl, backup.jsonl, archive/<db>, archive/<sidecar>, rolled-back-new.db, report.{json,md},
 *   sidecar-backup.jsonl, drill-backup.jsonl, drill-restored-<ms>.db, drill-record.{json,md},
 *   .<name>.partial-<pid>                    a backup being written
 */
import { basename, dirname, join, relative, isAbsolute } from "node:path";

export const SIDECAR_NAME = "vox_training_telemetry.db";
export const RUNS_DIR = "vox-cutover-runs";
export const RUN_MARKER = ".vox-cutover-run.json";
export const JOURNAL_NAME = "journal.jsonl";
const BACKUP_NAME = "backup.jsonl";
const SIDECAR_BACKUP_NAME = "sidecar-backup.jsonl";
export const DRILL_BACKUP_NAME = "drill-backup.jsonl";
export const ARCHIVE_DIR = "archive";
export const ROLLED_BACK_NEW = "rolled-back-new.db";
const REPORT_JSON = "report.json";
const REPORT_MD = "report.md";
export const DB_SIDE_SUFFIXES = ["-wal", "-shm", "-journal"] as const;

/** The names a run writes into its work dir (used to tell a foreign folder from a run's). */
export const WORK_DIR_NAMES = [
  RUN_MARKER,
  JOURNAL_NAME,
  BACKUP_NAME,
  SIDECAR_BACKUP_NAME,
  DRILL_BACKUP_NAME,
  ARCHIVE_DIR,
  ROLLED_BACK_NEW,
  REPORT_JSON,
  REPORT_MD,
  "drill-record.json",
  "drill-record.md",
];

export function newFilePath(dbPath: string): string {
  return join(dirname(dbPath), `.${basename(dbPath)}.vox-cutover-new`);
}

/** A private file built beside `target` and renamed into place (or removed). */
export function privateBuildPath(target: string, tag: string, pid = process.pid): string {
  return join(dirname(target), `.${basename(target)}.vox-cutover-${tag}-${pid}`);
}

export function sidecarBeside(dbPath: string): string {
  return join(dirname(dbPath), SIDECAR_NAME);
}

export function runsRoot(dbPath: string): string {
  return join(dirname(dbPath), RUNS_DIR);
}

/** The pointer to a run's work dir given with --work-dir, in `vox-cutover-runs/` beside the database (src/engine/runs.ts). */
export const WORK_DIR_POINTER = ".work-dir.json";

export function workDirPointer(dbPath: string, runId: string): string {
  return join(runsRoot(dbPath), `${runId}${WORK_DIR_POINTER}`);
}

function utcStamp(now = new Date()): string {
  return now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

/** `vox-cutover-runs/<UTC stamp>` beside the database; `n` > 1 makes `-n` (two runs in one second). */
export function defaultWorkDirName(dbPath: string, now = new Date(), n = 1): string {
  return join(runsRoot(dbPath), n > 1 ? `${utcStamp(now)}-${n}` : utcStamp(now));
}

export function defaultBackupPath(workDir: string): string {
  return join(workDir, BACKUP_NAME);
}

export function archiveDirOf(workDir: string): string {
  return join(workDir, ARCHIVE_DIR);
}

export function archivedPath(archiveDir: string, dbPath: string): string {
  return join(archiveDir, basename(dbPath));
}

export function markerPath(workDir: string): string {
  return join(workDir, RUN_MARKER);
}

/** Whether `name` (a file beside the database) is one of this product's temporary files for `dbPath`. */
export function isOwnTempBeside(dbPath: string, name: string): boolean {
  const nf = basename(newFilePath(dbPath));
  const b = basename(dbPath);
  return (
    name === nf ||
    name.startsWith(`${nf}-`) ||
    name.startsWith(`.${nf}.vox-cutover-building-`) ||
    new RegExp(`^\\.${escapeRe(b)}\\.vox-cutover-[a-z]+-\\d+(-wal|-shm|-journal)?$`).test(name)
  );
}

/** A backup being written that a killed run left behind (ours to remove). */
export function isPartial(name: string): boolean {
  return /^\..+\.partial-\d+$/.test(name);
}

export function isInside(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === "" || (!r.startsWith("..") && !isAbsolute(r));
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
