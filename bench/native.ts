/**
 * The native rebuild anchor: the SQL script a DBA would write by hand to bring a legacy vox file
 * onto the product's target (vox 66's DDL, the same baseline SQL the product builds from): a new
 * file, the legacy file ATTACHed, tables created, `INSERT OR IGNORE … SELECT` of the shared columns
 * (rowids kept) per table, then indexes and triggers, FTS5 indexes rebuilt — one transaction.
 * No verification, no quarantine, no backup: what SQLite itself needs to move the rows.
 */
import Database from "libsql";
import { readCatalogSync } from "../src/db/catalog.js";
import { loadBaselineContext } from "../src/diagnose/diagnose.js";
import { splitSql } from "../src/db/sqlsplit.js";
import { quoteIdent, quoteString } from "../src/db/value.js";

export function nativeRebuildScript(legacyPath: string): string {
  const base = loadBaselineContext();
  const stmts = splitSql(base.sql);
  const isTable = (s: string) => /^\s*CREATE\s+(VIRTUAL\s+)?TABLE/i.test(s);
  const target = new Database(":memory:");
  const legacy = new Database(legacyPath, { readonly: true });
  try {
    target.exec(base.sql);
    const tcat = readCatalogSync(target);
    const lcat = new Map(readCatalogSync(legacy).map((t) => [t.name, t]));
    const inserts: string[] = [];
    for (const t of tcat) {
      if (t.virtual || t.name.startsWith("sqlite_")) continue;
      const l = lcat.get(t.name);
      if (!l || l.virtual) continue;
      const have = new Set(l.columns.filter((c) => c.hidden === 0).map((c) => c.name));
      const cols = t.columns.filter((c) => c.hidden === 0 && have.has(c.name)).map((c) => quoteIdent(c.name));
      if (!cols.length) continue;
      const rowid = !t.withoutRowid && !t.rowidAlias && !l.withoutRowid && !l.rowidAlias ? ["rowid"] : [];
      const list = [...rowid, ...cols].join(", ");
      inserts.push(
        `DELETE FROM main.${quoteIdent(t.name)};`,
        `INSERT OR IGNORE INTO main.${quoteIdent(t.name)} (${list}) SELECT ${list} FROM legacy.${quoteIdent(t.name)};`,
      );
    }
    const fts = tcat.filter((t) => t.virtual && /fts5/i.test(t.sql)).map((t) => `INSERT INTO ${quoteIdent(t.name)}(${quoteIdent(t.name)}) VALUES ('rebuild');`);

    return [
      `ATTACH ${quoteString(legacyPath)} AS legacy;`,
      "BEGIN;",
      ...stmts.filter(isTable).map((s) => s.replace(/;?\s*$/, ";")),
      ...inserts,
      ...stmts.filter((s) => !isTable(s)).map((s) => s.replace(/;?\s*$/, ";")),
      ...fts,
      "COMMIT;",
      "",
    ].join("\n");
  } finally {
    target.close();
    legacy.close();
  }
}
