/**
 * The tables of a database and their shapes, as SQLite reports them: `PRAGMA table_list` (table,
 * virtual or shadow; WITHOUT ROWID; STRICT), `table_xinfo` (columns; hidden 1 = a virtual table's
 * hidden column, 2/3 = generated), `index_list` (whether the primary key is the rowid). SQL text is
 * only tokenized where SQLite reports nothing (AUTOINCREMENT, a virtual table's module arguments).
 */
import Database from "libsql";
import { allRows, type LibsqlDatabase } from "./local.js";
import type { DbReader } from "./reader.js";
import { moduleArgs, optionArg, sqlTokens, unquoteToken } from "./sqltokens.js";
import { quoteIdent, type Row, type SqlValue } from "./value.js";
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
const XINFO_SQL = "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?, 'main')";
const PK_INDEX_SQL = "SELECT count(*) AS n FROM pragma_index_list(?, 'main') WHERE origin = 'pk'";

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

/** `CREATE VIRTUAL TABLE x USING mod(a, b, key=value)` → module and key=value options (tokenized). */
export function virtualArgs(sql: string): VirtualArgs | null {
  const m = moduleArgs(sql);
  if (!m) return null;
  const options: Record<string, string> = {};
  for (const a of m.args) {
    const o = optionArg(a);
    if (o) options[o.key.toLowerCase()] = unquoteToken(o.value);
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

/**
 * Answers of autoincrementIn by the CREATE statement's text: a cutover reads the same tables' SQL in
 * ~10 catalog reads (primary, backup, new file), and tokenizing vox's ~100 AUTOINCREMENT tables each
 * time was ~30 ms of a small file's run. The answer depends on the text alone; bounded.
 */
const autoincrementOf = new Map<string, boolean>();
const AUTOINCREMENT_MEMO_MAX = 4096;

/** Whether a CREATE TABLE declares AUTOINCREMENT (SQLite reports it through no PRAGMA). */
export function autoincrementIn(sql: string): boolean {
  // Tokenized only when the word is there at all (a table's SQL is read on every catalog read).
  if (!/autoincrement/i.test(sql)) return false;
  let yes = autoincrementOf.get(sql);
  if (yes === undefined) {
    yes = sqlTokens(sql).some((t) => t.kind === "word" && t.upper === "AUTOINCREMENT");
    if (autoincrementOf.size >= AUTOINCREMENT_MEMO_MAX) autoincrementOf.clear();
    autoincrementOf.set(sql, yes);
  }
  return yes;
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
function buildInfo(p: Planned, cols: Row[], pkIndexed: boolean, autoincrement: boolean): TableInfo {
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
    autoincrement: !virtual && autoincrement,
    carry,
    columns,
  };
}

/** Tables whose columns can be listed: not a virtual table whose module this build lacks (it cannot even list them). */
function listable(p: Planned): boolean {
  return !(p.t.type === "virtual" && p.carry === "none");
}

/**
 * The same rows as XINFO_SQL and PK_INDEX_SQL for every named table at once (one prepared
 * statement each instead of two per table: ~350 for vox's schema, read several times a run).
 */
const XINFO_BATCH_SQL = `SELECT j.value AS _t, x.name, x.type, x."notnull", x.dflt_value, x.pk, x.hidden FROM json_each(?) AS j, pragma_table_xinfo(j.value, 'main') AS x ORDER BY j.key, x.cid`;
const PK_INDEX_BATCH_SQL = "SELECT DISTINCT j.value AS _t FROM json_each(?) AS j, pragma_index_list(j.value, 'main') AS i WHERE i.origin = 'pk'";

/** A query the catalog reading asks for; the driver answers with its rows (or throws SQLite's error into it). */
type Query = [sql: string, args?: SqlValue[]];

/**
 * The columns and primary-key indexes of the tables of a schema, by the schema's text: what
 * `pragma_table_xinfo` and `pragma_index_list(…) origin 'pk'` answer for a table follows from its
 * CREATE statement alone (its columns, types, defaults, hidden and generated columns, whether its
 * key is the rowid) — for a virtual table from its module and arguments, also in that text — so the
 * same names, types, flags and CREATE texts (the list and master queries, read on every catalog read)
 * get the same answers. A cutover reads the catalog of the same schema ~10 times on several
 * connections (the primary, its snapshot, the backup's source, the new file); the batched xinfo was
 * ~80 ms of a small file's run. Bounded; the TableInfo objects are built anew on each read.
 */
const columnsBySchema = new Map<string, { colsOf: Map<string, Row[]>; pkIndexed: Set<string>; autoincrement: Set<string> }>();
const COLUMNS_MEMO_MAX = 16;

/** The key of columnsBySchema: every listed table's name, type, flags and CREATE text. */
function schemaKey(tables: readonly ListedTable[]): string {
  return JSON.stringify(tables.map((t) => [t.name, t.type, t.withoutRowid, t.strict, t.sql]));
}

/** The catalog from one list query, one batched xinfo and one batched pk-index query; per table when SQLite refuses a batch. */
function* catalogSteps(): Generator<Query, TableInfo[], Row[]> {
  const tables = listed(yield [LIST_SQL], yield [MASTER_SQL]);
  const planned = plan(tables);
  const key = schemaKey(tables);
  const known = columnsBySchema.get(key);
  if (known) return planned.map((p) => buildInfo(p, known.colsOf.get(p.t.name) ?? [], known.pkIndexed.has(p.t.name), known.autoincrement.has(p.t.name)));
  const names = planned.filter(listable).map((p) => p.t.name);
  const ordinary = planned.filter((p) => p.t.type === "table").map((p) => p.t.name);
  let colsOf = new Map<string, Row[]>();
  let pkIndexed = new Set<string>();
  try {
    for (const r of yield [XINFO_BATCH_SQL, [JSON.stringify(names)]]) {
      const t = String(r._t);
      let g = colsOf.get(t);
      if (!g) colsOf.set(t, (g = []));
      g.push(r);
    }
    pkIndexed = new Set((yield [PK_INDEX_BATCH_SQL, [JSON.stringify(ordinary)]]).map((r) => String(r._t)));
  } catch {
    // A server or an SQLite without json_each, say: the per-table queries.
    colsOf = new Map();
    pkIndexed = new Set();
    for (const n of names) colsOf.set(n, yield [XINFO_SQL, [n]]);
    for (const n of ordinary) if (Number((yield [PK_INDEX_SQL, [n]])[0]?.n ?? 0) > 0) pkIndexed.add(n);
  }
  // AUTOINCREMENT too follows from the CREATE text (autoincrementIn: ~20 ms of regular expressions a small file's run).
  const autoincrement = new Set(tables.filter((t) => autoincrementIn(t.sql)).map((t) => t.name));
  // Kept only when the schema is still the keyed one after the column reads: outside a transaction
  // (or on a server) the schema can change between the statements, and the columns of the new schema
  // must never be served for the old text (review of session 11). Two statements, on a miss only.
  if (schemaKey(listed(yield [LIST_SQL], yield [MASTER_SQL])) === key) {
    if (columnsBySchema.size >= COLUMNS_MEMO_MAX) columnsBySchema.clear();
    columnsBySchema.set(key, { colsOf, pkIndexed, autoincrement });
  }
  return planned.map((p) => buildInfo(p, colsOf.get(p.t.name) ?? [], pkIndexed.has(p.t.name), autoincrement.has(p.t.name)));
}

/** Every user table (virtual ones flagged, shadow tables left out) with its columns. */
export async function readCatalog(reader: DbReader): Promise<TableInfo[]> {
  const g = catalogSteps();
  let step = g.next();
  while (!step.done) {
    let rows: Row[];
    try {
      rows = await reader.rows(...step.value);
    } catch (e) {
      step = g.throw(e);
      continue;
    }
    step = g.next(rows);
  }
  return step.value;
}

/** readCatalog on a local handle. */
export function readCatalogSync(db: LibsqlDatabase): TableInfo[] {
  const g = catalogSteps();
  let step = g.next();
  while (!step.done) {
    let rows: Row[];
    try {
      rows = allRows(db, ...step.value);
    } catch (e) {
      step = g.throw(e);
      continue;
    }
    step = g.next(rows);
  }
  return step.value;
}

/**
 * The tables that declare a foreign key (the only ones `PRAGMA foreign_key_check(t)` can report),
 * in one query; null when SQLite refuses it (then every table is checked).
 */
export function tablesWithForeignKeys(db: LibsqlDatabase): Set<string> | null {
  try {
    return new Set(
      allRows(db, "SELECT DISTINCT m.name AS t FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table'").map((r) => String(r.t)),
    );
  } catch {
    return null;
  }
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

/** Tables counted per statement (a compound SELECT; SQLite allows 500 terms by default). */
const COUNTS_PER_STATEMENT = 200;

/**
 * The statements counting each table's rows, a few hundred tables per statement (one prepared
 * statement per table costs more than the count of a small one): each row is `i` (the table's
 * place in `names`) and `n`. `countsIn` reads their rows back in the order of `names`.
 *
 * An own-content FTS table (a TableInfo) is counted in its `<name>_content` shadow table, which
 * holds one row per row of it: counted through its module, SQLite steps a scan of that table that
 * reads every value whole (a 100 MB text: ~100 MB more, even for count(*)). `schema`: an attached
 * database's tables (the sidecar's).
 */
export function countStatements(names: readonly (string | Pick<TableInfo, "name" | "module" | "carry">)[], schema?: string): string[] {
  const table = (t: (typeof names)[number]) => (typeof t === "string" ? t : t.carry === "rows" && t.module && FTS.has(t.module) ? `${t.name}_content` : t.name);
  const from = (t: (typeof names)[number]) => (schema === undefined ? quoteIdent(table(t)) : `${quoteIdent(schema)}.${quoteIdent(table(t))}`);
  const out: string[] = [];
  for (let k = 0; k < names.length; k += COUNTS_PER_STATEMENT)
    out.push(
      names
        .slice(k, k + COUNTS_PER_STATEMENT)
        .map((t, i) => `SELECT ${k + i} AS i, count(*) AS n FROM ${from(t)}`)
        .join(" UNION ALL "),
    );
  return out;
}

/** The counts of countStatements' rows, in the order of the names (`n` tables). */
export function countsIn(n: number, rows: readonly Row[]): bigint[] {
  const byIndex = new Map(rows.map((r) => [Number(r.i), BigInt(r.n as bigint)]));
  return Array.from({ length: n }, (_, i) => byIndex.get(i)!);
}
