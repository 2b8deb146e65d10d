/** Comparing two sets of schema facts (./facts.ts): per-table differences, what fails, and the structure's fingerprint. */
import { createHash } from "node:crypto";
import { OWN_TABLES, sqlText, type ColumnFact, type ForeignKeyFact, type IndexFact, type SchemaFacts, type TableFact } from "./facts.js";

export interface TableDiff {
  table: string;
  /** The whole table is missing. */
  missing: boolean;
  missingColumns: string[];
  /** Columns present with another definition: `name: what differs`. */
  differentColumns: string[];
  missingIndexes: string[];
  differentIndexes: string[];
  missingUnique: string[][];
  missingForeignKeys: ForeignKeyFact[];
  /** WITHOUT ROWID / AUTOINCREMENT / primary key differences. */
  shape: string[];
  /** Columns the file has beyond the target: kept, not a failure. */
  extraColumns: string[];
}

export interface StructureComparison {
  /** Every target part present with the same definition. */
  equal: boolean;
  diffs: TableDiff[];
  missingFts: string[];
  /** The target's triggers the file lacks, and those it has with another text (the target defines triggers). */
  missingTriggers: string[];
  differentTriggers: string[];
  /** Tables the file has that the target does not (kept). */
  extraTables: string[];
  fingerprint: string;
  targetFingerprint: string;
}

function colDef(c: ColumnFact): string {
  return `${c.type}${c.notnull ? " NOT NULL" : ""}${c.default !== null ? ` DEFAULT ${c.default}` : ""}${c.pk ? ` pk${c.pk}` : ""}`;
}

function normWhere(w: string | undefined): string {
  return (w ?? "").replace(/\s+/g, " ").trim();
}

function idxKey(i: IndexFact): string {
  return JSON.stringify([i.unique, i.columns, (i.desc ?? i.columns.map(() => false)), normWhere(i.where)]);
}

function fkKey(f: ForeignKeyFact): string {
  return JSON.stringify([f.from, f.table, f.to, f.on_delete, f.on_update]);
}

export function compareFacts(file: SchemaFacts, target: SchemaFacts): StructureComparison {
  const diffs: TableDiff[] = [];
  for (const [name, want] of Object.entries(target.tables)) {
    const have = file.tables[name];
    const d: TableDiff = {
      table: name,
      missing: !have,
      missingColumns: [],
      differentColumns: [],
      missingIndexes: [],
      differentIndexes: [],
      missingUnique: [],
      missingForeignKeys: [],
      shape: [],
      extraColumns: [],
    };
    if (!have) {
      diffs.push(d);
      continue;
    }
    const haveCols = new Map(have.columns.map((c) => [c.name, c]));
    for (const c of want.columns) {
      const h = haveCols.get(c.name);
      if (!h) d.missingColumns.push(c.name);
      else if (colDef(h) !== colDef(c)) d.differentColumns.push(`${c.name}: ${colDef(h)} (target: ${colDef(c)})`);
    }
    const wantNames = new Set(want.columns.map((c) => c.name));
    d.extraColumns = have.columns.filter((c) => !wantNames.has(c.name)).map((c) => c.name);
    if (!!have.without_rowid !== !!want.without_rowid) d.shape.push(want.without_rowid ? "should be WITHOUT ROWID" : "should be a rowid table");
    if (!!have.autoincrement !== !!want.autoincrement) d.shape.push(want.autoincrement ? "lacks AUTOINCREMENT" : "has AUTOINCREMENT");
    const haveU = new Set((have.unique ?? []).map((u) => JSON.stringify(u)));
    d.missingUnique = (want.unique ?? []).filter((u) => !haveU.has(JSON.stringify(u)));
    const haveFk = new Set((have.foreign_keys ?? []).map(fkKey));
    d.missingForeignKeys = (want.foreign_keys ?? []).filter((f) => !haveFk.has(fkKey(f)));
    const haveIdx = new Map((have.indexes ?? []).map((i) => [i.name, i]));
    for (const i of want.indexes ?? []) {
      const h = haveIdx.get(i.name);
      if (!h) d.missingIndexes.push(i.name);
      else if (idxKey(h) !== idxKey(i)) d.differentIndexes.push(i.name);
    }
    if (
      d.missingColumns.length ||
      d.differentColumns.length ||
      d.missingIndexes.length ||
      d.differentIndexes.length ||
      d.missingUnique.length ||
      d.missingForeignKeys.length ||
      d.shape.length ||
      d.extraColumns.length
    ) {
      diffs.push(d);
    }
  }
  const haveFts = new Set(file.fts5.map((f) => f.name));
  const missingFts = target.fts5.filter((f) => !haveFts.has(f.name)).map((f) => f.name);
  const haveTrig = new Map((file.triggers ?? []).map((t) => [t.name, t]));
  const missingTriggers: string[] = [];
  const differentTriggers: string[] = [];
  for (const t of target.triggers ?? []) {
    const h = haveTrig.get(t.name);
    if (!h) missingTriggers.push(t.name);
    else if (h.table !== t.table || sqlText(h.sql) !== sqlText(t.sql)) differentTriggers.push(t.name);
  }
  const extraTables = Object.keys(file.tables).filter((n) => !(n in target.tables) && !OWN_TABLES.includes(n));
  const failing = diffs.filter((d) => isFailing(d));
  const restricted: SchemaFacts = {
    baseline_version: 0,
    tables: Object.fromEntries(Object.keys(target.tables).filter((n) => file.tables[n]).map((n) => [n, restrictTable(file.tables[n]!, target.tables[n]!)])),
    fts5: file.fts5.filter((f) => target.fts5.some((t) => t.name === f.name)),
    ...(target.triggers ? { triggers: (file.triggers ?? []).filter((f) => target.triggers!.some((t) => t.name === f.name)) } : {}),
  };
  return {
    equal: failing.length === 0 && missingFts.length === 0 && missingTriggers.length === 0 && differentTriggers.length === 0,
    diffs,
    missingFts,
    missingTriggers,
    differentTriggers,
    extraTables,
    fingerprint: structureFingerprint(restricted),
    targetFingerprint: targetFingerprint(target),
  };
}

