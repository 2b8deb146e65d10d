/**
 * DDL from schema facts: the statements that, applied to an empty SQLite file, read back as the
 * same facts (tables, columns, keys, unique sets, foreign keys, indexes, FTS5 tables with vox's
 * sync triggers, seed rows). Every statement is `IF NOT EXISTS` / `OR IGNORE`, so a fold can
 * re-run it on a file that already holds part of it.
 */
import { sqlTokens } from "../db/sqltokens.js";
import { quoteIdent, quoteString } from "../db/value.js";
import type { ColumnFact, ForeignKeyFact, Fts5Fact, IndexFact, SchemaFacts, SeedValue, TableFact } from "./facts.js";

// SQLite's keywords (https://sqlite.org/lang_keywords.html): such names are quoted.
const KEYWORDS = new Set(
  (
    "ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH AUTOINCREMENT BEFORE BEGIN BETWEEN BY " +
    "CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE " +
    "CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE DEFERRED DELETE DESC DETACH DISTINCT DO DROP " +
    "EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM " +
    "FULL GENERATED GLOB GROUP GROUPS HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD " +
    "INTERSECT INTO IS ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL " +
    "NULL NULLS OF OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE " +
    "RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT ROLLBACK ROW " +
    "ROWS SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION TRIGGER UNBOUNDED UNION UNIQUE " +
    "UPDATE USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT"
  ).split(" "),
);

function ident(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name.toUpperCase())) return name;
  return quoteIdent(name);
}

/** A default as PRAGMA reports it → the DEFAULT clause text (expressions get their parentheses back). */
export function defaultClause(d: string): string {
  const literal =
    /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(d) ||
    /^0x[0-9a-fA-F]+$/.test(d) ||
    /^'([^']|'')*'$/.test(d) ||
    /^[xX]'[0-9a-fA-F]*'$/.test(d) ||
    /^(NULL|TRUE|FALSE|CURRENT_TIME|CURRENT_DATE|CURRENT_TIMESTAMP)$/i.test(d);
  return literal ? d : `(${d})`;
}

/** A column as declared: name, type, [PRIMARY KEY [AUTOINCREMENT]], NOT NULL, DEFAULT. */
export function columnDef(c: ColumnFact, inlinePk = false, autoincrement = false): string {
  let s = ident(c.name);
  if (c.type) s += ` ${c.type}`;
  if (inlinePk) s += autoincrement ? " PRIMARY KEY AUTOINCREMENT" : " PRIMARY KEY";
  if (c.notnull) s += " NOT NULL";
  if (c.default !== null) s += ` DEFAULT ${defaultClause(c.default)}`;
  return s;
}

/**
 * Foreign keys as declared: the facts list one row per column (as PRAGMA foreign_key_list does,
 * without its id), so a composite key shows as consecutive rows to one table. Rows whose columns
 * together are the referenced table's primary key or a unique set, where no single one is, were one
 * composite key (a single-column key to a non-unique column is a "foreign key mismatch" in SQLite:
 * vox's own writes would fail). Returned in the order SQLite reports them.
 */
function groupForeignKeys(t: TableFact, all?: Record<string, TableFact>): ForeignKeyFact[][] {
  const fks = t.foreign_keys ?? [];
  const keysOf = (ref: TableFact): string[][] => {
    const pk = ref.columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    return [...(pk.length ? [pk] : []), ...(ref.unique ?? []), ...(ref.indexes ?? []).filter((i) => i.unique && !i.where).map((i) => i.columns)];
  };
  const out: ForeignKeyFact[][] = [];
  let i = 0;
  while (i < fks.length) {
    const f = fks[i]!;
    const ref = all?.[f.table];
    let taken = 1;
    if (ref && f.to) {
      const keys = keysOf(ref);
      const single = keys.some((k) => k.length === 1 && k[0] === f.to);
      if (!single) {
        for (const k of keys) {
          if (k.length < 2 || k[0] !== f.to) continue;
          const run = fks.slice(i, i + k.length);
          if (run.length === k.length && run.every((r, j) => r.table === f.table && r.to === k[j] && r.on_delete === f.on_delete && r.on_update === f.on_update)) {
            taken = k.length;
            break;
          }
        }
      }
    }
    out.push(fks.slice(i, i + taken));
    i += taken;
  }
  return out;
}

