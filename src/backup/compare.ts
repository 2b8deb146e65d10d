import { formatCount } from "../util/count.js";
import { openReadOnly } from "../db/local.js";
import { VoxError } from "../errors.js";
import { contentState, untouchedSince, type ContentState } from "../safety/content-version.js";
import { readBackup, type BackupVisitor, type ReadResult } from "./read.js";
import { HashOfRead } from "../util/file-hash-beside.js";
import { LiveHash, liveHashFailed, type LiveTable } from "./live-hash.js";
import { listBackupTables } from "./tables.js";

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
function quickRead(backupPath: string, visitor: BackupVisitor, wholeFileHashBeside = false): ReadResult {
  const v = wholeFileHashBeside ? { ...visitor, wholeFileHashBeside } : visitor;
  if (visitor.onRow || visitor.onHeader || visitor.onTable || visitor.onEnd) return readBackup(backupPath, v);
  try {
    return readBackup(backupPath, { ...v, rowsUnparsed: true });
  } catch (e) {
    readBackup(backupPath, visitor);
    throw e; // the full read found nothing: the quick read's own refusal stands
  }
}

/**
 * quickRead with the whole-file hash on another core (from 32 MB: util/file-hash-beside.ts
 * HashOfRead): a worker hashes the bytes before the trailer while this thread reads the file and
 * hashes each table, two SHA-256 passes side by side instead of one after the other (1 GB: ~0.5 s
 * less; a worker that could not answer leaves it to this thread after the read). Taken only when it
 * is the hash of one unwritten file — the file's stat (device, inode, size, mtime, ctime: any write
 * or rename moves the ctime) the same from before this thread's read until the hash is in — and the
 * trailer's `fileSha256`, which the caller then holds to the export's record. Anything else (a file
 * written or moved meanwhile, a hash that is not the trailer's) is decided by the one-thread read,
 * which names a damaged file's first bad line as it always did. `beside` in the result: whether the
 * worker's hash was taken.
 */
