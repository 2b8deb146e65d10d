/** The import's plan: per table, how the backup's columns map onto the target's, what goes to quarantine, and the baseline's seed rows. */
import type { BigInserter } from "./big-insert.js";
import { bigValueBytes } from "./big-value.js";
import { baselineCatalog, type TableInfo } from "../db/catalog.js";
import { emptyTarget } from "../db/objects.js";
import { rowRefusedBy } from "../db/faults.js";
import { allRows, type LibsqlDatabase } from "../db/local.js";
import { NO_EXACT_TEXT, normalizeValue, quoteIdent, type RowInserter, type SqlValue } from "../db/value.js";
import { VoxError } from "../errors.js";
import { affinityOf, columnAffinity, type Affinity } from "./affinity.js";
import type { BackupHeader, BackupTable } from "./format.js";
import type { ImporterRule } from "./importers.js";
import type { ReferenceTable } from "./reference.js";
import { backupTable, hasBig, isContentFts, type LineHasher } from "./tables.js";

export interface TableImport {
  /** Table in the backup. */
  source: string;
  /** Table in the new file ("" when the whole table is quarantined). */
  target: string;
  rows: number;
  loaded: number;
  /** Rows quarantined whole (not loaded). Parity: rows = loaded + quarantined + present. */
  quarantined: number;
  /** Rows an append-only table (APPEND_ONLY) held already, every value and storage class equal: not added again. */
  present: number;
  /** Rows the target held before (cleared by replace semantics). */
  cleared: number;
  /** Rows quarantined whole, per reason key (the text before the first ":"); sums to `quarantined`. */
  reasons: Record<string, number>;
  /** Loaded rows some of whose values went to legacy_quarantine (columns the baseline lacks, row keys no `columns` lists). */
  partial: number;
  /** Loaded rows with values in quarantine, per reason key ("unknown-columns", "unlisted-key"). */
  partialReasons: Record<string, number>;
  /** Every column whose values go to quarantine instead of the target → how many loaded rows hold a non-null value in it. */
  columns: Record<string, number>;
  /** Baseline seed rows re-inserted after the load (a legacy row with the same key replaced the others). */
  seeded: number;
  mapping: "same" | "rule" | "unknown-table" | "special";
  /**
   * Parity proof: "hash" (the table's content hash equal to the backup's: a table of the same shape, or one
   * the baseline widened when copied inside SQLite, proven on the backup's columns), "count", or "n/a".
   */
  parity: "hash" | "count" | "n/a";
  /** How the rows were loaded: copied inside SQLite and proven by the hash ("native"), or row by row from the backup. */
  loadedBy?: "native" | "rows";
}

export interface Plan {
  bt: BackupTable;
  target: TableInfo | null;
  report: TableImport;
  /** index in backup row → target column name (null: not loaded) */
  map: (string | null)[];
  /** Columns the baseline lacks (values to quarantine, row loaded). */
  unknownCols: number[];
  /** Row keys no `columns` lists (reference files): values to quarantine, row loaded. */
  unlistedCols: number[];
  checks: { idx: number; aff: Affinity; col: string }[];
  /** Reference files: source indexes whose target column is declared BLOB ("base64:…" → BLOB there only). */
  blobIdx: number[];
  /** Indexes of the row's key (primary key) values, for legacy_quarantine.source_key; null: no key. */
  keyIdx: number[] | null;
  /** Index of the rowid (or its alias) in the row, -1: none. */
  ridIdx: number;
  /** Set when no row of the table can load: every row goes to quarantine whole with this reason. */
  wholeReason?: string;
  insert?: RowInserter;
  /** The target's columns the INSERT names, in its order (an append-only table's held row is looked up by them). */
  insertNames?: string[];
  /** The same INSERT for a row holding a large value (its bytes written in slices). */
  bigInsert?: BigInserter;
  insertIdx: number[];
  sameShape: boolean;
  /**
   * The target has every column of the backup's table, kept the same way (rowid, primary key), and
   * columns the legacy table never had (vox's later ones), which their constant defaults fill (or the
   * same columns in another order): the native path copies it and proves it on the backup's columns,
   * in the backup's order (native-load.ts).
   */
  wider?: boolean;
  hash?: LineHasher;
  /** Loaded by the native path (native-load.ts) and proven: the backup's rows are only hashed. */
  native?: boolean;
}

