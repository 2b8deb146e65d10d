/**
 * A fold may only add rows (seed rows, the version row, its ledger row). For a table it added rows
 * to, the count alone says nothing about the rows that were there: one changed or replaced by a
 * statement of the fold, or by a trigger the fold's inserts fired, would go unseen. So every
 * backed-up row of such a table must be in the copy as it was, in the backed-up columns: the
 * backup's rows, in key order, are a subsequence of the copy's rows in key order, each row compared
 * by the sha256 of its canonical line (a big value hashed in slices, never held whole).
 */
import type { SqlValue } from "../db/value.js";
import type { LibsqlDatabase } from "../db/local.js";
import { refused } from "../errors.js";
import type { BackupTable } from "../backup/format.js";
import { readBackup } from "../backup/read.js";
import { LineRun, linesOf, readRows } from "../backup/row-lines.js";
import { LineHasher } from "../backup/tables.js";
import type { RowValue } from "../backup/row-source.js";

/** The sha256 of one row's line and its newline, as the backup's table hash takes it (LineHasher). */
function digest(add: (h: LineHasher) => void): string {
  const h = new LineHasher();
  add(h);
  return h.digest();
}

/** Each row of `t` in the copy, in key order, as its line's digest. */
function* copyDigests(db: LibsqlDatabase, t: BackupTable): Generator<string> {
  for (const r of readRows(db, t)) {
    // A run of lines is taken apart: one digest a row.
    if (r instanceof LineRun) for (const line of linesOf(r.lines)) yield digest((h) => h.lineBytes(line));
    else yield digest((h) => h.item(r));
  }
}

class NotKept extends Error {}

/**
 * The first of `tables` (names) whose backed-up rows are not all in `db` as they were, or null. The
 * backup is read again and must still be the verified one (`backupSha256`), else the run refuses.
 */
export function firstTableNotKept(db: LibsqlDatabase, backupPath: string, backupSha256: string, tables: ReadonlySet<string>): string | null {
  let copy: Generator<string> | null = null;
  let current = "";
  try {
    const read = readBackup(backupPath, {
      trusted: true, // its whole-file hash is held to the verified one below
      bigValues: true,
      hashOnly: (t) => !tables.has(t.name),
      onTable: (t) => {
        current = t.name;
        copy = tables.has(t.name) ? copyDigests(db, t) : null;
      },
      onRow: (_t, values: SqlValue[] | RowValue[], line: string | null) => {
        if (!copy) return;
        const want = digest((h) => (line === null ? h.row(values) : h.line(line)));
        // Rows of the copy before it that are not the backup's: the fold added them.
        for (let n = copy.next(); ; n = copy.next()) {
          if (n.done) throw new NotKept();
          if (n.value === want) return;
        }
      },
      onEnd: () => {
        copy = null;
      },
    });
    if (read.fileSha256 !== backupSha256)
      throw refused({
        what: `The backup ${backupPath} changed since it was verified (sha256 ${read.fileSha256} ≠ ${backupSha256}).`,
        untouched: "The primary was not changed; the copy was removed.",
        next: "Roll this run back (--rollback --apply) and run it again.",
      });
    return null;
  } catch (e) {
    if (e instanceof NotKept) return current;
    throw e;
  }
}
