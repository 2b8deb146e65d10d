/**
 * Collations a file's schema names that SQLite in this process does not have. A program can register
 * a collation at run time (`sqlite3_create_collation`) and declare columns and indexes with it; the
 * file then holds values in that collation's order, and SQLite without it cannot compare them: an
 * index on them cannot be checked (`integrity_check` stops with "no such collation sequence"), a
 * statement comparing them cannot be prepared, and libsql's `VACUUM INTO` of such a file was seen to
 * write an empty copy without an error (review, session 25). Such a file is refused before a run reads
 * it (Stage 0's integrity step; export-legacy's and verify's reads: src/backup/export.ts, tables.ts
 * hashDatabase, hash-worker.ts), naming each collation and the tables and indexes that declare it.
 * vox declares none.
 *
 * SQLite reports a column's collation through no PRAGMA a query can read for a table (only for an
 * index's columns), so the schema's SQL is read with the tokenizer: every `COLLATE <name>` outside
 * strings and comments.
 */
import { allRows, openReadOnly, unknownCollationRefusal, type LibsqlDatabase } from "./local.js";
import { quoteIdent } from "./value.js";
import { sqlTokens, unquoteToken } from "./sqltokens.js";

/** Each collation the schema names that this SQLite has not got, with where it is declared ("table notes", "index i"). */
function missingCollations(db: LibsqlDatabase): Map<string, string[]> {
  const out = new Map<string, string[]>();
  // Tables and indexes: they hold and order rows. A view or trigger naming one is left out of the new
  // file and named (db/objects.ts); a virtual table's arguments are its module's text, not SQLite's columns.
  const rows = allRows(db, "SELECT type, name, sql FROM main.sqlite_master WHERE type IN ('table', 'index') AND sql LIKE '%collate%'");
  if (!rows.length) return out;
  const has = new Map<string, boolean>([
    ["binary", true],
    ["nocase", true],
    ["rtrim", true],
  ]);
  for (const r of rows) {
    const tokens = sqlTokens(String(r.sql));
    if (tokens[1]?.upper === "VIRTUAL") continue;
    for (let i = 0; i + 1 < tokens.length; i++) {
      if (tokens[i]!.kind !== "word" || tokens[i]!.upper !== "COLLATE") continue;
      const name = unquoteToken(tokens[i + 1]!.text);
      const key = name.toLowerCase();
      if (!has.has(key)) has.set(key, usable(db, name));
      if (has.get(key)) continue;
      const where = `${String(r.type)} ${String(r.name)}`;
      const list = out.get(name) ?? [];
      if (!list.includes(where)) list.push(where);
      out.set(name, list);
    }
  }
  return out;
}

/**
 * Whether SQLite can compare with the collation `name`: a statement using it prepares. (PRAGMA
 * collation_list cannot say: SQLite lists there every name its schema parse met, with no comparison
 * function behind the ones nobody registered.)
 */
function usable(db: LibsqlDatabase, name: string): boolean {
  try {
    db.prepare(`SELECT '' < '' COLLATE ${quoteIdent(name)}`);
    return true;
  } catch {
    return false;
  }
}

/** Refuses (3) a database whose schema names a collation this SQLite has not got (see above; the words: db/local.ts). */
export function assertKnownCollations(db: LibsqlDatabase, path: string): void {
  const unknown = missingCollations(db);
  if (unknown.size) throw unknownCollationRefusal(path, unknown);
}

/** `assertKnownCollations` of the file at `path` (opened read-only for it, then closed). */
export function assertKnownCollationsAt(path: string): void {
  const db = openReadOnly(path);
  try {
    assertKnownCollations(db, path);
  } finally {
    db.close();
  }
}
