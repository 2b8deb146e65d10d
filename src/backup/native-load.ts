/**
 * The import's native path: a table whose columns map one to one onto the target's is copied inside
 * SQLite (`INSERT … SELECT` from the source database, attached read-only, rowids kept) instead of
 * being decoded from the backup and bound row by row; then the new table is PROVEN equal to the
 * backup by the same canonical hash the backup records for it (`hashTable` of the new table against
 * the trailer's sha256 and count, which `readBackup` checks against the file's own rows). A table
 * that cannot be proven — the source changed, a value changed storage class on the way in, a
 * constraint refused a row — is emptied again and loaded by the row path, so quarantine and reasons
 * are exactly the row path's.
 */
import { statSync } from "node:fs";
import { refused } from "../errors.js";
import type { TableInfo } from "../db/catalog.js";
import { allRows, attachUri, hotJournal, type LibsqlDatabase } from "../db/local.js";
import { probeFile } from "../db/probe.js";
import { quoteIdent, type SqlValue } from "../db/value.js";
import { bigValueBytes } from "./big-value.js";
import type { Affinity } from "./affinity.js";
import { QUARANTINE, SPECIAL, type Plan } from "./import-plan.js";
import { backupTable, hashTable } from "./tables.js";
import type { BackupTable, Trailer } from "./format.js";

/** The schema name the source is attached under. */
const SRC = "vox_native_source";

/**
 * Attaches `source` read-only for the native path (before the import's transaction: SQLite attaches
 * nothing inside one). Returns why not when it cannot be used (the import then loads row by row):
 * not a regular SQLite file, a hot journal, the target itself, or SQLite refuses it.
 */