/** The target's fingerprint, once per facts object (a run compares up to three files with the same target; facts are never edited after they are read). */
const targetPrints = new WeakMap<SchemaFacts, string>();

/** The fingerprint of a target's facts known beforehand (schema/derived.json holds the bundled baseline's). */
export function rememberTargetFingerprint(target: SchemaFacts, fingerprint: string): void {
  targetPrints.set(target, fingerprint);
}

function targetFingerprint(target: SchemaFacts): string {
  let f = targetPrints.get(target);
  if (f === undefined) targetPrints.set(target, (f = structureFingerprint(target)));
  return f;
}

/** How many parts of the target the file lacks or defines otherwise (tables, FTS tables, triggers). */
export function failingCount(s: StructureComparison): number {
  return s.diffs.filter(isFailing).length + s.missingFts.length + s.missingTriggers.length + s.differentTriggers.length;
}

/** A difference that makes the file not the target (extra columns alone are kept, not failures). */
export function isFailing(d: TableDiff): boolean {
  return (
    d.missing ||
    d.missingColumns.length > 0 ||
    d.differentColumns.length > 0 ||
    d.missingIndexes.length > 0 ||
    d.differentIndexes.length > 0 ||
    d.missingUnique.length > 0 ||
    d.missingForeignKeys.length > 0 ||
    d.shape.length > 0
  );
}

/** The part of a file's table that the target defines (its columns, indexes), for the fingerprint. */
function restrictTable(have: TableFact, want: TableFact): TableFact {
  const names = new Set(want.columns.map((c) => c.name));
  const idx = new Set((want.indexes ?? []).map((i) => i.name));
  const out: TableFact = { columns: have.columns.filter((c) => names.has(c.name)) };
  if (have.without_rowid) out.without_rowid = true;
  if (have.autoincrement) out.autoincrement = true;
  const wantU = new Set((want.unique ?? []).map((u) => JSON.stringify(u)));
  const u = (have.unique ?? []).filter((x) => wantU.has(JSON.stringify(x)));
  if (u.length) out.unique = u;
  const wantFk = new Set((want.foreign_keys ?? []).map(fkKey));
  const f = (have.foreign_keys ?? []).filter((x) => wantFk.has(fkKey(x)));
  if (f.length) out.foreign_keys = f;
  const i = (have.indexes ?? []).filter((x) => idx.has(x.name));
  if (i.length) out.indexes = i;
  return out;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/**
 * SHA-256 of the canonical JSON of the structure: tables sorted by name, columns in table order,
 * unique sets, foreign keys and indexes sorted (SQLite reports foreign keys in reverse declaration
 * order, so order carries no meaning), seed rows and labels left out.
 */
export function structureFingerprint(f: SchemaFacts): string {
  const tables: Record<string, unknown> = {};
  for (const name of Object.keys(f.tables).sort()) {
    const t = f.tables[name]!;
    tables[name] = {
      columns: t.columns.map((c) => ({ name: c.name, type: c.type, notnull: c.notnull, default: c.default, pk: c.pk })),
      without_rowid: !!t.without_rowid,
      autoincrement: !!t.autoincrement,
      unique: (t.unique ?? []).map((u) => JSON.stringify(u)).sort(),
      foreign_keys: (t.foreign_keys ?? []).map(fkKey).sort(),
      indexes: (t.indexes ?? [])
        .map((i) => ({ name: i.name, key: idxKey(i) }))
        .sort((a, b) => (a.name < b.name ? -1 : 1)),
    };
  }
  const fts = [...f.fts5]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((x) => ({ name: x.name, module: x.module, columns: x.columns, options: x.options }));
  // Trigger bodies count (token by token) when the facts carry triggers; older facts without them keep their fingerprint.
  const triggers = f.triggers
    ? [...f.triggers].sort((a, b) => (a.name < b.name ? -1 : 1)).map((t) => ({ name: t.name, table: t.table, sql: sqlText(t.sql) }))
    : undefined;
  const json = JSON.stringify(canonical(triggers ? { tables, fts5: fts, triggers } : { tables, fts5: fts }));
  return createHash("sha256").update(json).digest("hex");
}

/** A copy of facts without seed rows, fragments and labels (what the structure is). */
export function structureOnly(f: SchemaFacts): SchemaFacts {
  const tables: Record<string, TableFact> = {};
  for (const [n, t] of Object.entries(f.tables)) {
    const { seed_rows: _s, fragment: _f, ...rest } = t;
    tables[n] = rest;
  }
  return { baseline_version: f.baseline_version, tables, fts5: f.fts5, ...(f.triggers ? { triggers: f.triggers } : {}) };
}

