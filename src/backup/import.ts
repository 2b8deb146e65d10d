import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { failed, refused } from "../errors.js";
import { readCatalogSync, type TableInfo } from "../db/catalog.js";
import { writeTransactionInto } from "../db/files.js";
import { allRows, type LibsqlDatabase, type LibsqlStatement } from "../db/local.js";
import { quoteIdent, type SqlValue } from "../db/value.js";
import { recordLedger } from "../engine/ledger.js";
import { affinityOf, wouldConvert, type Affinity } from "./affinity.js";
import { rowJson, type BackupHeader, type BackupTable } from "./format.js";
import type { ImporterRule } from "./importers.js";
import { readBackup } from "./read.js";
import { backupTable, hashTable, isContentFts } from "./tables.js";

export interface TableImport {
  /** Table in the backup. */
  source: string;
  /** Table in the new file ("" when the whole table is quarantined). */
  target: string;
  rows: number;
  loaded: number;
  quarantined: number;
  /** Rows the target held before (cleared by replace semantics). */
  cleared: number;
  reasons: Record<string, number>;
  mapping: "same" | "rule" | "unknown-table" | "special";
  /** Parity proof: "hash" (same shape: content hash equal), "count", or "n/a". */
  parity: "hash" | "count" | "n/a";
}

export interface ImportReport {
  runId: string;
  tables: TableImport[];
  totalRows: number;
  loaded: number;
  quarantined: number;
  foreignKeyViolations: { table: string; count: number }[];
  integrity: string;
  ftsRebuilt: string[];
  sequencesRestored: number;
  backupSha256: string;
}

export interface ImportOptions {
  backupPath: string;
  /** The target database; for a dry-run, the trial import goes to a temporary file instead. */
  targetPath: string;
  baselineSql: string;
  baselineVersion: number;
  history: number[];
  rules: Map<string, ImporterRule>;
  /**
   * The sha256 the backup was verified with by an earlier step (the cutover's verify-backup): a
   * different file is refused. Either way the load checks every hash as it reads, and nothing
   * commits unless the whole file verified.
   */
  verifiedSha256?: string;
  /** Where the rows go: the real target (apply) or a scratch file (dry-run). */
  into: "target" | "scratch";
  runId?: string;
  planDigest?: string;
  command?: string;
  onProgress?: (p: { rowsDone: number; totalRows: number; table: string }) => void;
  /** Test hook: throw after this many loaded rows (failure injection). */
  failAfterRows?: number;
}

interface Plan {
  bt: BackupTable;
  target: TableInfo | null;
  report: TableImport;
  /** index in backup row → target column name (null: not loaded) */
  map: (string | null)[];
  unknownCols: number[];
  checks: { idx: number; aff: Affinity; col: string }[];
  insert?: LibsqlStatement;
  insertIdx: number[];
  sameShape: boolean;
  hash?: ReturnType<typeof createHash>;
}

const SPECIAL = new Set(["sqlite_sequence"]);
/** Marks the mapping of a backup rowid onto the target's (unaliased) rowid. */
const ROWID = "\u0000rowid";

function sqlErrorCode(e: unknown): string {
  return String((e as { code?: string }).code ?? "");
}

