import { readFileSync } from "node:fs";
import type { LibsqlDatabase } from "./local.js";

/**
 * Faults named in words: a full disk, a file-size limit, a read-only folder or lost permission, a
 * path too long for SQLite. `faultOf` recognises them in a Node or SQLite error (codes or messages,
 * also when a worker thread passed only the message on). And the other side of that line: a row
 * write the table refused (`rowRefusedBy`: quarantined, the transaction going on), undone whole by
 * its savepoint (`inSavepoint`).
 */

/** SQLite opens at most this many bytes of path (SQLITE_MAX_PATHNAME, with room for "-journal"). */
export const SQLITE_MAX_PATH = 512;

interface Fault {
  code: string;
  /** The cause in words. */
  words: string;
  /** What the operator does about it (before resuming). */
  fix: string;
}

export function faultOf(e: unknown, path?: string): Fault | null {
  const code = String((e as { code?: string } | null)?.code ?? "");
  const msg = e instanceof Error ? e.message : String(e);
  const both = `${code} ${msg}`;
  if (/ENOSPC|SQLITE_FULL|no space left|database or disk is full/i.test(both)) {
    return { code: "ENOSPC", words: "no space left on the device", fix: "Free space on that filesystem (df -h shows it)" };
  }
  if (/EDQUOT|quota exceeded/i.test(both))
    return { code: "EDQUOT", words: "the disk quota of this user is used up", fix: "Free space within the quota or raise it" };
  if (/EFBIG|file too large/i.test(both)) {
    return {
      code: "EFBIG",
      words: "a file grew past the largest size this process may write (ulimit -f) or the filesystem allows",
      fix: "Raise the limit (ulimit -f unlimited) or use a filesystem that takes larger files",
    };
  }
  const longest = [path ?? "", ...(msg.match(/\/[^\s:"']+/g) ?? [])].reduce((a, b) => (Buffer.byteLength(b) > Buffer.byteLength(a) ? b : a), "");
  if (/ENAMETOOLONG|name too long/i.test(both) || (pathTooLongForSqlite(longest) && /CANTOPEN|unable to open|: 14"?\)?$/i.test(both))) {
    path = longest || path;
    return {
      code: "ENAMETOOLONG",
      words: `a path too long for SQLite (it opens at most ${SQLITE_MAX_PATH} bytes of path${path ? `; this one has ${Buffer.byteLength(path)}` : ""})`,
      fix: "Move the database (or --work-dir) to a shorter path, or use a shorter symbolic link to its folder",
    };
  }
  if (/EROFS|read-only file ?system/i.test(both))
    return { code: "EROFS", words: "the filesystem is read-only", fix: "Remount it read-write (or copy the database to a writable filesystem)" };
  if (/EACCES|EPERM|permission denied|operation not permitted/i.test(both)) {
    return {
      code: code.match(/EACCES|EPERM/)?.[0] ?? "EACCES",
      words: "permission denied: a folder or file is not writable by this user (or the permission was taken away during the run)",
      fix: "Run as the database's owner or make the folder writable again (chmod u+w)",
    };
  }
  if (/SQLITE_IOERR|disk I\/O error/i.test(both)) {
    // SQLite reports a write past the file-size limit as an I/O error: the limit names it.
    const limit = fileSizeLimit();
    if (limit !== null)
      return {
        code: "EFBIG",
        words: `a file grew past the largest size this process may write (ulimit -f: ${limit} bytes)`,
        fix: "Raise the limit (ulimit -f unlimited)",
      };
  }
  if (/\bEIO\b|SQLITE_IOERR|disk I\/O error/i.test(both))
    return { code: "EIO", words: "an input/output error from the device", fix: "Check the device (dmesg) before anything else" };
  return null;
}

/** The process's file-size limit in bytes (Linux /proc/self/limits), or null when unlimited or unknown. */
function fileSizeLimit(): number | null {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max file size"));
    const soft = line?.slice("Max file size".length).trim().split(/\s+/)[0];
    return soft && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}

/** A path SQLite cannot open (too long), checked before anything is made. */
export function pathTooLongForSqlite(path: string): boolean {
  return Buffer.byteLength(path) + "-journal".length > SQLITE_MAX_PATH;
}

/**
 * SQLite's primary result code of a driver error (its extended code's low byte), or -1. By number:
 * libsql names only the codes it knows, and SQLITE_CONSTRAINT_DATATYPE (3091, a STRICT table
 * refusing a value) comes as `UNKNOWN_SQLITE_ERROR_3091`.
 */
function sqlPrimaryCode(e: unknown): number {
  const raw = (e as { rawCode?: unknown } | null)?.rawCode;
  return typeof raw === "number" ? raw & 0xff : -1;
}

/**
 * Whether an INSERT of one row failed because the table refused that row — a constraint (UNIQUE, NOT
 * NULL, CHECK, a trigger's RAISE, a STRICT column's type) or a datatype mismatch (TEXT into an
 * INTEGER PRIMARY KEY) — with the transaction still open, so the row can go to quarantine while the
 * transaction goes on. With `evaluation`, also an error SQLite raised evaluating that row (SQLITE_ERROR:
 * malformed JSON in a CHECK or a generated column, an integer overflow in a trigger; SQLITE_TOOBIG):
 * the sidecar's merge runs the canonical file's triggers and constraints, the import drops its
 * triggers first. Null for anything else (a full disk, I/O, a busy or read-only file, a transaction
 * SQLite rolled back, a RAISE(ROLLBACK)), which must stop the write. What the failed statement leaves:
 * nothing under the default ABORT, which undoes the statement; a trigger's RAISE(FAIL) keeps what the
 * statement did before it (the import loads with its triggers dropped).
 */
export function rowRefusedBy(e: unknown, db: { inTransaction: boolean }, evaluation = false): "constraint" | "datatype-mismatch" | "error" | null {
  if (!db.inTransaction) return null;
  const code = sqlPrimaryCode(e);
  if (code === 19) return "constraint";
  if (code === 20) return "datatype-mismatch";
  return evaluation && (code === 1 || code === 18) ? "error" : null;
}

/**
 * Runs `fn` (one row's write inside a transaction) in a savepoint: what it did is undone if it throws
 * (a trigger's RAISE(FAIL) keeps what its statement did before it), and the error is rethrown.
 */
export function inSavepoint<T>(db: LibsqlDatabase, fn: () => T): T {
  db.exec("SAVEPOINT vox_row");
  try {
    const r = fn();
    db.exec("RELEASE vox_row");
    return r;
  } catch (e) {
    if (db.inTransaction) db.exec("ROLLBACK TO vox_row; RELEASE vox_row"); // else SQLite ended the transaction, the savepoint with it
    throw e;
  }
}
