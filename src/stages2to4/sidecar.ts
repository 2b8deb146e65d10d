import { existsSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { readCatalogSync, type TableInfo } from "../db/catalog.js";
import { SIDECAR_NAME } from "../db/diagnose.js";
import { fsyncPath, moveDatabaseFiles } from "../db/files.js";
import { allRows, openReadOnly, withWriteTransaction, type LibsqlDatabase } from "../db/local.js";
import { quoteIdent, type SqlValue } from "../db/value.js";
import { encodeRow, rowJson } from "../backup/format.js";
import { iterateRows, listBackupTables, rowStatement } from "../backup/tables.js";
import { recordLedger } from "../engine/ledger.js";
import { writeVerifiedBackup } from "../backup/verified.js";

export interface SidecarTable {
  name: string;
  rows: number;
  /** Same key and same values in the canonical DB. */
  present: number;
  /** Rows the canonical DB lacks: what --merge copies (after --apply: copied). */
  merged: number;
  /** Same key, other values: what --merge sends to legacy_quarantine (reason sidecar-conflict). */
  conflicts: number;
  /** False when the canonical baseline has no such table: its rows stay in the archived file. */
  mergeable: boolean;
}

export function sidecarPathFor(dbPath: string, opt?: string): string {
  return opt ? opt : join(dirname(dbPath), SIDECAR_NAME);
}

interface Matcher {
  table: TableInfo;
  cols: string[];
  keyIdx: number[];
  lookup: ReturnType<LibsqlDatabase["prepare"]>;
}

function matcherFor(canonical: LibsqlDatabase, target: TableInfo, cols: string[]): Matcher {
  const pk = target.columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
  const keyCols = pk.length && pk.every((k) => cols.includes(k)) ? pk : cols;
  const where = keyCols.map((k) => `${quoteIdent(k)} IS ?`).join(" AND ");
  const lookup = canonical.prepare(`SELECT ${cols.map(quoteIdent).join(", ")} FROM ${quoteIdent(target.name)} WHERE ${where} LIMIT 1`);
  lookup.raw(true);
  lookup.safeIntegers(true);
  return { table: target, cols, keyIdx: keyCols.map((k) => cols.indexOf(k)), lookup };
}

function normalize(r: unknown[]): SqlValue[] {
  return r.map((v) => (v instanceof ArrayBuffer ? new Uint8Array(v) : (v as SqlValue)));
}

/**
 * Walks every sidecar row against the canonical DB. With `merge`, inserts the missing rows and
 * quarantines conflicting ones (the caller holds the transaction on `canonical`).
 */
export function compareSidecar(sidecarPath: string, canonical: LibsqlDatabase, merge?: { runId: string }): SidecarTable[] {
  const side = openReadOnly(sidecarPath);
  const out: SidecarTable[] = [];
  try {
    const canon = new Map(readCatalogSync(canonical).map((t) => [t.name, t]));
    const q = merge ? canonical.prepare("INSERT INTO legacy_quarantine(source_table, source_rowid, row_json, reason, run_id, quarantined_at) VALUES (?, NULL, ?, 'sidecar-conflict', ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))") : null;
    for (const bt of listBackupTables(side)) {
      if (bt.name === "sqlite_sequence" || bt.name === "schema_version") continue;
      const cols = bt.rowidColumn ? bt.columns.slice(1) : bt.columns;
      const target = canon.get(bt.name);
      const t: SidecarTable = { name: bt.name, rows: Number(bt.rows), present: 0, merged: 0, conflicts: 0, mergeable: Boolean(target && cols.every((c) => target.columns.some((x) => x.name === c))) };
      out.push(t);
      if (!t.mergeable) continue;
      const m = matcherFor(canonical, target!, cols);
      const ins = merge ? canonical.prepare(`INSERT INTO ${quoteIdent(bt.name)} (${cols.map(quoteIdent).join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`) : null;
      const off = bt.rowidColumn ? 1 : 0;
      for (const full of iterateRows(rowStatement(side, bt))) {
        const row = full.slice(off);
        const found = (m.lookup as unknown as { get(...a: unknown[]): unknown }).get(...m.keyIdx.map((i) => row[i])) as unknown[] | undefined;
        if (!found) {
          t.merged++;
          if (ins) (ins as unknown as { run(...a: unknown[]): unknown }).run(...row);
        } else if (encodeRow(normalize(found)) === encodeRow(row)) {
          t.present++;
        } else {
          t.conflicts++;
          q?.run(`${SIDECAR_NAME}:${bt.name}`, rowJson(cols, row), merge!.runId);
        }
      }
    }
  } finally {
    side.close();
  }
  return out;
}

export function sidecarChainInfo(sidecarPath: string): { versions: string[] } {
  const db = openReadOnly(sidecarPath);
  try {
    const has = allRows(db, "SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").length;
    return { versions: has ? allRows(db, "SELECT version FROM schema_version ORDER BY 1").map((r) => String(r.version)) : [] };
  } finally {
    db.close();
  }
}

/** Merges in one transaction on the canonical DB (with its ledger row). */
export function mergeSidecar(sidecarPath: string, canonicalPath: string, runId: string, backupSha256: string): SidecarTable[] {
  return withWriteTransaction(canonicalPath, (db) => {
    const tables = compareSidecar(sidecarPath, db, { runId });
    recordLedger(db, { runId, command: "sidecar", backupSha256, counts: { merged: tables.reduce((n, t) => n + t.merged, 0), conflicts: tables.reduce((n, t) => n + t.conflicts, 0), tables } });
    return tables;
  });
}

/** Moves the sidecar and its -wal/-shm into the archive folder; never deletes. */
export function archiveSidecar(sidecarPath: string, archiveDir: string): string {
  mkdirSync(archiveDir, { recursive: true });
  const to = join(archiveDir, basename(sidecarPath));
  if (existsSync(to)) throw new Error(`${to} already exists`);
  moveDatabaseFiles(sidecarPath, to);
  fsyncPath(dirname(sidecarPath));
  fsyncPath(archiveDir);
  return to;
}

export interface SidecarApplied {
  backup: { path: string; sha256: string; rows: number };
  tables: SidecarTable[];
  merged: number;
  conflicts: number;
  archive: string;
}

/**
 * Stage 2 --apply, for the command and the cutover step alike: a verified backup of the sidecar,
 * then (with `merge`) the missing rows copied in one transaction with its ledger row, or a ledger
 * row for an archive-only run, then the file moved into the archive.
 */
export async function applySidecar(opts: { sidecar: string; dbPath: string; workDir: string; archiveDir: string; runId: string; merge: boolean; baseline: { version: number; digest: string } }): Promise<SidecarApplied> {
  const backup = await writeVerifiedBackup({ dbPath: opts.sidecar, outPath: join(opts.workDir, "sidecar-backup.jsonl"), force: true, chain: "sidecar", maxVersion: null, baseline: opts.baseline });
  let tables: SidecarTable[] = [];
  if (opts.merge) {
    tables = mergeSidecar(opts.sidecar, opts.dbPath, opts.runId, backup.sha256);
  } else {
    withWriteTransaction(opts.dbPath, (db) => {
      tables = compareSidecar(opts.sidecar, db);
      recordLedger(db, { runId: opts.runId, command: "sidecar", backupSha256: backup.sha256, counts: { merged: 0, archivedOnly: true, tables } });
    });
  }
  const archive = archiveSidecar(opts.sidecar, opts.archiveDir);
  const sum = (k: "merged" | "conflicts") => (opts.merge ? tables.reduce((n, t) => n + t[k], 0) : 0);
  return { backup, tables, merged: sum("merged"), conflicts: sum("conflicts"), archive };
}
