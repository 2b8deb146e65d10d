/**
 * Fills a database's tables with rows shaped like real vox data, driven only by the database's
 * own structure (schema facts read with PRAGMAs): keys are unique, foreign keys point at rows that
 * exist (parents are filled first), NOT NULL columns get a value, and no column is invented.
 *
 * Every column of a table gets one awkward value per row "slot" ((row index + the column's position)
 * modulo 8, so one row mixes cases), chosen by the column's declared type the way SQLite's type
 * affinity reads it, so a table with at least 8 rows holds each case of {@link VALUE_CASES} in each
 * column. Values are written explicitly (never a column default such
 * as `datetime('now')`), so the same seed gives the same bytes.
 */
import { allRows, type LibsqlDatabase } from "../db/local.js";
import { quoteIdent, type SqlValue } from "../db/value.js";
import type { ColumnFact, SchemaFacts, TableFact } from "../schema/facts.js";
import { Prng } from "./prng.js";

const SLOTS = 8;
export const T0 = Date.UTC(2025, 0, 15, 9, 30, 0);

type Affinity = "integer" | "text" | "blob" | "real" | "numeric";

/** SQLite's affinity rules (https://sqlite.org/datatype3.html §3.1) for a declared type. */
function affinityOf(declared: string): Affinity {
  const t = declared.toUpperCase();
  if (t.includes("INT")) return "integer";
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return "text";
  if (t === "" || t.includes("BLOB")) return "blob";
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB")) return "real";
  return "numeric";
}

const NUL_TEXT = "before\u0000after";
const UNICODE_TEXT = "Zoë — 東京 🚀 naïve café";
const BASE64_TEXT = "base64:SGVsbG8sIHdvcmxkIQ==";
const ESCAPES_TEXT = "'quoted' \"double\"\n\ttab \\ back\u0001ctrl";
const NUL_BLOB = Uint8Array.from([0x00, 0x01, 0x00, 0xff, 0x00, 0x7f, 0x00]);
const BIG_JSON = '{"id":9007199254740993,"ratio":3.0,"tiny":5e-324,"neg":-0.0,"name":"Zoë"}';

/**
 * Where each awkward value sits: in every non-key, non-foreign-key column whose affinity is `affinity`
 * (`json`: TEXT columns named `*_json`), on rows whose (index + column position) % 8 === `slot`
 * (`key`: key columns, on rows whose index % 8 === `slot`).
 * `storedAs` is what SQLite keeps (typeof and, where it differs from the value written, the value).
 */
interface ValueCase {
  name: string;
  affinity: Affinity | "json" | "key";
  slot: number;
  value: string;
  storedAs: string;
}

export const VALUE_CASES: ValueCase[] = [
  { name: "int beyond 2^53", affinity: "integer", slot: 1, value: "9007199254740993", storedAs: "integer" },
  { name: "int64 max", affinity: "integer", slot: 2, value: "9223372036854775807", storedAs: "integer" },
  { name: "int64 min", affinity: "integer", slot: 3, value: "-9223372036854775808", storedAs: "integer" },
  { name: "NULL (nullable columns of every affinity)", affinity: "integer", slot: 4, value: "NULL", storedAs: "null" },
  {
    name: "TEXT in an INTEGER column",
    affinity: "integer",
    slot: 5,
    value: "'2025-01-15T09:30:00Z' in *_ms/*_at/*time* columns, else 'n/a'",
    storedAs: "text",
  },
  { name: "REAL in an INTEGER column", affinity: "integer", slot: 6, value: "2.5 (1736933400000.5 in *_ms columns)", storedAs: "real" },
  { name: "3.0", affinity: "real", slot: 1, value: "3.0", storedAs: "real" },
  {
    name: "-0.0",
    affinity: "real",
    slot: 2,
    value: "-0.0",
    storedAs: "real 0.0 (SQLite keeps a REAL-affinity zero as 0; -0.0 survives only in an untyped column: the ad-hoc table's `v`)",
  },
  { name: "1e308", affinity: "real", slot: 3, value: "1e308", storedAs: "real" },
  { name: "5e-324", affinity: "real", slot: 5, value: "5e-324", storedAs: "real" },
  { name: "1.5e-7", affinity: "real", slot: 6, value: "1.5e-7", storedAs: "real" },
  { name: "1e16", affinity: "real", slot: 7, value: "1e16", storedAs: "real" },
  { name: "unicode text", affinity: "text", slot: 1, value: UNICODE_TEXT, storedAs: "text" },
  { name: "NUL inside text", affinity: "text", slot: 2, value: "before\\0after", storedAs: "text (7 bytes, 62656666...)" },
  { name: "text starting base64:", affinity: "text", slot: 3, value: BASE64_TEXT, storedAs: "text" },
  { name: "empty text", affinity: "text", slot: 5, value: "''", storedAs: "text" },
  { name: "quotes, newline, tab, backslash, control char", affinity: "text", slot: 6, value: JSON.stringify(ESCAPES_TEXT), storedAs: "text" },
  { name: "numeric-looking text", affinity: "text", slot: 7, value: "'3.0'", storedAs: "text" },
  {
    name: "JSON text",
    affinity: "json",
    slot: 0,
    value: "valid JSON in every *_json TEXT column (unicode at slot 1, integers beyond 2^53 at slot 2: " + BIG_JSON + ")",
    storedAs: "text",
  },
  { name: "blob with NUL bytes", affinity: "blob", slot: 1, value: "x'000100ff007f00'", storedAs: "blob" },
  { name: "empty blob", affinity: "blob", slot: 2, value: "x''", storedAs: "blob" },
  { name: "1 KiB blob", affinity: "blob", slot: 3, value: "1024 random bytes", storedAs: "blob" },
  { name: "TEXT primary key, unicode", affinity: "key", slot: 1, value: "'zoë-東京-<row>' in TEXT key columns", storedAs: "text" },
  {
    name: "INTEGER PRIMARY KEY beyond 2^53",
    affinity: "key",
    slot: 7,
    value: "9007199254740993 + row in INTEGER PRIMARY KEY (rowid) columns",
    storedAs: "integer",
  },
];

