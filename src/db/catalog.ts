import Database from "libsql";
import { allRows, type LibsqlDatabase } from "./local.js";
import type { DbReader } from "./reader.js";
import { quoteIdent, type Row } from "./value.js";

export interface ColumnInfo {
  name: string;
  type: string;
  notnull: boolean;
  dflt: string | null;
  /** 1-based position in the primary key, 0 if not part of it. */
  pk: number;
  /** 0 normal, 1 hidden (virtual), 2/3 generated. */
  hidden: number;
}

export interface TableInfo {
  name: string;
  sql: string;
  virtual: boolean;
  withoutRowid: boolean;
  /** INTEGER PRIMARY KEY column aliasing the rowid, if any. */
  rowidAlias: string | null;
  /** Whether the table has an AUTOINCREMENT rowid. */
  autoincrement: boolean;
  columns: ColumnInfo[];
}

const FTS_SHADOW_SUFFIXES = ["_data", "_idx", "_content", "_docsize", "_config"];

/** Shadow tables of FTS virtual tables are owned by the virtual table: never exported or counted. */
export function isShadowTable(name: string, virtualNames: readonly string[]): boolean {
  return virtualNames.some((v) => FTS_SHADOW_SUFFIXES.some((s) => name === v + s));
}

function tableRows(rows: Row[]): { name: string; sql: string }[] {
  return rows.map((r) => ({ name: String(r.name), sql: String(r.sql ?? "") }));
}

const MASTER_SQL =
  "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";

function buildInfo(name: string, sql: string, cols: Row[]): TableInfo {
  const virtual = /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(sql);
  const withoutRowid = /\)\s*WITHOUT\s+ROWID\s*;?\s*$/i.test(sql);
  const columns: ColumnInfo[] = cols.map((c) => ({
    name: String(c.name),
    type: String(c.type ?? ""),
    notnull: Number(c.notnull) === 1,
    dflt: c.dflt_value === null ? null : String(c.dflt_value),
    pk: Number(c.pk),
    hidden: Number(c.hidden ?? 0),
  }));
  const pkCols = columns.filter((c) => c.pk > 0);
  const rowidAlias =
    !withoutRowid && !virtual && pkCols.length === 1 && pkCols[0]!.type.toUpperCase() === "INTEGER" && !/PRIMARY\s+KEY\s+DESC/i.test(sql)
      ? pkCols[0]!.name
      : null;
  return { name, sql, virtual, withoutRowid, rowidAlias, autoincrement: /AUTOINCREMENT/i.test(sql), columns };
}

/** Every user table (virtual ones flagged, FTS shadow tables left out) with its columns. */
export async function readCatalog(reader: DbReader): Promise<TableInfo[]> {
  const tables = tableRows(await reader.rows(MASTER_SQL));
  const virtualNames = tables.filter((t) => /^\s*CREATE\s+VIRTUAL/i.test(t.sql)).map((t) => t.name);
  const out: TableInfo[] = [];
  for (const t of tables) {
    if (isShadowTable(t.name, virtualNames)) continue;
    const cols = await reader.rows("SELECT * FROM pragma_table_xinfo(?)", [t.name]);
    out.push(buildInfo(t.name, t.sql, cols));
  }
  return out;
}

export function readCatalogSync(db: LibsqlDatabase): TableInfo[] {
  const tables = tableRows(allRows(db, MASTER_SQL));
  const virtualNames = tables.filter((t) => /^\s*CREATE\s+VIRTUAL/i.test(t.sql)).map((t) => t.name);
  return tables
    .filter((t) => !isShadowTable(t.name, virtualNames))
    .map((t) => buildInfo(t.name, t.sql, allRows(db, "SELECT * FROM pragma_table_xinfo(?)", [t.name])));
}

const baselineCache = new Map<string, TableInfo[]>();

/** The tables the baseline SQL creates, read back from a private in-memory database. */
export function baselineCatalog(sql: string): TableInfo[] {
  const hit = baselineCache.get(sql);
  if (hit) return hit;
  const db = new Database(":memory:");
  try {
    db.defaultSafeIntegers(true);
    db.exec(sql);
    const cat = readCatalogSync(db);
    baselineCache.set(sql, cat);
    return cat;
  } finally {
    db.close();
  }
}

export async function countRows(reader: DbReader, table: string): Promise<bigint> {
  const r = await reader.rows(`SELECT count(*) AS n FROM ${quoteIdent(table)}`);
  return r[0]!.n as bigint;
}
