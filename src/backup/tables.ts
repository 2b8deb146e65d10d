import { createHash } from "node:crypto";
import { readCatalogSync, type TableInfo } from "../db/catalog.js";
import { allRows, type LibsqlDatabase, type LibsqlStatement } from "../db/local.js";
import { normalizeValue, quoteIdent, type SqlValue } from "../db/value.js";
import { encodeRow, type BackupTable } from "./format.js";

const ROWID_NAMES = ["rowid", "_rowid_", "oid"];

/**
 * FTS5 tables that hold their own content carry data: they are backed up through the virtual table
 * (rowid + columns) and re-indexed by inserting. External-content FTS tables (content='…') are
 * rebuilt from their content table; contentless ones (content='') hold nothing to back up.
 */
export function isContentFts(t: TableInfo): boolean {
  return t.virtual && /USING\s+fts5/i.test(t.sql) && !/\bcontent\s*=/i.test(t.sql);
}

/** How a table is carried in a backup: which values, in which order, with or without its rowid. */
export function backupTable(t: TableInfo, rows: bigint): BackupTable {
  const cols = t.columns.filter((c) => c.hidden === 0);
  const colNames = cols.map((c) => c.name);
  const lower = new Set(colNames.map((c) => c.toLowerCase()));
  const rowidColumn = t.withoutRowid || t.rowidAlias ? null : t.virtual ? "rowid" : (ROWID_NAMES.find((n) => !lower.has(n)) ?? null);
  const primaryKey = cols
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
  return {
    name: t.name,
    sql: t.sql,
    columns: rowidColumn ? [rowidColumn, ...colNames] : colNames,
    rowidColumn,
    rowidAlias: t.rowidAlias,
    withoutRowid: t.withoutRowid,
    primaryKey,
    types: rowidColumn ? ["", ...cols.map((c) => c.type)] : cols.map((c) => c.type),
    rows: rows <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(rows) : rows.toString(),
  };
}

/** Every table a backup carries (FTS virtual and shadow tables excluded), plus sqlite_sequence. */
export function listBackupTables(db: LibsqlDatabase): BackupTable[] {
  const out: BackupTable[] = [];
  for (const t of readCatalogSync(db)) {
    if (t.virtual && !isContentFts(t)) continue;
    out.push(backupTable(t, countOf(db, t.name)));
  }
  const seq = allRows(db, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'");
  if (seq.length) {
    out.push({
      name: "sqlite_sequence",
      sql: String(seq[0]!.sql),
      columns: ["name", "seq"],
      rowidColumn: null,
      rowidAlias: null,
      withoutRowid: false,
      primaryKey: [],
      types: ["", ""],
      rows: Number(countOf(db, "sqlite_sequence")),
    });
  }
  return out;
}

function countOf(db: LibsqlDatabase, name: string): bigint {
  return allRows(db, `SELECT count(*) AS n FROM ${quoteIdent(name)}`)[0]!.n as bigint;
}

export function selectSql(t: BackupTable): string {
  const cols = t.columns.map((c, i) => (i === 0 && t.rowidColumn ? t.rowidColumn : quoteIdent(c))).join(", ");
  const order =
    t.name === "sqlite_sequence"
      ? " ORDER BY name, seq"
      : t.withoutRowid
        ? ` ORDER BY ${t.primaryKey.map(quoteIdent).join(", ")}`
        : t.rowidColumn
          ? ` ORDER BY ${t.rowidColumn}`
          : t.rowidAlias
            ? ` ORDER BY ${quoteIdent(t.rowidAlias)}`
            : "";
  return `SELECT ${cols} FROM ${quoteIdent(t.name)}${order}`;
}

/** A reusable statement that streams a table's rows as arrays of SqlValue (BigInt integers). */
export function rowStatement(db: LibsqlDatabase, t: BackupTable): LibsqlStatement {
  const st = db.prepare(selectSql(t));
  st.raw(true);
  st.safeIntegers(true);
  return st;
}

export function* iterateRows(st: LibsqlStatement): Generator<SqlValue[]> {
  for (const raw of (st as unknown as { iterate(): IterableIterator<unknown[]> }).iterate()) {
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i];
      if (v !== null && typeof v === "object") raw[i] = normalizeValue(v);
    }
    yield raw as SqlValue[];
  }
}

/** Row count and content hash of a table as the backup would carry it (nothing written). */
export function hashTable(db: LibsqlDatabase, t: BackupTable): { rows: number; sha256: string } {
  const h = createHash("sha256");
  let rows = 0;
  let chunk = "";
  for (const r of iterateRows(rowStatement(db, t))) {
    chunk += encodeRow(r) + "\n";
    rows++;
    if (chunk.length > 1 << 16) {
      h.update(chunk);
      chunk = "";
    }
  }
  h.update(chunk);
  return { rows, sha256: h.digest("hex") };
}
