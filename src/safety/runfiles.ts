/**
 * The run's own files are input, checked before they are trusted. The journal's paths must be the
 * ones this run's folder implies (a hand-edited journal cannot point the archive, the new file or the
 * work dir elsewhere); the backup, the new file and the archive each carry a record made when they
 * were made (device + inode, size, and a content hash or SQLite fingerprint), and each is checked
 * against it before it is moved, imported or swapped in: a mismatch refuses (3) naming the file. A
 * database's check covers its `-wal` and `-journal` too (writes beside the file, not in it).
 * The new file written by its own name during a swap's undo is refused here too, in one wording for the
 * resume (stages/stage1-swap-resume.ts) and the rollback (src/rollback/execute.ts).
 */
import { createHash } from "node:crypto";
import { readSync, statSync } from "node:fs";
import { resolve } from "node:path";
import * as v from "valibot";
import { refused, type VoxError } from "../errors.js";
import { archiveDirOf, DB_SIDE_SUFFIXES, isInside, newFilePath } from "../layout.js";
import { check, FileRecordSchema } from "../validate/schemas.js";
import { realPathOf } from "./identity.js";
import { hotJournal } from "../db/local.js";
import { readRaw } from "../db/raw-fd.js";

/** What a run file was when the run made it. */
export type FileRecord = v.InferOutput<typeof FileRecordSchema>;

function headFingerprint(path: string, heldFd?: number): string {
  // Through a descriptor the caller holds (the hold's: closing any other descriptor of a held file
  // would drop SQLite's lock on it, see src/safety/hold.ts), else one never closed under a
  // connection of this process to the file (db/raw-fd.ts).
  const head = (fd: number) => {
    const buf = Buffer.alloc(100);
    const n = readSync(fd, buf, 0, 100, 0);
    return createHash("sha256").update(buf.subarray(0, n)).digest("hex");
  };
  return heldFd !== undefined ? head(heldFd) : readRaw(path, head);
}

/** `heldFd`: read the header through that descriptor of the file (a held file is never opened and closed). */
export function recordFile(path: string, sha256?: string, heldFd?: number): FileRecord {
  const st = statSync(path, { bigint: true });
  return {
    dev: String(st.dev),
    ino: String(st.ino),
    size: Number(st.size),
    mtimeNs: String(st.mtimeNs),
    fingerprint: headFingerprint(path, heldFd),
    ...(sha256 ? { sha256 } : {}),
  };
}

/** How `path` differs from its record, in words (null: it is the file the run made). */
export function recordMismatch(path: string, rec: FileRecord, opts: { inodeOnly?: boolean } = {}): string | null {
  let now: FileRecord;
  try {
    now = recordFile(path);
  } catch {
    return "it is not there";
  }
  if (now.dev !== rec.dev || now.ino !== rec.ino)
    return `another file is at that name (device/inode ${rec.dev}/${rec.ino} recorded, ${now.dev}/${now.ino} now)`;
  if (opts.inodeOnly) return null;
  const d: string[] = [];
  if (now.size !== rec.size) d.push(`size ${rec.size} → ${now.size}`);
  if (now.fingerprint !== rec.fingerprint) d.push("its header changed");
  if (now.mtimeNs !== rec.mtimeNs) d.push("it was written to since (modification time changed)");
  d.push(...pendingWrites(path));
  return d.length ? d.join(", ") : null;
}

/**
 * Writes that sit beside a database file, not in it: a `-wal` holding frames (committed in WAL mode,
 * not yet checkpointed: the main file's size, time and header do not move) and a hot rollback
 * journal (a writer stopped mid-transaction). A swap or a move of the file alone would drop the
 * first and carry the second unproven. An empty `-wal` (every reader of a WAL file makes one) is none.
 */