/** Builds the per-table mapping from the backup's header and the target's catalog. */
function planTables(header: BackupHeader, catalog: TableInfo[], rules: Map<string, ImporterRule>): Map<string, Plan> {
  const byName = new Map(catalog.filter((t) => !t.virtual || isContentFts(t)).map((t) => [t.name, t]));
  const plans = new Map<string, Plan>();
  for (const bt of header.tables) {
    const report: TableImport = { source: bt.name, target: "", rows: Number(bt.rows), loaded: 0, quarantined: 0, cleared: 0, reasons: {}, mapping: "same", parity: "n/a" };
    if (SPECIAL.has(bt.name)) {
      report.mapping = "special";
      report.target = bt.name;
      plans.set(bt.name, { bt, target: null, report, map: [], unknownCols: [], checks: [], insertIdx: [], sameShape: false });
      continue;
    }
    const rule = rules.get(bt.name);
    const target = byName.get(bt.name) ?? (rule ? byName.get(rule.into) : undefined) ?? null;
    if (!target) {
      report.mapping = "unknown-table";
      plans.set(bt.name, { bt, target: null, report, map: bt.columns.map(() => null), unknownCols: [], checks: [], insertIdx: [], sameShape: false });
      continue;
    }
    report.mapping = target.name === bt.name ? "same" : "rule";
    report.target = target.name;
    const cols = new Map(target.columns.filter((c) => c.hidden === 0).map((c) => [c.name, c]));
    const map: (string | null)[] = bt.columns.map((c, i) => {
      if (i === 0 && bt.rowidColumn) {
        if (target.withoutRowid) return null;
        if (target.rowidAlias) return bt.columns.includes(target.rowidAlias) ? null : target.rowidAlias;
        return ROWID; // the target's own rowid, under a name no column shadows
      }
      const name = report.mapping === "rule" ? (rule!.columns[c] ?? null) : c;
      return name !== null && cols.has(name) ? name : null;
    });
    const unknownCols = bt.columns.map((_, i) => i).filter((i) => map[i] === null && !(i === 0 && bt.rowidColumn));
    const checks = map
      .map((name, idx) => ({ idx, name }))
      .filter((x): x is { idx: number; name: string } => x.name !== null && x.name !== ROWID)
      .map(({ idx, name }) => ({ idx, aff: affinityOf(cols.get(name)!.type), col: name, src: affinityOf(bt.types[idx] ?? "") }))
      // Same affinity: the source already applied it, nothing can convert. Untyped source columns count as BLOB.
      .filter((x) => x.aff !== "BLOB" && x.aff !== x.src)
      .map(({ idx, aff, col }) => ({ idx, aff, col }));
    const targetBt = backupTable(target, 0n);
    const sameShape = report.mapping === "same" && JSON.stringify(targetBt.columns) === JSON.stringify(bt.columns) && targetBt.rowidColumn === bt.rowidColumn;
    report.parity = sameShape ? "hash" : "count";
    plans.set(bt.name, { bt, target, report, map, unknownCols, checks, insertIdx: [], sameShape });
  }
  return plans;
}

/**
 * Loads a backup into a baseline database in one transaction with replace semantics, verifying it
 * in the same single pass: a file that does not verify rolls everything back.
 * A failure anywhere rolls everything back (a new file is built under a temporary name).
 */
export async function importBackup(opts: ImportOptions): Promise<ImportReport> {
  const runId = opts.runId ?? randomUUID();
  const mode = opts.into === "scratch" ? "scratch" : existsSync(opts.targetPath) ? "existing" : "create";
  // A new file is private until it is renamed into place (a failure deletes it): it loads without a
  // rollback journal or fsync per commit; safe settings and one fsync before the rename.
  return writeTransactionInto({ path: opts.targetPath, mode, tag: mode === "scratch" ? "dryrun" : "building", fast: true, foreignKeysOff: true }, (db) => load(db, opts, runId, mode !== "existing"));
}


/** Secondary indexes and triggers of the tables being loaded: dropped for the load, recreated after (same transaction). */
function dropDerived(db: LibsqlDatabase, tables: Set<string>): string[] {
  const derived = allRows(db, "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type DESC, name").filter((r) => tables.has(String(r.tbl_name)));
  for (const r of derived) db.exec(`DROP ${String(r.type).toUpperCase()} ${quoteIdent(String(r.name))}`);
  return derived.map((r) => String(r.sql));
}