export const SPECIAL = new Set(["sqlite_sequence"]);
/** Marks the mapping of a backup rowid onto the target's (unaliased) rowid. */
export const ROWID = "\u0000rowid";
/** Tables of our own and schema_version: no seed rows to keep. */
export const QUARANTINE = "legacy_quarantine";
const NO_SEEDS = new Set(["schema_version", "legacy_quarantine", "cutover_ledger"]);
/**
 * The product's own records: append-only. Replace semantics never clear them (an import into a file
 * that holds them would drop its history: the ledger's runs, rows an earlier run quarantined, the only
 * copy of some); a backup's rows for them are added, one the table holds already (the same row) is not
 * added twice, and one whose key is taken by another row is kept in legacy_quarantine (helper-105 D1).
 */
export const APPEND_ONLY = new Set([QUARANTINE, "cutover_ledger"]);

function emptyReport(source: string): TableImport {
  return {
    source,
    target: "",
    rows: 0,
    loaded: 0,
    quarantined: 0,
    present: 0,
    cleared: 0,
    reasons: {},
    partial: 0,
    partialReasons: {},
    columns: {},
    seeded: 0,
    mapping: "same",
    parity: "n/a",
  };
}

function isReference(bt: BackupTable): bt is ReferenceTable {
  return (bt as Partial<ReferenceTable>).reference === true;
}

/** A column default SQLite evaluates to the same value for every row: none (NULL) or a literal (`PRAGMA table_xinfo`'s text of it). */
function constantDefault(dflt: string | null): boolean {
  return dflt === null || /^(?:null|true|false|[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|0x[0-9a-f]+|'(?:[^']|'')*'|x'(?:[0-9a-f]{2})*')$/i.test(dflt.trim());
}