async function readBesideItsHash(backupPath: string, visitor: BackupVisitor): Promise<{ read: ReadResult; beside: boolean }> {
  const hash = new HashOfRead(backupPath, true, 0);
  if (!hash.beside) return { read: quickRead(backupPath, visitor), beside: false };
  hash.start();
  try {
    const read = quickRead(backupPath, visitor, true);
    const h = await hash.sha256();
    return h?.sha256 === read.fileSha256 ? { read, beside: h.by === "worker" } : { read: quickRead(backupPath, visitor), beside: false };
  } finally {
    hash.stop();
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

/**
 * What an export recorded about the backup it wrote and the primary it read: the cutover journal's
 * export outputs, or writeVerifiedBackup's own export.
 */
interface ExportRecord {
  /** The whole file's sha256 as the export wrote it. */
  sha256: string;
  /** The primary's content version taken just before the export's snapshot opened (absent: an older record). */
  identity?: ContentState | null;
  /** Per table, sqlite_sequence apart: rows and content hash as the export wrote them (hashes of the rows it read). */
  tables: readonly { name: string; rows: number; sha256?: unknown }[];
  /** The sqlite_sequence section as the export wrote it (null: the database has none; absent: an older record). */
  sequenceTable?: { rows: number; sha256: string } | null;
}

/**
 * How the live primary was proven: "content-version" — its content version is the one taken before
 * the export's snapshot, so the export's hashes are its hashes, and its rows were counted by SQLite;
 * "re-read" — every row hashed again (verifyAgainstDatabase).
 */
export type LiveProof = "content-version" | "re-read";

interface ExportVerification {
  read: ReadResult;
  comparison: Comparison;
  live: LiveProof;
  /** Why the primary was re-read (null on the content-version path). */
  reReadBecause: string | null;
  /** The backup's whole-file hash was taken on another core beside its read (readBesideItsHash). */
  hashedBeside?: boolean;
}

/** The export's hashes by section name, sqlite_sequence's included; null when the record lacks one. */
function recordedHashes(exp: ExportRecord): Map<string, { rows: number; sha256: string }> | null {
  const m = new Map<string, { rows: number; sha256: string }>();
  for (const t of exp.tables) {
    if (typeof t.sha256 !== "string") return null;
    m.set(t.name, { rows: t.rows, sha256: t.sha256 });
  }
  if (exp.sequenceTable === undefined) return null;
  if (exp.sequenceTable) m.set("sqlite_sequence", exp.sequenceTable);
  return m;
}

/**
 * Every carried table's columns and `count(*)` in the live primary, in one read transaction —
 * exactly what the export counted (listBackupTables: own-content FTS in its `_content` table,
 * sqlite_sequence, not the rebuilt external-content FTS) — or null when the primary's content
 * version is not `identity` after the counting (a commit came in: the caller re-reads instead).
 */
function countLive(dbPath: string, identity: ContentState): LiveTable[] | null {
  let listed;
  try {
    const db = openReadOnly(dbPath);
    try {
      db.exec("BEGIN");
      listed = listBackupTables(db);
      db.exec("COMMIT");
    } finally {
      if (db.inTransaction) db.exec("ROLLBACK");
      db.close();
    }
  } catch (e) {
    throw e instanceof VoxError ? e : liveHashFailed(dbPath, e);
  }
  // After the connection closed (a look at the file while it was open would drop SQLite's lock).
  if (!untouchedSince(identity, contentState(dbPath))) return null;
  return listed.map((t) => ({ name: t.name, columns: t.columns, rows: Number(t.rows), sha256: "" }));
}

/** The first section of the backup that is not what the export recorded (names, order, rows, hashes), or null. */
function recordDifference(read: ReadResult, recorded: Map<string, { rows: number; sha256: string }>): string | null {
  for (const t of read.tables) {
    const r = recorded.get(t.name);
    if (!r) return `table ${t.name} is in the backup but not in the export's record`;
    if (r.rows !== t.rows || r.sha256 !== t.sha256)
      return `table ${t.name} holds ${formatCount(t.rows)} rows (hash ${t.sha256}) in the backup, the export recorded ${formatCount(r.rows)} (hash ${r.sha256})`;
  }
  for (const name of recorded.keys()) if (!read.tables.some((t) => t.name === name)) return `table ${name} is in the export's record but not in the backup`;
  return null;
}

/**
 * The verify right after an export (the cutover's verify-backup step, writeVerifiedBackup): the
 * backup re-read (every hash recomputed) and proven against the live primary. The one home of the
 * rule which way:
 *
 * - **content version** — the primary's content version is still the one taken just before the
 *   export's snapshot (nothing committed since; checked before and after the counting): the
 *   export's per-table hashes are the primary's, so reading and hashing every row of it again with
 *   the same reader would prove nothing more. The backup is read (hashes recomputed, the quick
 *   read) and every section must equal the export's record (rows and hash: the journal's record,
 *   not only the file's own trailer), and SQLite's own `count(*)` of every table of the live
 *   primary, in one read transaction, must equal the backup's rows. The caller still compares the
 *   file's sha256 with the export's.
 * - **re-read** — otherwise (the content version moved, or the record is older and lacks the
 *   version or a hash): verifyAgainstDatabase, every row of the primary hashed again.
 *
 * `verify-backup IN --db` has no export snapshot: it always re-reads (verifyAgainstDatabase).
 */
export async function verifyExport(backupPath: string, dbPath: string, exp: ExportRecord, visitor: BackupVisitor = {}): Promise<ExportVerification> {
  const recorded = recordedHashes(exp);
  let because: string;
  if (!exp.identity || !recorded) because = "the export's record has no content version or hashes to go by (an older run)";
  else if (!untouchedSince(exp.identity, contentState(dbPath)))
    because = "its content version changed since the export's snapshot, or its status-change time moved";
  else {
    const counted = countLive(dbPath, exp.identity);
    if (!counted) because = "a commit came in while its rows were counted";
    else {
      const live = counted.map((t) => ({ ...t, sha256: recorded.get(t.name)?.sha256 ?? "" }));
      const quick = await readBesideItsHash(backupPath, visitor);
      let read = quick.read;
      let differs = read.fileSha256 === exp.sha256 ? recordDifference(read, recorded) : null;
      // Hashes other than the record's: read again in full, so a damaged line is named (readBackup throws it).
      if (differs && !visitor.onRow) {
        read = readBackup(backupPath, visitor);
        differs = recordDifference(read, recorded);
      }
      const comparison = compareTables(read, live);
      if (differs) Object.assign(comparison, { ok: false, firstDifference: differs });
      return { read, comparison, live: "content-version", reReadBecause: null, hashedBeside: quick.beside };
    }
  }
  return { ...(await verifyAgainstDatabase(backupPath, dbPath, visitor)), live: "re-read", reReadBecause: because };
}
