/**
 * Schema facts: what SQLite reports about a database's user tables, in the shape of
 * `../shared/vox-reference/schema-*.json` (tables → columns, keys, unique sets, foreign keys,
 * indexes, seed rows; FTS5 tables separately). One shape for the bundled baseline, a database under
 * diagnosis and an operator's `--target-schema` template, so they compare part by part.
 *
 * Everything is read with PRAGMAs (`table_list`, `table_xinfo`, `index_list`, `index_xinfo`,
 * `foreign_key_list`); SQL text is only tokenized where SQLite reports nothing else
 * (AUTOINCREMENT, a partial index's WHERE, FTS5 module arguments).
 */
import type { LibsqlDatabase } from "../db/local.js";
import { allRows } from "../db/local.js";
import { quoteIdent, type Row } from "../db/value.js";
import { moduleArgs, optionArg, sqlTokens } from "../db/sqltokens.js";
import { autoincrementIn, shadowTableNames } from "../db/catalog.js";

export interface ColumnFact {
  name: string;
  type: string;
  notnull: boolean;
  /** The default as SQL text, as `PRAGMA table_info` reports it; null when none. */
  default: string | null;
  /** 1-based position in the primary key; 0 when not part of it. */
  pk: number;
}

export interface IndexFact {
  name: string;
  unique: boolean;
  columns: string[];
  desc?: boolean[];
  where?: string;
}

export interface ForeignKeyFact {
  from: string;
  table: string;
  to: string;
  on_delete: string;
  on_update: string;
}

export type SeedValue = string | number | null;

export interface TableFact {
  columns: ColumnFact[];
  without_rowid?: boolean;
  autoincrement?: boolean;
  unique?: string[][];
  foreign_keys?: ForeignKeyFact[];
  indexes?: IndexFact[];
  seed_rows?: Record<string, SeedValue>[];
  fragment?: string;
}

export interface Fts5Fact {
  name: string;
  module: string;
  columns: string[];
  options: Record<string, string>;
}

/** A trigger as vox writes it: its name, its table and the exact `CREATE TRIGGER` text SQLite stores. */
export interface TriggerFact {
  name: string;
  table: string;
  sql: string;
}

export interface SchemaFacts {
  label?: string;
  source?: string;
  baseline_version: number;
  fragments?: string[];
  tables: Record<string, TableFact>;
  fts5: Fts5Fact[];
  /** vox's triggers with their exact text (schema-66.json and any file read); absent in older facts (then generated). */
  triggers?: TriggerFact[];
  /** The exact `CREATE VIRTUAL TABLE` text per FTS5 table (schema-66.json and any file read). */
  fts5_sql?: Record<string, string>;
}

/** A statement's text with runs of whitespace outside string literals made one space: two texts are the same SQL when these are equal. */
export function sqlText(sql: string): string {
  return sqlTokens(sql.trim().replace(/;\s*$/, ""))
    .map((t) => (t.kind === "word" ? t.upper : t.text))
    .join(" ");
}

/** The product's own tables: vox ignores them; they never count as drift. */
export const OWN_TABLES: readonly string[] = ["cutover_ledger", "legacy_quarantine"];

interface MasterRow {
  name: string;
  type: string;
  sql: string;
}

/** Virtual tables and their shadow tables, from SQLite itself (`PRAGMA table_list` marks shadows). */
export function readTableList(db: LibsqlDatabase): { name: string; type: "table" | "view" | "virtual" | "shadow"; withoutRowid: boolean; strict: boolean }[] {
  return allRows(db, "SELECT name, type, wr, strict FROM pragma_table_list WHERE schema = 'main'")
    .map((r) => ({
      name: String(r.name),
      type: String(r.type) as "table" | "view" | "virtual" | "shadow",
      withoutRowid: Number(r.wr) === 1,
      strict: Number(r.strict) === 1,
    }))
    .filter((t) => !t.name.startsWith("sqlite_"));
}

/** The text after the top-level WHERE of a CREATE INDEX statement. */
function partialWhere(sql: string): string | undefined {
  const toks = sqlTokens(sql);
  let depth = 0;
  for (const t of toks) {
    if (t.kind === "punct" && t.text === "(") depth++;
    else if (t.kind === "punct" && t.text === ")") depth--;
    else if (depth === 0 && t.kind === "word" && t.upper === "WHERE") {
      return sql.slice(t.end).trim().replace(/;\s*$/, "").trim();
    }
  }
  return undefined;
}