/** Builds the per-table mapping from the backup's header and the target's catalog. */
export function planTables(header: BackupHeader, catalog: TableInfo[], rules: Map<string, ImporterRule>): Map<string, Plan> {
  const byName = new Map(catalog.filter((t) => !t.virtual || isContentFts(t)).map((t) => [t.name, t]));
  const plans = new Map<string, Plan>();
  for (const bt of header.tables) {
    const report = emptyReport(bt.name);
    report.rows = Number(bt.rows);
    const ridIdx = bt.rowidColumn ? 0 : bt.rowidAlias ? bt.columns.indexOf(bt.rowidAlias) : -1;
    const base: Plan = {
      bt,
      target: null,
      report,
      map: bt.columns.map(() => null),
      unknownCols: [],
      unlistedCols: [],
      checks: [],
      blobIdx: [],
      keyIdx: null,
      ridIdx,
      insertIdx: [],
      sameShape: false,
    };
    if (bt.primaryKey.length && bt.primaryKey.every((c) => bt.columns.includes(c))) base.keyIdx = bt.primaryKey.map((c) => bt.columns.indexOf(c));
    if (SPECIAL.has(bt.name)) {
      report.mapping = "special";
      report.target = bt.name;
      plans.set(bt.name, base);
      continue;
    }
    const rule = rules.get(bt.name);
    const target = byName.get(bt.name) ?? (rule ? byName.get(rule.into) : undefined) ?? null;
    if (!target) {
      report.mapping = "unknown-table";
      base.wholeReason = `unknown-table: the baseline has no table ${bt.name} and no importer rule maps it`;
      plans.set(bt.name, base);
      continue;
    }
    const mapping = target.name === bt.name ? "same" : "rule";
    report.mapping = mapping;
    const cols = new Map(target.columns.filter((c) => c.hidden === 0).map((c) => [c.name, c]));
    const unlisted = new Set(isReference(bt) ? bt.unlisted : []);
    const map: (string | null)[] = bt.columns.map((c, i) => {
      if (i === 0 && bt.rowidColumn) {
        if (target.withoutRowid) return null;
        if (target.rowidAlias) return bt.columns.includes(target.rowidAlias) ? null : target.rowidAlias;
        return ROWID; // the target's own rowid, under a name no column shadows
      }
      if (unlisted.has(c)) return null;
      const name = mapping === "rule" ? (rule!.columns[c] ?? null) : c;
      return name !== null && cols.has(name) ? name : null;
    });
    const shared = map.filter((m, i) => m !== null && !(i === 0 && bt.rowidColumn));
    if (shared.length === 0) {
      base.wholeReason = `no-shared-column: ${bt.name} shares no column with the baseline's ${target.name}`;
      plans.set(bt.name, base);
      continue;
    }
    // A NOT NULL column without a default that nothing fills: no row can load.
    const filled = new Set(map.filter((m): m is string => m !== null));
    const required = target.columns.filter(
      (c) => c.hidden === 0 && c.name !== target.rowidAlias && !filled.has(c.name) && c.dflt === null && (c.notnull || (target.withoutRowid && c.pk > 0)),
    );
    if (required.length) {
      base.wholeReason = `not-null-missing: the baseline's ${target.name}.${required.map((c) => c.name).join(", ")} ${required.length > 1 ? "are" : "is"} NOT NULL without a default and ${bt.name} has no such column`;
      plans.set(bt.name, base);
      continue;
    }
    report.target = target.name;
    const unknownCols = bt.columns.map((_, i) => i).filter((i) => map[i] === null && !(i === 0 && bt.rowidColumn) && !unlisted.has(bt.columns[i]!));
    const unlistedCols = bt.columns.map((_, i) => i).filter((i) => unlisted.has(bt.columns[i]!));
    for (const i of [...unknownCols, ...unlistedCols]) report.columns[bt.columns[i]!] = 0;
    const checks = map
      .map((name, idx) => ({ idx, name }))
      .filter((x): x is { idx: number; name: string } => x.name !== null && x.name !== ROWID)
      .map(({ idx, name }) => ({ idx, aff: columnAffinity(cols.get(name)!.type, target.strict), col: name, src: affinityOf(bt.types[idx] ?? "") }))
      // Same affinity: the source already applied it, nothing can convert. Untyped source columns count as BLOB.
      .filter((x) => x.aff !== "BLOB" && x.aff !== x.src)
      .map(({ idx, aff, col }) => ({ idx, aff, col }));
    const blobIdx = isReference(bt) ? map.map((m, i) => (m !== null && m !== ROWID && declaredBlob(cols.get(m)!.type) ? i : -1)).filter((i) => i >= 0) : [];
    let keyIdx = base.keyIdx;
    if (!keyIdx && isReference(bt)) {
      // vox's export carries no schema: the row's key is the target's primary key, where the file has it.
      const back = new Map(map.map((m, i) => [m, i]));
      const pk = target.columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
      if (pk.length && pk.every((c) => back.has(c.name))) keyIdx = pk.map((c) => back.get(c.name)!);
    }
    const targetBt = backupTable(target, 0n);
    const same = mapping === "same" && !isReference(bt) && targetBt.rowidColumn === bt.rowidColumn;
    const sameShape = same && JSON.stringify(targetBt.columns) === JSON.stringify(bt.columns);
    // Every column the backup carries, kept the same way (rowid, key), and more, which their defaults
    // fill (vox's new columns), or the same in another order. A default that is not a constant
    // (datetime('now'), changes()) would take one value for the whole INSERT … SELECT, one a row by rows:
    // such a table loads by rows.
    const wider =
      same &&
      !sameShape &&
      targetBt.withoutRowid === bt.withoutRowid &&
      targetBt.rowidAlias === bt.rowidAlias &&
      JSON.stringify(targetBt.primaryKey) === JSON.stringify(bt.primaryKey) &&
      bt.columns.every((c) => targetBt.columns.includes(c)) &&
      target.columns.every((c) => c.hidden !== 0 || bt.columns.includes(c.name) || constantDefault(c.dflt));
    report.parity = sameShape ? "hash" : "count";
    plans.set(bt.name, { ...base, target, map, unknownCols, unlistedCols, checks, blobIdx, keyIdx, sameShape, wider });
  }
  return plans;
}

/** A column declared BLOB (not merely untyped): where a vox export's "base64:…" string is a BLOB. */
function declaredBlob(type: string): boolean {
  return type !== "" && affinityOf(type) === "BLOB";
}

/** The baseline's seed rows: what its SQL inserts into an empty database (applied to a private in-memory one). */
export function seedRows(baselineSql: string, tables: Set<string>): SeedTable[] {
  let all = seedCache.get(baselineSql);
  if (!all) seedCache.set(baselineSql, (all = allSeedRows(baselineSql)));
  return all.filter((s) => tables.has(s.table));
}

type SeedTable = { table: string; columns: string[]; rows: SqlValue[][] };

/** Seed rows per baseline SQL, read once per process (a dry-run's trial import and the apply's import ask for the same). */
const seedCache = new Map<string, SeedTable[]>();