function createTableSql(name: string, t: TableFact, all?: Record<string, TableFact>): string {
  const pk = t.columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
  const inline = pk.length === 1 && !t.without_rowid ? pk[0]!.name : null;
  const parts = t.columns.map((c) => "  " + columnDef(c, c.name === inline, !!t.autoincrement && c.name === inline));
  if (!inline && pk.length > 0) parts.push(`  PRIMARY KEY (${pk.map((c) => ident(c.name)).join(", ")})`);
  for (const u of t.unique ?? []) parts.push(`  UNIQUE (${u.map(ident).join(", ")})`);
  // SQLite reports foreign keys in reverse declaration order: declare them reversed to read back the same.
  for (const group of groupForeignKeys(t, all).reverse()) {
    const f = group[0]!;
    const to = group.every((g) => g.to) ? ` (${group.map((g) => ident(g.to)).join(", ")})` : "";
    let s = `  FOREIGN KEY (${group.map((g) => ident(g.from)).join(", ")}) REFERENCES ${ident(f.table)}${to}`;
    if (f.on_delete && f.on_delete !== "NO ACTION") s += ` ON DELETE ${f.on_delete}`;
    if (f.on_update && f.on_update !== "NO ACTION") s += ` ON UPDATE ${f.on_update}`;
    parts.push(s);
  }
  return `CREATE TABLE IF NOT EXISTS ${ident(name)} (\n${parts.join(",\n")}\n)${t.without_rowid ? " WITHOUT ROWID" : ""};`;
}

function createIndexSql(table: string, i: IndexFact): string {
  const cols = i.columns.map((c, k) => ident(c) + (i.desc?.[k] ? " DESC" : "")).join(", ");
  return `CREATE ${i.unique ? "UNIQUE " : ""}INDEX IF NOT EXISTS ${ident(i.name)} ON ${ident(table)} (${cols})${i.where ? ` WHERE ${i.where}` : ""};`;
}

function sqlLiteral(v: SeedValue): string {
  if (v === null) return "NULL";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(v);
  return quoteString(v);
}

function seedRowsSql(name: string, t: TableFact): string[] {
  return (t.seed_rows ?? []).map((r) => {
    const cols = Object.keys(r);
    return `INSERT OR IGNORE INTO ${ident(name)} (${cols.map(ident).join(", ")}) VALUES (${cols.map((c) => sqlLiteral(r[c]!)).join(", ")});`;
  });
}

/** `CREATE TABLE x` → `CREATE TABLE IF NOT EXISTS x` (also INDEX, VIRTUAL TABLE, TRIGGER), so a fold can re-run it. */
export function ifNotExists(sql: string): string {
  const toks = sqlTokens(sql);
  let i = 0;
  if (toks[i]?.upper !== "CREATE") return sql;
  i++;
  while (toks[i] && ["UNIQUE", "VIRTUAL", "TEMP", "TEMPORARY"].includes(toks[i]!.upper)) i++;
  const kind = toks[i];
  if (!kind || !["TABLE", "INDEX", "TRIGGER", "VIEW"].includes(kind.upper)) return sql;
  if (toks[i + 1]?.upper === "IF") return sql;
  return sql.slice(0, kind.end) + " IF NOT EXISTS" + sql.slice(kind.end);
}

/** A stored `CREATE …` text made re-runnable: `IF NOT EXISTS` after the kind (SQLite stores it without), one `;`. */
function exact(sql: string): string {
  return ifNotExists(sql.trim().replace(/;\s*$/, "")) + ";";
}

/**
 * vox's FTS5 table and its AFTER INSERT / DELETE / UPDATE sync triggers. When the facts carry vox's
 * exact text (`fts5_sql`, `triggers`), that text is used, so the new file stores vox's own DDL
 * (SQLite keeps the text after `IF NOT EXISTS`); older facts without it get the triggers generated.
 */
