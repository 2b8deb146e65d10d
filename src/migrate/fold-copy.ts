/**
 * Every change is a swap: a fold (`behind`), a repair (`current` with drift) and a baseline on a
 * file that holds rows are made in a copy beside the primary, never in it. This module builds that
 * copy and proves it; the cutover's swap step (stages/stage1-legacy.ts) puts it in place exactly
 * like a rebuilt file, so the original is always archived and a rollback is always a rename.
 *
 * 1. `VACUUM INTO` a private name beside the new file's name, from one read transaction on the
 *    primary (nothing is written to the primary; page size, auto-vacuum, text encoding,
 *    `user_version` and `application_id` are copied by SQLite, rowids are kept);
 * 2. the copy is compared with the verified backup, table by table (count and hash): it is the
 *    state the backup holds, or the run refuses (the primary changed since the export);
 * 3. the migration plan runs on the copy in one transaction (structure checked against the target
 *    before it commits);
 * 4. the folded copy is checked: `integrity_check`, the file settings equal the primary's (WAL mode
 *    set last when the primary uses it), every backed-up table still holds its rows with the same
 *    values in the backed-up columns (a table the fold added rows to — seed rows, the version row —
 *    holds every backed-up row as it was: rows-kept.ts);
 * 5. fsynced and renamed to the new file's name.
 * A failure removes the private copy; the primary is never opened for writing here.
 */