interface FillOptions {
  /** Rows per table (before OR IGNORE drops a rare duplicate). */
  rows: number;
  /** Tables left empty. */
  skip?: ReadonlySet<string>;
  /** Per-table row counts (override `rows`). */
  rowsFor?: (table: string) => number;
  /** When set, the first foreign key of every child table points at a missing parent on rows with slot 6 (legacy files hold orphans). */
  orphans?: boolean;
}

interface FillResult {
  tables: { name: string; rows: number }[];
}

const TIMEY = /(_ms|_at|_time|time|_ts|_date|date|_unix.*)$/i;

function hex(rng: Prng, n: number): string {
  return Array.from(rng.bytes(n), (b) => b.toString(16).padStart(2, "0")).join("");
}

function isoAt(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function sqliteAt(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

/** The plain, unremarkable value of a column (slot 0 and the fallback for NOT NULL). */
function plainValue(c: ColumnFact, table: string, r: number, rng: Prng): SqlValue {
  const name = c.name.toLowerCase();
  const aff = affinityOf(c.type);
  const ms = T0 + r * 61_000 + rng.int(0, 999);
  if (name.endsWith("_json")) return JSON.stringify({ row: r, tag: rng.pick(["alpha", "beta", "gamma"]), n: rng.int(0, 1000), ok: rng.chance(0.5) });
  switch (aff) {
    case "integer":
      if (/_ms$|unix/.test(name)) return BigInt(ms);
      if (/_at$|time|_ts$/.test(name)) return BigInt(Math.floor(ms / 1000));
      if (/^(is_|has_)|enabled|active|success|ok$|flag|yanked|optional|pinned|archived|deleted/.test(name)) return BigInt(rng.int(0, 1));
      return BigInt(rng.int(0, 5000));
    case "real":
      return Math.round(rng.next() * 1e6) / 1e4;
    case "blob":
      return rng.bytes(rng.int(4, 32));
    case "numeric":
      return sqliteAt(ms);
    case "text":
      if (/_at$|_date$|time/.test(name)) return isoAt(ms);
      if (/sha|hash|digest|checksum/.test(name)) return hex(rng, 32);
      if (/(^|_)(url|uri)$/.test(name)) return `https://example.org/${table}/${r}`;
      if (/status|state|kind|type|role|mode|level|severity|outcome/.test(name)) return rng.pick(["ok", "pending", "failed", "done"]);
      if (/(^|_)id$/.test(name)) return `${name.replace(/_id$/, "")}-${hex(rng, 4)}`;
      return rng.words(rng.int(1, 6));
  }
}

/** The value of a non-key, non-foreign-key column on row r (its slot's awkward case, or a plain one). */
function columnValue(c: ColumnFact, table: string, r: number, rng: Prng, position = 0): SqlValue {
  const slot = (r + position) % SLOTS;
  const name = c.name.toLowerCase();
  const plain = plainValue(c, table, r, rng);
  const orPlain = (v: SqlValue) => (v === null && c.notnull ? plain : v);
  if (slot === 4) return orPlain(null);
  if (name.endsWith("_json") && affinityOf(c.type) === "text") {
    switch (slot) {
      case 1:
        return JSON.stringify({ title: UNICODE_TEXT, tags: ["α", "β"], emoji: "🚀" });
      case 2:
        return BIG_JSON;
      case 3:
        return "[]";
      case 5:
        return '{"nested":{"k":[1,2,{"x":null}],"s":"tab\\tnewline\\n"}}';
      case 7:
        return "{}";
      default:
        return plain;
    }
  }
  switch (affinityOf(c.type)) {
    case "integer":
      switch (slot) {
        case 1:
          return 9007199254740993n;
        case 2:
          return 9223372036854775807n;
        case 3:
          return -9223372036854775808n;
        case 5:
          return TIMEY.test(name) ? "2025-01-15T09:30:00Z" : "n/a";
        case 6:
          return /_ms$/.test(name) ? 1736933400000.5 : 2.5;
        default:
          return plain;
      }
    case "real":
      switch (slot) {
        case 1:
          return 3.0;
        case 2:
          return -0.0;
        case 3:
          return 1e308;
        case 5:
          return 5e-324;
        case 6:
          return 1.5e-7;
        case 7:
          return 1e16;
        default:
          return plain;
      }
    case "text":
      if (/_at$|_date$/.test(name)) return slot === 1 ? sqliteAt(T0 + r * 61_000) : plain;
      switch (slot) {
        case 1:
          return UNICODE_TEXT;
        case 2:
          return NUL_TEXT;
        case 3:
          return BASE64_TEXT;
        case 5:
          return "";
        case 6:
          return ESCAPES_TEXT;
        case 7:
          return "3.0";
        default:
          return plain;
      }
    case "blob":
      switch (slot) {
        case 1:
          return NUL_BLOB;
        case 2:
          return new Uint8Array(0);
        case 3:
          return rng.bytes(1024);
        default:
          return plain;
      }
    case "numeric":
      return plain;
  }
}

/** A key column's value on row r: unique per row. */
function keyValue(c: ColumnFact, table: string, r: number, rowidAlias: boolean, rng: Prng): SqlValue {
  const aff = affinityOf(c.type);
  if (rowidAlias) return r % SLOTS === 7 ? 9007199254740993n + BigInt(r) : BigInt(1 + r * 3 + (r % 3));
  switch (aff) {
    case "integer":
      return BigInt(r + 1);
    case "real":
      return r + 0.5;
    case "blob":
      return Uint8Array.from([r & 0xff, (r >> 8) & 0xff, 0]);
    default: {
      const stem = table.replace(/[^a-z]/g, "").slice(0, 4) || "k";
      if (r % SLOTS === 1) return `zoë-東京-${c.name}-${r}`;
      return `${stem}-${hex(rng, 4)}-${r}`;
    }
  }
}

interface ParentRef {
  table: string;
  columns: { from: string; to: string }[];
  /** One parent row for all columns (a composite key) or one pick per column. */
  together: boolean;
}

function pkColumns(t: TableFact): string[] {
  return t.columns
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
}

function parentRefs(name: string, t: TableFact, facts: SchemaFacts): ParentRef[] {
  const byParent = new Map<string, { from: string; to: string }[]>();
  for (const f of t.foreign_keys ?? []) {
    const parent = facts.tables[f.table];
    if (!parent) continue;
    let to = f.to;
    if (!to) to = pkColumns(parent)[0] ?? "rowid";
    if (to !== "rowid" && !parent.columns.some((c) => c.name === to)) continue;
    if (!t.columns.some((c) => c.name === f.from)) continue;
    const list = byParent.get(f.table) ?? byParent.set(f.table, []).get(f.table)!;
    if (!list.some((x) => x.from === f.from)) list.push({ from: f.from, to });
  }
  void name;
  return [...byParent].map(([table, columns]) => ({ table, columns, together: new Set(columns.map((c) => c.to)).size > 1 }));
}

/** Parents before children (cycles broken where they are met). */
function fillOrder(facts: SchemaFacts, names: string[]): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (n: string, stack: Set<string>) => {
    if (done.has(n) || stack.has(n) || !facts.tables[n]) return;
    stack.add(n);
    for (const f of facts.tables[n]!.foreign_keys ?? []) if (f.table !== n && names.includes(f.table)) visit(f.table, stack);
    stack.delete(n);
    done.add(n);
    out.push(n);
  };
  for (const n of [...names].sort()) visit(n, new Set());
  return out;
}

/** Key sets: the primary key, each UNIQUE set and each unique index. */
function keySets(t: TableFact): string[][] {
  const sets: string[][] = [];
  const pk = pkColumns(t);
  if (pk.length) sets.push(pk);
  for (const u of t.unique ?? []) sets.push(u);
  for (const i of t.indexes ?? []) if (i.unique && !i.columns.includes("<expr>")) sets.push(i.columns);
  return sets;
}

/**
 * Fills `names` (default: every table of `facts`) in foreign-key order. The caller holds the
 * transaction and has foreign-key enforcement off (legacy vox files are written that way).
 */
export function fillTables(db: LibsqlDatabase, facts: SchemaFacts, rng: Prng, opts: FillOptions, names: string[] = Object.keys(facts.tables)): FillResult {
  const order = fillOrder(
    facts,
    names.filter((n) => n !== "schema_version" && !(opts.skip?.has(n) ?? false)),
  );
  const tables: { name: string; rows: number }[] = [];
  for (const name of order) {
    const t = facts.tables[name]!;
    const n = opts.rowsFor ? opts.rowsFor(name) : opts.rows;
    const pk = pkColumns(t);
    const rowidAlias = pk.length === 1 && !t.without_rowid && t.columns.find((c) => c.name === pk[0])!.type.toUpperCase() === "INTEGER" ? pk[0]! : null;
    const keyCols = new Set(keySets(t).flat());
    const refs = parentRefs(name, t, facts);
    const fkCols = new Set(refs.flatMap((r) => r.columns.map((c) => c.from)));
    // Foreign-key columns that belong to a key set: picked by the row index (mixed radix) so keys stay unique.
    const fkInKey = new Set([...fkCols].filter((c) => keyCols.has(c)));
    const parentRows = new Map<string, Row[]>();
    for (const ref of refs) {
      if (ref.table === name) continue;
      const cols = [...new Set(ref.columns.map((c) => c.to))];
      parentRows.set(
        ref.table,
        allRows(
          db,
          `SELECT ${cols.map((c) => (c === "rowid" ? "rowid AS rowid" : quoteIdent(c))).join(", ")} FROM ${quoteIdent(ref.table)} WHERE ${cols.map((c) => `${c === "rowid" ? "rowid" : quoteIdent(c)} IS NOT NULL`).join(" AND ")}`,
        ),
      );
    }
    const selfRows: Row[] = [];
    const cols = t.columns;
    const ins = db.prepare(
      `INSERT OR IGNORE INTO ${quoteIdent(name)} (${cols.map((c) => quoteIdent(c.name)).join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`,
    );
    let inserted = 0;
    for (let r = 0; r < n; r++) {
      const row: Row = {};
      cols.forEach((c, position) => {
        if (fkCols.has(c.name)) return;
        row[c.name] = keyCols.has(c.name) ? keyValue(c, name, r, c.name === rowidAlias, rng) : columnValue(c, name, r, rng, position);
      });
      let radix = r;
      refs.forEach((ref, refIndex) => {
        const parents = ref.table === name ? selfRows : (parentRows.get(ref.table) ?? []);
        const inKey = ref.columns.some((c) => fkInKey.has(c.from));
        const orphan = opts.orphans && refIndex === 0 && r % SLOTS === 6 && !inKey && ref.table !== name;
        const pickIndex = () => {
          if (inKey) {
            const i = radix % parents.length;
            radix = Math.floor(radix / parents.length);
            return i;
          }
          return rng.int(0, parents.length - 1);
        };
        const colFact = (from: string) => cols.find((c) => c.name === from)!;
        if (!parents.length || orphan) {
          for (const c of ref.columns) {
            const f = colFact(c.from);
            if (ref.table === name && row[c.to] !== undefined) row[c.from] = f.notnull ? row[c.to]! : null;
            else row[c.from] = !orphan && !f.notnull ? null : keyValue(f, `orphan${ref.table}`, 100_000 + r, false, rng);
          }
          return;
        }
        // An optional reference left empty on slot 4, as real rows often are.
        const optional = !inKey && r % SLOTS === 4 && ref.columns.every((c) => !colFact(c.from).notnull);
        if (ref.together) {
          const p = parents[pickIndex()]!;
          for (const c of ref.columns) row[c.from] = optional ? null : p[c.to]!;
        } else {
          for (const c of ref.columns) row[c.from] = optional ? null : parents[pickIndex()]![c.to]!;
        }
      });
      const res = ins.run(...(cols.map((c) => row[c.name] ?? null) as never[]));
      if (Number(res.changes) > 0) {
        inserted++;
        if (refs.some((x) => x.table === name)) selfRows.push(row);
      }
    }
    tables.push({ name, rows: inserted });
  }
  return { tables };
}

type Row = Record<string, SqlValue>;
