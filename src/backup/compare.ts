import { formatCount } from "../util/count.js";
import { readBackup, type BackupVisitor, type ReadResult } from "./read.js";
import { LiveHash, type LiveTable } from "./live-hash.js";

export interface Comparison {
  ok: boolean;
  tables: { name: string; backupRows: number; dbRows: number | null; backupSha256: string; dbSha256: string | null; equal: boolean }[];
  firstDifference: string | null;
}

function compareTables(backup: ReadResult, live: LiveTable[]): Comparison {
  const byName = new Map(live.map((t) => [t.name, t]));
  const tables: Comparison["tables"] = [];
  let first: string | null = null;
  for (const bt of backup.header.tables) {
    const summary = backup.tables.find((t) => t.name === bt.name)!;
    const lt = byName.get(bt.name);
    if (!lt) {
      tables.push({ name: bt.name, backupRows: summary.rows, dbRows: null, backupSha256: summary.sha256, dbSha256: null, equal: false });
      first ??= `table ${bt.name} is in the backup but not in the database`;
      continue;
    }
    if (JSON.stringify(lt.columns) !== JSON.stringify(bt.columns)) {
      tables.push({ name: bt.name, backupRows: summary.rows, dbRows: lt.rows, backupSha256: summary.sha256, dbSha256: null, equal: false });
      first ??= `table ${bt.name} has other columns in the database (${lt.columns.join(", ")}) than in the backup (${bt.columns.join(", ")})`;
      continue;
    }
    const equal = lt.rows === summary.rows && lt.sha256 === summary.sha256;
    tables.push({ name: bt.name, backupRows: summary.rows, dbRows: lt.rows, backupSha256: summary.sha256, dbSha256: lt.sha256, equal });
    if (!equal) {
      first ??=
        lt.rows !== summary.rows
          ? `table ${bt.name} has ${formatCount(lt.rows)} rows in the database, ${formatCount(summary.rows)} in the backup`
          : `table ${bt.name} has the same ${formatCount(lt.rows)} rows count but different content (hash ${lt.sha256} vs ${summary.sha256})`;
    }
  }
  for (const t of live) if (!backup.header.tables.some((b) => b.name === t.name)) first ??= `table ${t.name} is in the database but not in the backup`;
  return { ok: first === null, tables, firstDifference: first };
}

/**
 * Reads the backup for a comparison with the live database. Rows are only hashed (rowsUnparsed):
 * when every table's hash then equals the canonical encoding of the database's rows (read in key
 * order), every row line is proven canonical, decodable and in order without parsing it. On any
 * problem the file is read again with every row checked, so a damaged backup is refused naming its
 * first bad line, exactly as a full read would (`readBackup` throws it).
 */
function quickRead(backupPath: string, visitor: BackupVisitor): ReadResult {
  if (visitor.onRow || visitor.onHeader || visitor.onTable || visitor.onEnd) return readBackup(backupPath, visitor);
  try {
    return readBackup(backupPath, { ...visitor, rowsUnparsed: true });
  } catch (e) {
    readBackup(backupPath, visitor);
    throw e; // the full read found nothing: the quick read's own refusal stands
  }
}

/** The comparison; a quick read whose hashes differ from the database's is read again in full (naming the line at fault). */
async function compareWith(
  backupPath: string,
  visitor: BackupVisitor,
  read: ReadResult,
  live: LiveTable[],
): Promise<{ read: ReadResult; comparison: Comparison }> {
  const comparison = compareTables(read, live);
  if (comparison.ok || visitor.onRow) return { read, comparison };
  const full = readBackup(backupPath, visitor);
  return { read: full, comparison: compareTables(full, live) };
}

/**
 * Re-reads the backup (every hash recomputed) on this thread while a worker hashes the live
 * database on the other core (this thread joins in once the backup is read; a small database is
 * hashed here after the backup); then compares counts and hashes table by table.
 */
export async function verifyAgainstDatabase(
  backupPath: string,
  dbPath: string,
  visitor: BackupVisitor = {},
): Promise<{ read: ReadResult; comparison: Comparison }> {
  const live = new LiveHash(dbPath);
  let read: ReadResult;
  try {
    read = quickRead(backupPath, visitor); // a bad backup is refused before a small database is read
  } catch (e) {
    await live.stop();
    throw e;
  }
  await live.help();
  return compareWith(backupPath, visitor, read, await live.result);
}