import { formatCount } from "../util/count.js";
import { existsSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import Database from "libsql";
import { verifyAgainstDatabase } from "../backup/compare.js";
import { hashTable } from "../backup/tables.js";
import { bigLimit } from "../backup/big-source.js";
import { integrityCheck } from "../db/integrity.js";
import { failed, refused } from "../errors.js";
import { privateBuildPath } from "../layout.js";
import { readFacts, type SchemaFacts } from "../schema/facts.js";
import { compareFacts } from "../schema/compare.js";
import { structureLines } from "../diagnose/diagnose.js";
import { finalJournalMode, readFileSettings, settingsDifferences, type FileSettings } from "../db/file-settings.js";
import { removeOwnDatabaseFiles } from "../db/files.js";
import { fsyncDir, fsyncFile } from "../util/fsync.js";
import { allRows, openReadOnly, type LibsqlDatabase } from "../db/local.js";
import { vacuumCopy } from "../db/clone.js";
import { applyMigration, type MigrationPlan } from "./migrate.js";
import { firstTableNotKept } from "./rows-kept.js";
import { probeFile } from "../db/probe.js";
import * as v from "valibot";
import { FoldCopyTableSchema } from "../validate/schemas.js";

interface FoldCopyOptions {
  dbPath: string;
  /** Where the finished copy goes (the run's new file, beside the primary). */
  newPath: string;
  workDir: string;
  /** The verified backup of the primary and its whole-file sha256. */
  backupPath: string;
  backupSha256: string;
  plan: MigrationPlan;
  targetFacts: SchemaFacts;
  onPhase?: (phase: string) => void;
  /** Called once the copy is made, before it is compared (a test pauses there). */
  afterCopy?: () => void;
}

type FoldCopyTable = v.InferOutput<typeof FoldCopyTableSchema>;

interface FoldCopyResult {
  path: string;
  settings: FileSettings;
  integrity: string;
  tables: FoldCopyTable[];
  /** Rows the fold added (seed rows, the version row). */
  added: number;
}

const BUILD_TAG = "building";

/** The private name the copy is built under (the run's own temporary, removed by a rollback). */
function foldBuildPath(newPath: string): string {
  return privateBuildPath(newPath, BUILD_TAG);
}

/** Removes this product's own unfinished copies (any pid: a killed attempt's too) and a stale new file. */
function clearOwnCopies(newPath: string): void {
  const dir = dirname(newPath);
  const prefix = `.${basename(newPath)}.vox-cutover-${BUILD_TAG}-`;
  for (const f of readdirSync(dir)) if (f.startsWith(prefix)) rmSync(join(dir, f), { force: true });
  if (existsSync(newPath)) removeOwnDatabaseFiles(newPath);
}

/** The primary's settings, read through a read-only connection; the journal mode from the file header (a snapshot reports its own). */
function primarySettings(src: LibsqlDatabase, dbPath: string): FileSettings {
  const s = readFileSettings(src);
  const probe = probeFile(dbPath);
  return { ...s, journalMode: probe.state === "ok" && probe.header.walMode ? "wal" : s.journalMode === "wal" ? "delete" : s.journalMode };
}

/** What a copy beside the primary needs: the run's paths and its verified backup. */
type CopyOptions = Pick<FoldCopyOptions, "dbPath" | "newPath" | "backupPath" | "backupSha256" | "onPhase" | "afterCopy">;

/**
 * Steps 1 and 2: the primary copied under the run's private build name and proven to be the state the
 * verified backup holds. Returns the private name (the caller changes the copy there, then `finishCopy`
 * or removes it with removeOwnDatabaseFiles) and the primary's settings and backup read.
 */
export async function copyProvenEqual(
  o: CopyOptions,
): Promise<{ building: string; settings: FileSettings; read: Awaited<ReturnType<typeof verifyAgainstDatabase>>["read"] }> {
  clearOwnCopies(o.newPath);
  const building = foldBuildPath(o.newPath);
  try {
    // 1. The copy, from one read transaction on the primary.
    o.onPhase?.("copying the primary beside it (VACUUM INTO, one read transaction)");
    const settings = vacuumCopy(o.dbPath, building, (src) => primarySettings(src, o.dbPath));
    o.afterCopy?.();
    // 2. The copy is the state the verified backup holds.
    o.onPhase?.("comparing the copy with the verified backup");
    const { read, comparison } = await verifyAgainstDatabase(o.backupPath, building);
    if (read.fileSha256 !== o.backupSha256) {
      throw refused({
        what: `The backup ${o.backupPath} changed since it was written (sha256 ${read.fileSha256} ≠ ${o.backupSha256}).`,
        untouched: "The primary was not changed; the copy was removed.",
        next: "Roll this run back (--rollback --apply) and run it again.",
      });
    }
    if (!comparison.ok) {
      throw refused({
        what: `The copy of ${o.dbPath} does not equal the verified backup (${comparison.firstDifference}): the primary changed since the export.`,
        untouched: "The primary was not changed by this tool; the copy was removed.",
        next: "Stop the application writing to it, roll this run back (--rollback --apply) and run it again.",
      });
    }
    return { building, settings, read };
  } catch (e) {
    removeOwnDatabaseFiles(building);
    throw e;
  }
}

/** Step 5: the finished copy in the primary's journal mode, durable, then under the new file's name. */
export function finishCopy(building: string, newPath: string, settings: FileSettings): void {
  if (finalJournalMode(settings) === "wal") {
    const w = new Database(building);
    try {
      w.exec("PRAGMA journal_mode=WAL");
    } finally {
      w.close();
    }
  }
  fsyncFile(building);
  renameSync(building, newPath);
  fsyncDir(dirname(newPath));
}

export async function buildFoldedCopy(o: FoldCopyOptions): Promise<FoldCopyResult> {
  const { building, settings, read } = await copyProvenEqual(o);
  try {
    // The copy's AUTOINCREMENT counters (the backup's: the copy equals it): the fold's rows (its ledger row, seed rows) may only raise them.
    const seqBefore = sequencesOf(building);
    // 3. The fold, in one transaction on the copy.
    o.onPhase?.("folding the copy");
    await applyMigration(o.plan, {
      path: building,
      workDir: o.workDir,
      targetFacts: o.targetFacts,
      backup: async () => ({ path: o.backupPath, sha256: o.backupSha256 }),
    });
    // 4. The folded copy, checked.
    o.onPhase?.("checking the folded copy");
    const db = new Database(building);
    db.defaultSafeIntegers(true);
    let integrity: string;
    const tables: FoldCopyTable[] = [];
    try {
      // A WITHOUT ROWID table's big values are not read whole by the check (src/db/integrity.ts).
      integrity = integrityCheck(db, bigLimit()).problems.join("; ");
      if (integrity !== "ok")
        throw failed({
          what: `integrity_check of the folded copy: ${integrity}.`,
          untouched: "The primary was not changed; the copy was removed.",
          next: "Keep the backup; run vox-cutover diagnose and report this.",
        });
      const structure = compareFacts(readFacts(db), o.targetFacts);
      if (!structure.equal)
        throw failed({
          what: `The folded copy's structure differs from the target: ${structureLines(structure).slice(0, 3).join("; ")}.`,
          untouched: "The primary was not changed; the copy was removed.",
          next: "Run the cutover's rebuild instead (report this).",
        });
      const got = readFileSettings(db);
      const diffs = settingsDifferences({ ...settings, journalMode: "delete" }, { ...got, journalMode: "delete" });
      if (diffs.length)
        throw failed({
          what: `The copy did not keep the primary's settings: ${diffs.join(", ")}.`,
          untouched: "The primary was not changed; the copy was removed.",
          next: "Report this.",
        });
      const trailer = new Map(read.tables.map((t) => [t.name, t]));
      const grown = new Set<string>();
      for (const bt of read.header.tables) {
        const want = trailer.get(bt.name)!;
        const now = hashTable(db, bt);
        const unchanged = now.rows === want.rows && now.sha256 === want.sha256;
        tables.push({ name: bt.name, rowsBefore: want.rows, rowsAfter: now.rows, unchanged });
        if (bt.name === "sqlite_sequence") {
          const lowered = sequencesLowered(seqBefore, sequencesIn(db));
          if (lowered)
            throw failed({
              what: `After the fold, the copy's sqlite_sequence ${lowered}: the fold only adds rows.`,
              untouched: "The primary was not changed; the copy was removed.",
              next: "Keep the backup; report this.",
            });
          continue;
        }
        // Only rows may be added (INSERT OR IGNORE of seed and version rows); a table with as many rows holds the same values,
        // one with more every backed-up row as it was (below).
        if (now.rows > want.rows) grown.add(bt.name);
        if (now.rows < want.rows || (now.rows === want.rows && !unchanged)) {
          throw failed({
            what: `After the fold, table ${bt.name} of the copy ${now.rows < want.rows ? `holds ${formatCount(now.rows)} rows, the backup ${formatCount(want.rows)}` : "holds other values in its backed-up columns than the backup"}.`,
            untouched: "The primary was not changed; the copy was removed.",
            next: "Keep the backup; report this.",
          });
        }
      }
      const changed = grown.size ? firstTableNotKept(db, o.backupPath, o.backupSha256, grown) : null;
      if (changed)
        throw failed({
          what: `After the fold, table ${changed} of the copy has rows added, but not every backed-up row as it was: one was changed or replaced (by a trigger of yours that the fold's inserts fired, or by the fold itself).`,
          untouched: "The primary was not changed; the copy was removed.",
          next: "Keep the backup. Look at the triggers on that table (vox-cutover diagnose lists yours); report this if there is none.",
        });
    } finally {
      db.close();
    }
    // 5. Durable, then under the new file's name.
    finishCopy(building, o.newPath, settings);
    const added = tables.reduce((n, t) => n + (t.rowsAfter - t.rowsBefore), 0);
    return { path: o.newPath, settings, integrity, tables, added };
  } catch (e) {
    removeOwnDatabaseFiles(building);
    throw e;
  }
}

/** Every sqlite_sequence entry of the file at `path` (name → seq, exact). */
function sequencesOf(path: string): Map<string, bigint> {
  const db = openReadOnly(path);
  try {
    return sequencesIn(db);
  } finally {
    db.close();
  }
}

/** Every sqlite_sequence entry `db` holds (its integers read as BigInt). */
function sequencesIn(db: LibsqlDatabase): Map<string, bigint> {
  const has = allRows(db, "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").length > 0;
  return new Map(has ? allRows(db, "SELECT name, seq FROM sqlite_sequence").map((r) => [String(r.name), BigInt(r.seq as bigint)]) : []);
}

/** How the folded copy's sqlite_sequence (`now`) lost or lowered an entry the copy held before the fold (null: none). */
function sequencesLowered(before: Map<string, bigint>, now: Map<string, bigint>): string | null {
  for (const [name, seq] of before) {
    const after = now.get(name);
    if (after === undefined) return `lost the entry of ${name} (${seq})`;
    if (after < seq) return `lowered the entry of ${name} from ${seq} to ${after}`;
  }
  return null;
}