export function attachSource(db: LibsqlDatabase, source: string, targetPath: string): string | null {
  let st;
  try {
    st = statSync(source);
  } catch {
    return `${source} does not exist`;
  }
  if (!st.isFile()) return `${source} is not a regular file`;
  if (probeFile(source).state !== "ok") return `${source} is not a SQLite database`;
  if (hotJournal(source)) return `${source} has a hot journal`;
  const tg = statSync(targetPath, { throwIfNoEntry: false });
  if (tg && tg.dev === st.dev && tg.ino === st.ino) return `${source} is the target itself`;
  try {
    db.prepare(`ATTACH ? AS ${SRC}`).run(attachUri(source));
    allRows(db, `SELECT count(*) AS n FROM ${SRC}.sqlite_master`);
    return null;
  } catch (e) {
    try {
      db.exec(`DETACH ${SRC}`);
    } catch {
      /* it was not attached */
    }
    return `SQLite cannot attach ${source}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** An expression SQLite refuses when it evaluates it ("integer overflow"): it ends the statement at a risky row. */
const STOP = "abs(-9223372036854775807 - 1)";

/** Which storage classes a column of this affinity keeps as they are (any other may be converted, or quarantined by the row path). */
const KEEPS: Record<Exclude<Affinity, "BLOB">, string> = {
  INTEGER: "'integer', 'null', 'blob'",
  NUMERIC: "'integer', 'null', 'blob'",
  REAL: "'real', 'null', 'blob'",
  TEXT: "'text', 'null', 'blob'",
};

/** The native proofs stood on the trailer read before the rows: it must be the one the whole read checked (the whole-file hash covers). */
export function assertProvenAgainst(early: Trailer, read: readonly { name: string; rows: number; sha256: string }[]): void {
  if (JSON.stringify(early.tables) === JSON.stringify(read)) return;
  throw refused({
    what: "The backup changed while it was imported: the trailer the proofs were checked against is not the one its rows end with.",
    untouched: "The import was rolled back.",
    next: "Take and verify a new backup.",
  });
}

export class NativeLoader {
  private readonly claimed = new Map<string, { rows: number; sha256: string }>();
  constructor(
    private readonly db: LibsqlDatabase,
    trailer: Trailer,
    /** Target tables more than one backup table loads into (never native: the proof is per table). */
    private readonly shared: Set<string>,
  ) {
    for (const t of trailer.tables) if (typeof t.sha256 === "string" && Number.isSafeInteger(t.rows)) this.claimed.set(t.name, t);
  }

  /** The sqlite_sequence entry of each table copied and not yet proven (put back if the proof fails). */
  private readonly seqs = new Map<string, SqlValue[] | null>();

  /** The source's tables, read once (a table dropped since is refused by the copy and goes by the row path). */
  private sourceTables: Set<string> | null = null;

  /** Whether the new file has a sqlite_sequence table: once it has, it keeps it (the load drops no AUTOINCREMENT table). */
  private hasSequenceTable = false;

  /**
   * Loads the plan's table natively and proves it on this thread; returns the rows loaded, or null
   * when the table is left empty for the row path (not eligible, refused by a constraint, or not proven).
   */
  load(p: Plan): number | null {
    return this.copy(p) ? this.proveHere(p) : null;
  }

  /**
   * Copies the plan's table inside SQLite (not yet proven). False: not copied, the table is empty
   * for the row path (not eligible, a value the row path would quarantine or stream, a constraint).
   */
  copy(p: Plan): boolean {
    const t = p.target;
    const want = this.claimed.get(p.bt.name);
    // An empty table has nothing to copy (and an INSERT … SELECT of no rows would still write an AUTOINCREMENT table's sqlite_sequence entry).
    if (!t || !want || want.rows === 0 || !this.eligible(p, t)) return false;
    const bt = p.bt;
    const refs = bt.columns.map((c, i) => (i === 0 && bt.rowidColumn ? bt.rowidColumn : quoteIdent(c)));
    const order = bt.withoutRowid
      ? bt.primaryKey.map(quoteIdent).join(", ")
      : bt.rowidColumn
        ? bt.rowidColumn
        : bt.rowidAlias
          ? quoteIdent(bt.rowidAlias)
          : null;
    const from = `${SRC}.${quoteIdent(bt.name)}`;
    // A value the row path would quarantine (it would change storage class in the target) or one too
    // large to copy in memory (the row path streams it) stops the copy at that row, in the same scan:
    // the WHERE clause raises SQLite's documented "integer overflow" (abs of the smallest integer)
    // before the row's values are read, and the catch below undoes what was inserted.
    const risky: string[] = [];
    for (const c of p.checks) if (c.aff !== "BLOB") risky.push(`typeof(${refs[c.idx]}) NOT IN (${KEEPS[c.aff]})`);
    const big = bigValueBytes();
    refs.forEach((r, i) => {
      if (!(i === 0 && bt.rowidColumn) && bt.columns[i] !== bt.rowidAlias) risky.push(`octet_length(${r}) > ${big}`);
    });
    const seq = this.sequence(t);
    try {
      const where = risky.length ? ` WHERE CASE WHEN ${risky.join(" OR ")} THEN ${STOP} ELSE 1 END` : "";
      this.db.exec(
        `INSERT INTO main.${quoteIdent(t.name)} (${refs.join(", ")}) SELECT ${refs.join(", ")} FROM ${from}${where}${order ? ` ORDER BY ${order}` : ""}`,
      );
    } catch (e) {
      // A constraint, a missing column, a busy source: the row path decides row by row. An error
      // that ended the transaction (disk full, I/O) is not the table's: the import stops.
      if (!this.db.inTransaction) throw e;
      this.undo(t.name, seq);
      return false;
    }
    this.seqs.set(t.name, seq);
    return true;
  }

  /**
   * The copied table as the proof hashes it, with the rows the backup claims (they pick readRows'
   * statement only: every row is read); a wider target's on the backup's columns, in its order, so
   * its lines are the backup's (the columns it adds hold their defaults, as the row path leaves them).
   */
  proofTable(p: Plan): BackupTable {
    const t = backupTable(p.target!, BigInt(this.claimed.get(p.bt.name)?.rows ?? 0));
    if (p.sameShape) return t;
    return { ...t, columns: p.bt.columns, types: p.bt.columns.map((c) => t.types[t.columns.indexOf(c)]!) };
  }

  /** Proves a copied table on this thread (reading it back through this connection). */
  proveHere(p: Plan): number | null {
    return this.proven(p, hashTable(this.db, this.proofTable(p)));
  }

  /**
   * The copied table's hash against the backup's claim: its rows when equal; otherwise (or with no
   * hash) the table is emptied again for the row path and null returned.
   */
  proven(p: Plan, got: { rows: number; sha256: string } | null): number | null {
    const name = p.target!.name;
    const want = this.claimed.get(p.bt.name)!;
    const seq = this.seqs.get(name) ?? null;
    this.seqs.delete(name);
    if (got === null || got.rows !== want.rows || got.sha256 !== want.sha256) {
      this.undo(name, seq);
      return null;
    }
    return got.rows;
  }

  private eligible(p: Plan, t: TableInfo): boolean {
    return (
      (p.sameShape || p.wider === true) &&
      !p.wholeReason &&
      !t.virtual &&
      !SPECIAL.has(t.name) &&
      t.name !== QUARANTINE &&
      t.name !== "schema_version" &&
      !this.shared.has(t.name) &&
      p.unknownCols.length === 0 &&
      p.unlistedCols.length === 0 &&
      (this.sourceTables ??= new Set(allRows(this.db, `SELECT name FROM ${SRC}.sqlite_master WHERE type = 'table'`).map((r) => String(r.name)))).has(
        p.bt.name,
      ) &&
      allRows(this.db, `SELECT 1 AS x FROM main.${quoteIdent(t.name)} LIMIT 1`).length === 0
    );
  }

  /**
   * The table's sqlite_sequence entry before the attempt (an AUTOINCREMENT insert moves it); null, left
   * alone, for a table without AUTOINCREMENT (SQLite writes no entry for its inserts) or a file
   * without sqlite_sequence.
   */
  private sequence(t: TableInfo): SqlValue[] | null {
    if (!t.autoincrement) return null;
    if (!this.hasSequenceTable) {
      if (!allRows(this.db, "SELECT 1 AS x FROM main.sqlite_master WHERE name = 'sqlite_sequence'").length) return null;
      this.hasSequenceTable = true;
    }
    const r = allRows(this.db, "SELECT seq FROM main.sqlite_sequence WHERE name = ?", [t.name]);
    return r.length ? [r[0]!.seq ?? null] : [];
  }

  /**
   * Empties the table again (it was empty before: replace semantics) and puts its sqlite_sequence
   * entry back. A DELETE, not a savepoint: a new file loads without a rollback journal, where
   * SQLite cannot roll back to a savepoint (a refused row stopped the INSERT before writing it).
   */
  private undo(table: string, seq: SqlValue[] | null): void {
    this.db.exec(`DELETE FROM main.${quoteIdent(table)}`);
    if (seq === null) return;
    this.db.prepare("DELETE FROM main.sqlite_sequence WHERE name = ?").run(table);
    if (seq.length) this.db.prepare("INSERT INTO main.sqlite_sequence(name, seq) VALUES (?, ?)").run(table, seq[0]);
  }
}