function load(db: LibsqlDatabase, opts: ImportOptions, runId: string, fresh: boolean): ImportReport {
  const B = BigInt(opts.baselineVersion);
  const hist = new Set(opts.history.map((h) => BigInt(h)));
  // The target must be on the baseline: apply the (idempotent) baseline DDL inside the transaction.
  const versionsBefore = allRows(db, "SELECT name FROM sqlite_master WHERE name = 'schema_version'").length
    ? allRows(db, "SELECT version FROM schema_version").map((r) => r.version)
    : [];
  if (versionsBefore.some((v) => v !== B && !(typeof v === "bigint" && hist.has(v)))) {
    throw refused({
      what: `The target ${opts.targetPath} is not on baseline ${opts.baselineVersion} (schema_version holds ${versionsBefore.map(String).join(", ")}).`,
      untouched: "The target was not changed.",
      next: "Import into a new file (a path that does not exist yet) or a database on the current baseline.",
    });
  }
  db.exec(opts.baselineSql);
  db.exec(`INSERT OR IGNORE INTO schema_version(version, applied_at) VALUES (${opts.baselineVersion}, strftime('%Y-%m-%dT%H:%M:%fZ','now'))`);
  const catalog = readCatalogSync(db);
  let plans = new Map<string, Plan>();
  let totalRows = 0;
  // Planned from the header, the first line: mapping, then replace semantics (clear what is loaded).
  const onHeader = (header: BackupHeader) => {
    totalRows = header.tables.reduce((n, t) => n + Number(t.rows), 0);
    plans = planTables(header, catalog, opts.rules);
    const toClear = new Set<string>(["legacy_quarantine"]);
    for (const p of plans.values()) if (p.target) toClear.add(p.target.name);
    // Indexes are built once after the load and FTS indexes rebuilt once (not row by row via triggers).
    derived = dropDerived(db, toClear);
    const clearedCounts = new Map<string, number>();
    for (const t of toClear) {
      clearedCounts.set(t, Number(allRows(db, `SELECT count(*) AS n FROM ${quoteIdent(t)}`)[0]!.n));
      db.exec(`DELETE FROM ${quoteIdent(t)}`);
    }
    for (const p of plans.values()) if (p.target) p.report.cleared = clearedCounts.get(p.target.name) ?? 0;
  };
  let derived: string[] = [];
  const now = new Date().toISOString();
  const quarantine = db.prepare("INSERT INTO legacy_quarantine(source_table, source_rowid, row_json, reason, run_id, quarantined_at) VALUES (?, ?, ?, ?, ?, ?)");
  let quarantinedTotal = 0;
  const toQuarantine = (p: Plan, values: SqlValue[], reason: string) => {
    const ridIdx = p.bt.rowidColumn ? 0 : p.bt.rowidAlias ? p.bt.columns.indexOf(p.bt.rowidAlias) : -1;
    const rid = ridIdx >= 0 && typeof values[ridIdx] === "bigint" ? values[ridIdx] : null;
    quarantine.run(p.bt.name, rid, rowJson(p.bt.columns, values), reason, runId, now);
    p.report.quarantined++;
    const key = reason.split(":")[0]!;
    p.report.reasons[key] = (p.report.reasons[key] ?? 0) + 1;
    quarantinedTotal++;
  };
  const sequences: { name: string; seq: bigint }[] = [];
  let rowsDone = 0;
  let loadedTotal = 0;
  const result = readBackup(opts.backupPath, {
    // Every table hash, count, rowid order and the whole-file hash are checked as the rows load;
    // the per-row canonical re-encoding is left to verify-backup (any edit already breaks a hash).
    trusted: true,
    onHeader,
    onTable(bt) {
      const p = plans.get(bt.name)!;
      if (!p.target) return;
      const idx = p.map.map((m, i) => (m === null ? -1 : i)).filter((i) => i >= 0);
      p.insertIdx = idx;
      const rowidName = backupTable(p.target, 0n).rowidColumn;
      if (idx.some((i) => p.map[i] === ROWID) && !rowidName) throw failed({ what: `Table ${p.target.name} shadows rowid, _rowid_ and oid with columns: its rowids cannot be set.`, untouched: "The import was rolled back.", next: "Rename one of those columns in the baseline." });
      const names = idx.map((i) => (p.map[i] === ROWID ? rowidName! : quoteIdent(p.map[i]!)));
      p.insert = db.prepare(`INSERT INTO ${quoteIdent(p.target.name)} (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`);
      p.hash = createHash("sha256");
    },
    onRow(bt, values, line) {
      rowsDone++;
      const p = plans.get(bt.name)!;
      if (p.report.mapping === "special") {
        if (bt.name === "sqlite_sequence") sequences.push({ name: String(values[0]), seq: typeof values[1] === "bigint" ? values[1] : 0n });
        return;
      }
      if (!p.target) return toQuarantine(p, values, "unknown-table: the baseline has no such table and no importer rule maps it");
      if (p.target.name === "schema_version") {
        const v = values[p.bt.columns.indexOf("version")];
        if (!(typeof v === "bigint" && (v === B || hist.has(v)))) return toQuarantine(p, values, "legacy-schema-version: not the baseline nor in baseline_history; kept here, not loaded");
      }
      for (const c of p.checks) {
        if (wouldConvert(values[c.idx]!, c.aff)) {
          return toQuarantine(p, values, `type-change: ${p.bt.columns[c.idx]} would change storage class in ${p.target.name}.${c.col} (${c.aff} affinity)`);
        }
      }
      const args = p.insertIdx.map((i) => values[i]!);
      try {
        (p.insert as unknown as { run(...a: unknown[]): unknown }).run(...args);
      } catch (e) {
        if (/CONSTRAINT/.test(sqlErrorCode(e)) || /constraint failed/i.test(String((e as Error).message))) {
          return toQuarantine(p, values, `constraint: ${(e as Error).message}`);
        }
        throw e;
      }
      p.report.loaded++;
      loadedTotal++;
      if (p.sameShape) p.hash!.update(line + "\n");
      const unknown = p.unknownCols.filter((i) => values[i] !== null);
      if (unknown.length) {
        // The row is loaded without them; the full row is kept in quarantine so nothing is lost.
        quarantine.run(p.bt.name, p.bt.rowidColumn || p.bt.rowidAlias ? (values[p.bt.rowidColumn ? 0 : p.bt.columns.indexOf(p.bt.rowidAlias!)] as SqlValue) : null, rowJson(p.bt.columns, values), `unknown-columns: ${unknown.map((i) => p.bt.columns[i]).join(", ")} (row loaded without them)`, runId, now);
        p.report.reasons["unknown-columns"] = (p.report.reasons["unknown-columns"] ?? 0) + 1;
      }
      if (opts.failAfterRows !== undefined && loadedTotal >= opts.failAfterRows) throw new Error(`injected failure after ${loadedTotal} rows`);
      if ((rowsDone & 0x3fff) === 0) opts.onProgress?.({ rowsDone, totalRows, table: bt.name });
    },
  });
  if (opts.verifiedSha256 !== undefined && result.fileSha256 !== opts.verifiedSha256) {
    throw refused({ what: "The backup changed between verification and import.", untouched: "The import was rolled back.", next: "Take and verify a new backup." });
  }
  for (const sql of derived) db.exec(sql);
  // The backup's own baseline/history rows were loaded as they were; a legacy backup has none.
  db.exec(`INSERT OR IGNORE INTO schema_version(version, applied_at) VALUES (${opts.baselineVersion}, strftime('%Y-%m-%dT%H:%M:%fZ','now'))`);
  // sqlite_sequence: the backup's values (never below the loaded rowids).
  let sequencesRestored = 0;
  const autoinc = new Set(catalog.filter((t) => t.autoincrement).map((t) => t.name));
  for (const s of sequences) {
    const target = plans.get(s.name)?.target?.name ?? (opts.rules.get(s.name)?.into ?? s.name);
    if (!autoinc.has(target)) continue;
    const maxRow = allRows(db, `SELECT coalesce(max(rowid), 0) AS m FROM ${quoteIdent(target)}`)[0]!.m as bigint;
    const seq = s.seq > maxRow ? s.seq : maxRow;
    db.prepare("DELETE FROM sqlite_sequence WHERE name = ?").run(target);
    db.prepare("INSERT INTO sqlite_sequence(name, seq) VALUES (?, ?)").run(target, seq);
    sequencesRestored++;
  }
  // FTS indexes are rebuilt from their content tables.
  const ftsRebuilt: string[] = [];
  for (const t of catalog.filter((x) => x.virtual && /fts5/i.test(x.sql))) {
    db.exec(`INSERT INTO ${quoteIdent(t.name)}(${quoteIdent(t.name)}) VALUES ('rebuild')`);
    ftsRebuilt.push(t.name);
  }
  // Parity: every backed-up row is in the new file or in legacy_quarantine.
  const reports = [...plans.values()].map((p) => p.report);
  for (const p of plans.values()) {
    if (p.report.loaded + p.report.quarantined !== p.report.rows && p.report.mapping !== "special") {
      throw failed({ what: `Parity failed for ${p.bt.name}: ${p.report.rows} rows in the backup, ${p.report.loaded} loaded, ${p.report.quarantined} quarantined.`, untouched: "The import was rolled back.", next: "Report this with the backup file." });
    }
  }
  const byTarget = new Map<string, Plan[]>();
  for (const p of plans.values()) if (p.target) byTarget.set(p.target.name, [...(byTarget.get(p.target.name) ?? []), p]);
  for (const [name, ps] of byTarget) {
    if (name === "schema_version" || name === "legacy_quarantine") continue;
    const target = catalog.find((t) => t.name === name)!;
    const tb = backupTable(target, 0n);
    const expectLoaded = ps.reduce((n, p) => n + p.report.loaded, 0);
    if (ps.length === 1 && ps[0]!.sameShape) {
      const h = hashTable(db, tb);
      const want = ps[0]!.hash!.digest("hex");
      if (h.rows !== expectLoaded || h.sha256 !== want) {
        throw failed({ what: `Parity failed for ${name}: the new file's rows (${h.rows}, ${h.sha256}) differ from the loaded backup rows (${expectLoaded}, ${want}).`, untouched: "The import was rolled back.", next: "Report this with the backup file." });
      }
    } else {
      const n = Number(allRows(db, `SELECT count(*) AS n FROM ${quoteIdent(name)}`)[0]!.n);
      if (n !== expectLoaded) throw failed({ what: `Parity failed for ${name}: ${n} rows in the new file, ${expectLoaded} loaded.`, untouched: "The import was rolled back.", next: "Report this with the backup file." });
    }
  }
  if (fresh) db.exec("ANALYZE"); // planner statistics for the new file
  const fk = allRows(db, "PRAGMA foreign_key_check");
  const fkCounts = new Map<string, number>();
  for (const r of fk) fkCounts.set(String(r.table), (fkCounts.get(String(r.table)) ?? 0) + 1);
  const integrity = allRows(db, "PRAGMA integrity_check").map((r) => String(Object.values(r)[0])).join("; ");
  if (integrity !== "ok") {
    throw failed({ what: `integrity_check of the imported file says: ${integrity.slice(0, 300)}.`, untouched: "The import was rolled back.", next: "Report this with the backup file." });
  }
  recordLedger(db, { runId, command: opts.command ?? "import-legacy", planDigest: opts.planDigest ?? null, backupSha256: result.fileSha256, counts: { rows: totalRows, loaded: loadedTotal, quarantined: quarantinedTotal } });
  return {
    runId,
    tables: reports,
    totalRows,
    loaded: loadedTotal,
    quarantined: quarantinedTotal,
    foreignKeyViolations: [...fkCounts].map(([table, count]) => ({ table, count })),
    integrity,
    ftsRebuilt,
    sequencesRestored,
    backupSha256: result.fileSha256,
  };
}
