/**
 * The tables of a database and their shapes, as SQLite reports them: `PRAGMA table_list` (table,
 * virtual or shadow; WITHOUT ROWID; STRICT), `table_xinfo` (columns; hidden 1 = a virtual table's
 * hidden column, 2/3 = generated), `index_list` (whether the primary key is the rowid). SQL text is
 * only tokenized where SQLite reports nothing (AUTOINCREMENT, a virtual table's module arguments).
 */
import Database from "libsql";
import { allRows, type LibsqlDatabase } from "./local.js";
import type { DbReader } from "./reader.js";
import { moduleArgs, optionArg, sqlTokens } from "./sqltokens.js";
import { quoteIdent, type Row } from "./value.js";
import { derivedFor } from "../util/derived.js";

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

/**
 * How a backup carries a table:
 * - "rows": its rows (an ordinary table; a virtual table that holds its own content: FTS3/FTS4/FTS5
 *   without `content=`, rtree), inserted back on restore (a virtual table re-indexes as it is filled);
 * - "rebuild": an external-content FTS index, rebuilt from its content table (which is carried);
 * - "none": nothing to carry (contentless FTS, whose index cannot be read back; a module this build
 *   lacks, whose storage tables SQLite does not mark as shadows and so are carried as tables).
 */
export type Carry = "rows" | "rebuild" | "none";

export interface TableInfo {
  name: string;
  sql: string;
  virtual: boolean;
  /** The virtual table's module, lower case (null for an ordinary table). */
  module: string | null;
  withoutRowid: boolean;
  strict: boolean;
  /** The column that is the rowid (INTEGER PRIMARY KEY, or an rtree's id), if any. */
  rowidAlias: string | null;
  /** Whether the table has an AUTOINCREMENT rowid. */
  autoincrement: boolean;
  carry: Carry;
  columns: ColumnInfo[];
}

interface ListedTable {
  name: string;
  type: "table" | "virtual" | "shadow";
  withoutRowid: boolean;
  strict: boolean;
  sql: string;
}

interface VirtualArgs {
  module: string;
  options: Record<string, string>;
}

const LIST_SQL = "SELECT name, type, wr, strict FROM pragma_table_list WHERE schema = 'main' AND type <> 'view' ORDER BY name";
const MASTER_SQL = "SELECT name, sql FROM sqlite_master WHERE type = 'table'";
const XINFO_SQL = 'SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)';
const PK_INDEX_SQL = "SELECT count(*) AS n FROM pragma_index_list(?) WHERE origin = 'pk'";

function listed(list: Row[], master: Row[]): ListedTable[] {
  const sqlOf = new Map(master.map((r) => [String(r.name), String(r.sql ?? "")]));
  return list
    .map((r) => ({
      name: String(r.name),
      type: String(r.type) as ListedTable["type"],
      withoutRowid: Number(r.wr) === 1,
      strict: Number(r.strict) === 1,
      sql: sqlOf.get(String(r.name)) ?? "",
    }))
    .filter((t) => !t.name.startsWith("sqlite_"));
}

function unquote(v: string): string {
  const t = v.trim();
  const q = t[0];
  if ((q === "'" || q === '"' || q === "`") && t.endsWith(q))
    return t
      .slice(1, -1)
      .split(q + q)
      .join(q);
  if (q === "[" && t.endsWith("]")) return t.slice(1, -1);
  return t;
}

/** `CREATE VIRTUAL TABLE x USING mod(a, b, key=value)` → module and key=value options (tokenized). */
function virtualArgs(sql: string): VirtualArgs | null {
  const m = moduleArgs(sql);
  if (!m) return null;
  const options: Record<string, string> = {};
  for (const a of m.args) {
    const o = optionArg(a);
    if (o) options[o.key.toLowerCase()] = unquote(o.value);
  }
  return { module: m.module, options };
}

const FTS = new Set(["fts3", "fts4", "fts5"]);
const RTREE = new Set(["rtree", "rtree_i32"]);
const OWN_CONTENT = new Set([...FTS, ...RTREE, "geopoly"]);

function carryOf(v: VirtualArgs | null): Carry {
  if (!v || !OWN_CONTENT.has(v.module)) return "none";
  if (FTS.has(v.module) && "content" in v.options) return v.options.content === "" ? "none" : "rebuild";
  return "rows";
}

/**
 * Shadow tables are the ones `PRAGMA table_list` reports as `shadow`, except a table the virtual
 * table does not create: SQLite marks every `<fts>_content` a shadow, also the ordinary table an
 * external-content (or contentless) FTS table is given, and `<fts5>_docsize` under `columnsize=0`.
 */
function ordinaryDespiteShadow(name: string, virtuals: Map<string, VirtualArgs | null>): boolean {
  for (const [vname, v] of virtuals) {
    if (!v || !FTS.has(v.module)) continue;
    if ("content" in v.options && (name === `${vname}_content` || name === v.options.content)) return true;
    if (v.module === "fts5" && v.options.columnsize === "0" && name === `${vname}_docsize`) return true;
  }
  return false;
}

/**
 * The names of the real shadow tables (owned by a virtual table: never exported, counted or
 * compared), by the same rule as the catalog: `PRAGMA table_list` type 'shadow', less the ordinary
 * tables SQLite marks too (see ordinaryDespiteShadow).
 */