function fts5Sql(f: Fts5Fact, facts?: SchemaFacts): string[] {
  const opts = Object.entries(f.options).map(([k, v]) => `${k}=${v}`);
  const given = facts?.fts5_sql?.[f.name];
  const out = [given ? exact(given) : `CREATE VIRTUAL TABLE IF NOT EXISTS ${ident(f.name)} USING ${f.module}(${[...f.columns, ...opts].join(", ")});`];
  const content = f.options.content ? unquote(f.options.content) : null;
  if (!content) return out;
  if (facts?.triggers) {
    // vox's own: the triggers named after this FTS table, in vox's order (insert, delete, update).
    const mine = facts.triggers.filter((t) => t.table === content && t.name.startsWith(`${f.name}_`));
    const rank = (n: string) => ["_ai", "_ad", "_au"].findIndex((s) => n.endsWith(s));
    return [...out, ...mine.sort((a, b) => rank(a.name) - rank(b.name)).map((t) => exact(t.sql))];
  }
  const rowid = f.options.content_rowid ? unquote(f.options.content_rowid) : "rowid";
  const cols = f.columns.map((c) => c.split(/\s+/)[0]!);
  const fts = ident(f.name);
  const list = ["rowid", ...cols.map(ident)].join(", ");
  const vals = (p: string) => [`${p}.${ident(rowid)}`, ...cols.map((c) => `${p}.${ident(c)}`)].join(", ");
  const ins = `INSERT INTO ${fts}(${list}) VALUES (${vals("new")});`;
  const del = `INSERT INTO ${fts}(${fts}, ${list}) VALUES ('delete', ${vals("old")});`;
  const t = ident(content);
  out.push(`CREATE TRIGGER IF NOT EXISTS ${ident(f.name + "_ai")} AFTER INSERT ON ${t} BEGIN\n  ${ins}\nEND;`);
  out.push(`CREATE TRIGGER IF NOT EXISTS ${ident(f.name + "_ad")} AFTER DELETE ON ${t} BEGIN\n  ${del}\nEND;`);
  out.push(`CREATE TRIGGER IF NOT EXISTS ${ident(f.name + "_au")} AFTER UPDATE ON ${t} BEGIN\n  ${del}\n  ${ins}\nEND;`);
  return out;
}

function unquote(s: string): string {
  const t = s.trim();
  if ((t.startsWith("'") && t.endsWith("'")) || (t.startsWith('"') && t.endsWith('"'))) return t.slice(1, -1).replace(/''/g, "'");
  return t;
}

/** Every statement for one table: CREATE TABLE, its indexes, its seed rows, FTS5 tables over it. */
function tableSql(facts: SchemaFacts, name: string): string[] {
  const t = facts.tables[name]!;
  const out = [createTableSql(name, t, facts.tables), ...(t.indexes ?? []).map((i) => createIndexSql(name, i)), ...seedRowsSql(name, t)];
  for (const f of facts.fts5) {
    if (f.options.content && unquote(f.options.content) === name) out.push(...fts5Sql(f, facts));
  }
  // Triggers of this table that are not an FTS table's sync triggers (vox 66 has none; kept when a template has them).
  const ftsNames = facts.fts5.map((f) => f.name + "_");
  for (const t of facts.triggers ?? []) {
    if (t.table === name && !ftsNames.some((p) => t.name.startsWith(p))) out.push(exact(t.sql));
  }
  return out;
}

/** Facts → fragments (vox's grouping and order when the facts carry it), each a list of statements. */
export function factsToFragments(facts: SchemaFacts, fragmentOf?: (table: string) => string): { name: string; statements: string[] }[] {
  const order: string[] = [...(facts.fragments ?? [])];
  const groups = new Map<string, string[]>();
  for (const name of Object.keys(facts.tables).sort()) {
    const frag = facts.tables[name]!.fragment ?? fragmentOf?.(name) ?? "tables";
    if (!order.includes(frag)) order.push(frag);
    (groups.get(frag) ?? groups.set(frag, []).get(frag)!).push(name);
  }
  const out: { name: string; statements: string[] }[] = [];
  for (const frag of order) {
    const tables = groups.get(frag) ?? [];
    if (!tables.length) continue;
    out.push({ name: frag, statements: tables.flatMap((t) => tableSql(facts, t)) });
  }
  const standalone = facts.fts5.filter((f) => !f.options.content || !(unquote(f.options.content) in facts.tables));
  if (standalone.length) out.push({ name: "fts", statements: standalone.flatMap((f) => fts5Sql(f, facts)) });
  return out;
}