function pendingWrites(path: string): string[] {
  const out: string[] = [];
  let wal = 0;
  try {
    wal = statSync(`${path}-wal`).size;
  } catch {
    /* no -wal */
  }
  if (wal > 0) out.push(`its -wal holds ${wal} bytes of writes not in the file itself (committed in WAL mode since)`);
  if (hotJournal(path)) out.push("a hot rollback journal lies beside it (a write stopped in the middle)");
  return out;
}

/**
 * Refuses (3) when a run file is not what the run recorded. `role` names it ("the backup", "the new
 * file", "the archived original"); a missing record (a journal from before records were kept) is not
 * checked; a malformed one is refused.
 */
export function assertRecorded(role: string, path: string, rec: unknown, opts: { inodeOnly?: boolean; untouched?: string; next?: string } = {}): void {
  if (rec === undefined || rec === null) return;
  const r = check(FileRecordSchema, rec);
  const why = r ? recordMismatch(path, r, opts) : "the journal's record of it is malformed (edited by hand?)";
  if (!why) return;
  throw refused({
    what: `${role[0]!.toUpperCase()}${role.slice(1)} ${path} is not the file this run made: ${why}.`,
    untouched: opts.untouched ?? "Nothing was moved: the primary and every file of the run stay as they are.",
    next:
      opts.next ??
      "Find out who changed it (vox-cutover diagnose on it). Do not resume or roll back with this file; keep the work dir, and run the cutover again from a fresh dry-run when the database is as you expect.",
    details: { path, role, reason: why },
  });
}

/** The run-start fields whose paths are checked. */
interface RunStartPaths {
  db: string;
  workDir: string;
  backupPath: string;
  newPath: string;
  archiveDir: string;
}

/**
 * The journal's paths, checked against the folder it was read from: the work dir is that folder, the
 * archive is its `archive/`, the new file is the one beside the database, the database is the one this
 * command works on, and the backup is no file of the database's. Returns the problem in words, or null.
 */
export function journalPathProblem(start: RunStartPaths, folder: string, dbReal: string): string | null {
  const here = realPathOf(folder);
  if (realPathOf(start.workDir) !== here) return `its work dir ${start.workDir} is not the folder it lies in (${here})`;
  if (resolve(start.archiveDir) !== archiveDirOf(start.workDir) && realPathOf(start.archiveDir) !== archiveDirOf(here))
    return `its archive ${start.archiveDir} lies outside its run folder ${here}`;
  if (start.db !== dbReal) return `it is a run of ${start.db}, not of ${dbReal}`;
  if (resolve(start.newPath) !== newFilePath(start.db))
    return `its new file ${start.newPath} is not the one this tool builds beside the database (${newFilePath(start.db)})`;
  const b = realPathOf(start.backupPath);
  if ([dbReal, ...DB_SIDE_SUFFIXES.map((s) => dbReal + s), newFilePath(dbReal)].includes(b) || isInside(b, archiveDirOf(here)))
    return `its backup path ${start.backupPath} is the database, the new file or inside the archive`;
  return null;
}

export function journalProblemError(folder: string, problem: string): Error {
  return refused({
    what: `The journal in ${folder} cannot be trusted: ${problem}. It was edited by hand or is not this run's.`,
    untouched: "Nothing was moved: the primary and every file of that run stay as they are.",
    next: "Do not resume or roll back from that folder. Look at the journal (journal.jsonl); restore the database by hand from the archive or the verified backup if needed, or move the folder away and run the cutover again from a dry-run.",
    details: { workDir: folder, problem },
  });
}

/**
 * The run stopped inside its swap's undo and something opened the new file by its own name since:
 * its `-wal` (or `-journal`) there holds writes that neither a rollback (which removes the run's temporary names) nor
 * the resume (which finishes the swap under the database's name) would keep. Said by both.
 */
export function newFileWrittenByItsName(wal: string, untouched: string): VoxError {
  return refused({
    what: `The run stopped while undoing its swap, and something opened the new file by its own name since: ${wal} holds its writes.`,
    untouched,
    next: `Stop what opened it by that name (closing it folds what it wrote into the file), then run this again. Do not remove ${wal}.`,
  });
}