export function shadowTableNames(db: LibsqlDatabase): Set<string> {
  const tables = listed(allRows(db, LIST_SQL), allRows(db, MASTER_SQL));
  const virtuals = new Map(tables.filter((t) => t.type === "virtual").map((t) => [t.name, virtualArgs(t.sql)]));
  return new Set(tables.filter((t) => t.type === "shadow" && !ordinaryDespiteShadow(t.name, virtuals)).map((t) => t.name));
}

/** Whether a CREATE TABLE declares AUTOINCREMENT (SQLite reports it through no PRAGMA). */
export function autoincrementIn(sql: string): boolean {
  return sqlTokens(sql).some((t) => t.kind === "word" && t.upper === "AUTOINCREMENT");
}

function toColumns(cols: Row[]): ColumnInfo[] {
  return cols.map((c) => ({
    name: String(c.name),
    type: String(c.type ?? ""),
    notnull: Number(c.notnull) === 1,
    dflt: c.dflt_value === null ? null : String(c.dflt_value),
    pk: Number(c.pk),
    hidden: Number(c.hidden ?? 0),
  }));
}

interface Planned {
  t: ListedTable;
  v: VirtualArgs | null;
  carry: Carry;
}

/** Which listed tables are the user's (shadow tables left out), with their virtual-table facts. */
function plan(tables: ListedTable[]): Planned[] {
  const virtuals = new Map(tables.filter((t) => t.type === "virtual").map((t) => [t.name, virtualArgs(t.sql)]));
  return tables
    .filter((t) => t.type !== "shadow" || ordinaryDespiteShadow(t.name, virtuals))
    .map((t) => {
      const v = t.type === "virtual" ? (virtuals.get(t.name) ?? null) : null;
      return { t, v, carry: t.type === "virtual" ? carryOf(v) : "rows" };
    });
}

/**
 * `cols`: table_xinfo rows; `pkIndexed`: the primary key has its own index (origin 'pk'), so it
 * is not the rowid (a WITHOUT ROWID table, a non-INTEGER key, `INTEGER PRIMARY KEY DESC`).
 */
function buildInfo(p: Planned, cols: Row[], pkIndexed: boolean): TableInfo {
  const { t, v, carry } = p;
  const virtual = t.type === "virtual";
  const columns = toColumns(cols);
  const pkCols = columns.filter((c) => c.pk > 0);
  let rowidAlias: string | null = null;
  if (virtual) rowidAlias = v && RTREE.has(v.module) && columns[0] ? columns[0].name : null;
  else if (!t.withoutRowid && pkCols.length === 1 && !pkIndexed) rowidAlias = pkCols[0]!.name;
  return {
    name: t.name,
    sql: t.sql,
    virtual,
    module: v?.module ?? null,
    withoutRowid: t.withoutRowid,
    strict: t.strict,
    rowidAlias,
    autoincrement: !virtual && autoincrementIn(t.sql),
    carry,
    columns,
  };
}

/** Every user table (virtual ones flagged, shadow tables left out) with its columns. */
export async function readCatalog(reader: DbReader): Promise<TableInfo[]> {
  const tables = listed(await reader.rows(LIST_SQL), await reader.rows(MASTER_SQL));
  const out: TableInfo[] = [];
  for (const p of plan(tables)) {
    // A virtual table whose module this build lacks cannot even list its columns.
    const cols = p.t.type === "virtual" && p.carry === "none" ? [] : await reader.rows(XINFO_SQL, [p.t.name]);
    const pkIndexed = p.t.type === "table" && Number((await reader.rows(PK_INDEX_SQL, [p.t.name]))[0]?.n ?? 0) > 0;
    out.push(buildInfo(p, cols, pkIndexed));
  }
  return out;
}

export function readCatalogSync(db: LibsqlDatabase): TableInfo[] {
  const tables = listed(allRows(db, LIST_SQL), allRows(db, MASTER_SQL));
  return plan(tables).map((p) => {
    const cols = p.t.type === "virtual" && p.carry === "none" ? [] : allRows(db, XINFO_SQL, [p.t.name]);
    const pkIndexed = p.t.type === "table" && Number(allRows(db, PK_INDEX_SQL, [p.t.name])[0]?.n ?? 0) > 0;
    return buildInfo(p, cols, pkIndexed);
  });
}

const baselineCache = new Map<string, TableInfo[]>();

/** The tables the baseline SQL creates (the bundled baseline's from schema/derived.json, else read back from SQLite). */
export function baselineCatalog(sql: string): TableInfo[] {
  let cat = baselineCache.get(sql) ?? derivedFor<{ catalog: TableInfo[] }>("baseline", sql)?.catalog;
  if (!cat) cat = catalogOfSql(sql);
  baselineCache.set(sql, cat);
  return cat;
}

/** The tables a schema's SQL creates, read back from a private in-memory database. */
export function catalogOfSql(sql: string): TableInfo[] {
  const db = new Database(":memory:");
  try {
    db.defaultSafeIntegers(true);
    db.exec(sql);
    return readCatalogSync(db);
  } finally {
    db.close();
  }
}

export async function countRows(reader: DbReader, table: string): Promise<bigint> {
  const r = await reader.rows(`SELECT count(*) AS n FROM ${quoteIdent(table)}`);
  return r[0]!.n as bigint;
}