/** `USING fts5(a, b UNINDEXED, content='t', content_rowid='rowid')` → columns and options. */
function parseFts5Args(sql: string): { module: string; columns: string[]; options: Record<string, string> } | null {
  const m = moduleArgs(sql);
  if (!m) return null;
  const columns: string[] = [];
  const options: Record<string, string> = {};
  for (const a of m.args) {
    const o = optionArg(a);
    if (o) options[o.key] = o.value;
    else columns.push(a);
  }
  return { module: m.module, columns, options };
}

/** Facts of every user table (not our own bookkeeping unless asked), read with PRAGMAs. */
export function readFacts(db: LibsqlDatabase, opts: { includeOwn?: boolean; seedRows?: boolean } = {}): SchemaFacts {
  const master = allRows(db, "SELECT name, type, sql FROM sqlite_master WHERE type IN ('table','index','trigger') AND sql IS NOT NULL").map(
    (r) => ({ name: String(r.name), type: String(r.type), sql: String(r.sql) }) as MasterRow,
  );
  const sqlOf = new Map(master.map((m) => [`${m.type}:${m.name}`, m.sql]));
  const list = readTableList(db);
  // SQLite marks an ordinary table named like a shadow (`docs_content`, the external content of an FTS table) as shadow too.
  const shadows = shadowTableNames(db);
  const tables: Record<string, TableFact> = {};
  const fts5: Fts5Fact[] = [];
  const fts5_sql: Record<string, string> = {};
  const versionRows = allRows(db, "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_version'");
  let baselineVersion = 0;
  if (versionRows.length) {
    try {
      const m = allRows(db, "SELECT MAX(version) AS m FROM schema_version")[0]?.m;
      if (typeof m === "bigint") baselineVersion = Number(m);
    } catch {
      baselineVersion = 0;
    }
  }
  const pragmas = batchedPragmas(db) ?? perTablePragmas(db);
  for (const t of [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (t.type === "view" || (t.type === "shadow" && shadows.has(t.name))) continue;
    if (!opts.includeOwn && OWN_TABLES.includes(t.name)) continue;
    const sql = sqlOf.get(`table:${t.name}`) ?? "";
    if (t.type === "virtual") {
      const p = parseFts5Args(sql);
      if (p) {
        fts5.push({ name: t.name, module: p.module, columns: p.columns, options: p.options });
        fts5_sql[t.name] = sql;
      }
      continue;
    }
    tables[t.name] = readTableFact(db, pragmas, t.name, sql, t.withoutRowid, sqlOf, opts.seedRows === true);
  }
  const triggers = allRows(db, "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL ORDER BY name")
    .map((r) => ({ name: String(r.name), table: String(r.tbl_name), sql: String(r.sql) }))
    .filter((t) => opts.includeOwn || !OWN_TABLES.includes(t.table));
  return { baseline_version: baselineVersion, tables, fts5, triggers, fts5_sql };
}

/** What readTableFact asks SQLite, per table and per index: the rows of four PRAGMAs. */
export interface PragmaSource {
  tableXinfo(table: string): Row[];
  indexList(table: string): Row[];
  indexXinfo(index: string): Row[];
  foreignKeys(table: string): Row[];
}

const XINFO_COLS = 'name, type, "notnull", dflt_value, pk, hidden';
const INDEX_LIST_COLS = 'name, "unique", origin, partial';
const INDEX_XINFO_COLS = 'seqno, name, "desc", key';
const FK_COLS = "[from], [table], [to], on_delete, on_update"; // bracket-quoted key words

/** One query per PRAGMA and table (the reference the batched reading is tested against). */
export function perTablePragmas(db: LibsqlDatabase): PragmaSource {
  return {
    tableXinfo: (t) => allRows(db, `SELECT ${XINFO_COLS} FROM pragma_table_xinfo(?)`, [t]),
    indexList: (t) => allRows(db, `SELECT ${INDEX_LIST_COLS} FROM pragma_index_list(?)`, [t]),
    indexXinfo: (i) => allRows(db, `SELECT ${INDEX_XINFO_COLS} FROM pragma_index_xinfo(?) ORDER BY seqno`, [i]),
    foreignKeys: (t) => allRows(db, `SELECT ${FK_COLS} FROM pragma_foreign_key_list(?)`, [t]),
  };
}

/**
 * The same PRAGMA rows for every table at once: four queries joining the table list with each
 * table-valued PRAGMA (a per-table query costs a prepared statement each: ~1,000 for vox's schema).
 * Null when SQLite refuses one (a virtual table whose module this SQLite lacks, say): then per table.
 */
export function batchedPragmas(db: LibsqlDatabase): PragmaSource | null {
  const tables = "SELECT name AS t FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'shadow')";
  const group = (rows: Row[], key: string): Map<string, Row[]> => {
    const m = new Map<string, Row[]>();
    for (const r of rows) {
      const k = String(r[key]);
      delete r[key];
      let g = m.get(k);
      if (!g) m.set(k, (g = []));
      g.push(r);
    }
    return m;
  };
  const cols = (list: string, alias: string) => list.split(", ").map((c) => `${alias}.${c}`).join(", ");
  try {
    const xinfo = group(allRows(db, `SELECT l.t AS _t, ${cols(XINFO_COLS, "x")} FROM (${tables}) AS l, pragma_table_xinfo(l.t) AS x`), "_t");
    const indexList = group(allRows(db, `SELECT l.t AS _t, ${cols(INDEX_LIST_COLS, "i")} FROM (${tables}) AS l, pragma_index_list(l.t) AS i`), "_t");
    const indexXinfo = group(
      allRows(db, `SELECT i.name AS _i, ${cols(INDEX_XINFO_COLS, "k")} FROM (${tables}) AS l, pragma_index_list(l.t) AS i, pragma_index_xinfo(i.name) AS k`),
      "_i",
    );
    for (const rows of indexXinfo.values()) rows.sort((a, b) => Number(a.seqno) - Number(b.seqno));
    const fks = group(allRows(db, `SELECT l.t AS _t, ${cols(FK_COLS, "f")} FROM (${tables}) AS l, pragma_foreign_key_list(l.t) AS f`), "_t");
    return {
      tableXinfo: (t) => xinfo.get(t) ?? [],
      indexList: (t) => indexList.get(t) ?? [],
      indexXinfo: (i) => indexXinfo.get(i) ?? [],
      foreignKeys: (t) => fks.get(t) ?? [],
    };
  } catch {
    return null;
  }
}

function readTableFact(
  db: LibsqlDatabase,
  pragmas: PragmaSource,
  name: string,
  sql: string,
  withoutRowid: boolean,
  sqlOf: Map<string, string>,
  seedRows: boolean,
): TableFact {
  const cols = pragmas
    .tableXinfo(name)
    .filter((c) => Number(c.hidden) === 0)
    .map((c) => ({
      name: String(c.name),
      type: String(c.type ?? ""),
      notnull: Number(c.notnull) === 1,
      default: c.dflt_value === null ? null : String(c.dflt_value),
      pk: Number(c.pk),
    }));
  const fact: TableFact = { columns: cols };
  if (withoutRowid) fact.without_rowid = true;
  if (autoincrementIn(sql)) fact.autoincrement = true;
  const unique: string[][] = [];
  const indexes: IndexFact[] = [];
  for (const il of pragmas.indexList(name)) {
    const iname = String(il.name);
    const keyCols = pragmas.indexXinfo(iname).filter((k) => Number(k.key) === 1);
    const columns = keyCols.map((k) => (k.name === null ? "<expr>" : String(k.name)));
    if (il.origin === "u") {
      unique.push(columns);
      continue;
    }
    if (il.origin !== "c") continue;
    const idx: IndexFact = { name: iname, unique: Number(il.unique) === 1, columns };
    const desc = keyCols.map((k) => Number(k.desc) === 1);
    if (desc.some((d) => d)) idx.desc = desc;
    if (Number(il.partial) === 1) {
      const w = partialWhere(sqlOf.get(`index:${iname}`) ?? "");
      if (w !== undefined) idx.where = w;
    }
    indexes.push(idx);
  }
  if (unique.length) fact.unique = unique;
  const fks = pragmas.foreignKeys(name).map((f) => ({
    from: String(f.from),
    table: String(f.table),
    to: f.to === null ? "" : String(f.to),
    on_delete: String(f.on_delete),
    on_update: String(f.on_update),
  }));
  if (fks.length) fact.foreign_keys = fks;
  if (indexes.length) fact.indexes = indexes;
  if (seedRows && name !== "schema_version") {
    const rows = allRows(db, `SELECT * FROM ${quoteIdent(name)}`);
    if (rows.length) {
      fact.seed_rows = rows.map((r) => {
        const o: Record<string, SeedValue> = {};
        for (const [k, v] of Object.entries(r)) o[k] = typeof v === "bigint" ? Number(v) : v instanceof Uint8Array ? null : v;
        return o;
      });
    }
  }
  return fact;
}

// ── Comparison ──────────────────────────────────────────────────────────────────────────────────