function allSeedRows(baselineSql: string): SeedTable[] {
  // The process's empty in-memory target of this SQL, shared with the prediction of the operator's
  // objects (src/db/objects.ts; every trial there is rolled back): the baseline DDL is executed once.
  const mem = emptyTarget(baselineSql);
  const out: SeedTable[] = [];
  // The catalog of this very SQL (the bundled baseline's from schema/derived.json), and one compound
  // statement per 200 tables naming those that hold a row: a statement per table cost more (a 1 MB
  // file's cutover spent ~0.1 CPU-s here, load 6).
  const tables = baselineCatalog(baselineSql).filter((t) => !t.virtual && !NO_SEEDS.has(t.name));
  const held = new Set<number>();
  for (let k = 0; k < tables.length; k += 200) {
    const part = tables.slice(k, k + 200).map((t, i) => `SELECT ${k + i} AS i WHERE EXISTS (SELECT 1 FROM ${quoteIdent(t.name)})`);
    for (const r of allRows(mem, part.join(" UNION ALL "))) held.add(Number(r.i));
  }
  for (const t of tables.filter((_, i) => held.has(i))) {
    const columns = t.columns.filter((c) => c.hidden === 0).map((c) => c.name);
    const st = mem.prepare(`SELECT ${columns.map(quoteIdent).join(", ")} FROM ${quoteIdent(t.name)}`);
    st.raw(true);
    st.safeIntegers(true);
    const rows = (st.all() as unknown[][]).map((r) => r.map(normalizeValue));
    if (rows.length) out.push({ table: t.name, columns, rows });
  }
  return out;
}

/**
 * The reason a row the target refuses goes to quarantine whole, or null for an error that is not
 * about the row (disk full, I/O, …), which aborts the import.
 */
/**
 * Inserts one row of the row path: null when it loaded, else why it was refused. A single-row INSERT
 * that fails a constraint or a datatype check changes nothing (SQLite checks before it writes): the
 * row goes to quarantine and the transaction goes on. Any other error is thrown.
 */
export function insertRow(p: Plan, args: SqlValue[], db: { inTransaction: boolean }): string | null {
  const big = hasBig(args);
  try {
    if (big) p.bigInsert!.run(args);
    else p.insert!.run(args);
    return null;
  } catch (e) {
    const reason = rowRefusal(e, p, db, big);
    if (reason === null) throw e;
    return reason;
  }
}

function rowRefusal(e: unknown, p: Plan, db: { inTransaction: boolean }, bigValues = false): string | null {
  const kind = rowRefusedBy(e, db);
  const msg = e instanceof Error ? e.message : String(e);
  // A value over the big-value size is written through BLOB placeholders (big-insert.ts), which a STRICT column refuses whatever the row holds.
  if (kind === "constraint" && bigValues && p.target?.strict && /cannot store BLOB value/.test(msg))
    return `constraint: ${msg} (the row holds a value over ${bigValueBytes()} bytes, written into a table by BLOB placeholders that a STRICT table refuses: this version cannot load it into ${p.target.name}, so it is kept here whole)`;
  if (kind === "constraint") return `constraint: ${msg}`;
  // Checked before any statement runs (placeOf): the row is kept whole with its bytes, the import goes on (helper-105: it failed, 1).
  if (e instanceof VoxError && e.details?.[NO_EXACT_TEXT])
    return `encoding: a TEXT value whose bytes are not UTF-8 has no exact form in this ${String(e.details[NO_EXACT_TEXT])} file`;
  if (kind === "datatype-mismatch") {
    const alias = p.target?.rowidAlias;
    return `datatype-mismatch: ${msg}${alias ? ` (${p.target!.name}.${alias} is an INTEGER PRIMARY KEY: it holds integers only)` : ""}`;
  }
  return null;
}

/** Non-unique secondary indexes and triggers of the tables being loaded: dropped for the load, recreated after (same transaction). */
export function dropDerived(db: LibsqlDatabase, tables: Set<string>): string[] {
  // UNIQUE indexes stay: a row that breaks one is refused as it loads (and quarantined), instead of
  // failing the index build after the load.
  const unique = new Set<string>();
  try {
    // One statement for every table (one per table was ~190 statements of a vox import).
    for (const r of allRows(db, 'SELECT i.name FROM json_each(?) AS j, pragma_index_list(j.value) AS i WHERE i."unique" = 1', [JSON.stringify([...tables])]))
      unique.add(String(r.name));
  } catch {
    for (const t of tables) for (const r of allRows(db, 'SELECT name FROM pragma_index_list(?) WHERE "unique" = 1', [t])) unique.add(String(r.name));
  }
  const derived = allRows(
    db,
    "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type DESC, name",
  ).filter((r) => tables.has(String(r.tbl_name)) && !(r.type === "index" && unique.has(String(r.name))));
  for (const r of derived) db.exec(`DROP ${String(r.type).toUpperCase()} ${quoteIdent(String(r.name))}`);
  return derived.map((r) => String(r.sql));
}
