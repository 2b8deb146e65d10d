import { copyFileSync, existsSync } from "node:fs";
import { basename, join } from "node:path";
import { allRows, openReadOnly, type LibsqlDatabase } from "./local.js";
import { quoteString } from "./value.js";
import { copyRaw } from "./raw-fd.js";
import { SIDECAR_NAME } from "../layout.js";

/**
 * A consistent byte copy of a database (and its -wal) taken while holding a read transaction, so
 * no writer can commit in between; rowids and pages stay exactly as they are. The source is only read.
 */
function cloneDatabase(src: string, dstDir: string): string {
  const dst = join(dstDir, basename(src));
  const db = openReadOnly(src);
  try {
    db.exec("BEGIN");
    allRows(db, "SELECT count(*) FROM sqlite_master");
    copyRaw(src, dst); // closing a descriptor of src would drop the read transaction's lock (db/raw-fd.ts)
    if (existsSync(`${src}-wal`)) copyFileSync(`${src}-wal`, `${dst}-wal`);
    db.exec("COMMIT");
  } finally {
    if (db.inTransaction) db.exec("ROLLBACK");
    db.close();
  }
  return dst;
}

/** Clones the database and, when there is one beside it, its training-telemetry sidecar. */
export function cloneWithSidecar(src: string, dstDir: string): { db: string; sidecar: string | null } {
  const db = cloneDatabase(src, dstDir);
  const side = join(join(src, ".."), SIDECAR_NAME);
  return { db, sidecar: existsSync(side) ? cloneDatabase(side, dstDir) : null };
}

/**
 * A copy of the database at `dest` made by SQLite (`VACUUM INTO`, one read transaction: page size,
 * auto-vacuum, text encoding, `user_version`, `application_id` and rowids kept; the source only read).
 * `look` reads the source first, on the same read-only connection; its answer is returned.
 */
export function vacuumCopy<T>(src: string, dest: string, look: (db: LibsqlDatabase) => T): T {
  const db = openReadOnly(src);
  try {
    const seen = look(db);
    db.exec(`VACUUM INTO ${quoteString(dest)}`);
    return seen;
  } finally {
    db.close();
  }
}
