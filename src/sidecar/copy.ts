/**
 * Stage 2's copy of the missing sidecar rows, and its safety net. An `INSERT INTO main.t … SELECT
 * … FROM sidecar.t s WHERE NOT EXISTS (SELECT … FROM main.t …)` reads the table it writes, so SQLite
 * first copies the selected rows into an ephemeral table of ordinary page size; in a UTF-16 canonical
 * DB, SQLite 3.45 reads a TEXT back from an overflow page there without its leading U+FEFF/U+FFFE
 * (see ./lead.ts): the row would be merged one character short. So the missing rows' sidecar rowids
 * are collected first into a temp table and the INSERT's SELECT reads only the sidecar and that
 * table (no ephemeral copy of the values). The net: in the same transaction, the canonical table's
 * TEXT stored bytes (`octet_length`, which counts what SQLite reads short) must have grown by exactly
 * the merged rows' — otherwise the merge stops with a worded error and its transaction rolls back.
 */
import { failed } from "../errors.js";
import { type LibsqlDatabase } from "../db/local.js";
import { quoteIdent } from "../db/value.js";
import { columnsOf, S } from "./carry.js";

const CAND = "temp.vox_sidecar_missing";

/** Why a row was not merged though no error came: a trigger of the canonical table skipped it (`RAISE(IGNORE)`, not counted in changes). */
export const SKIPPED = "a trigger on the canonical table skipped it (RAISE(IGNORE))";

/** A TEXT stored in a column of this declared type stays TEXT (TEXT or BLOB affinity, https://sqlite.org/datatype3.html §3.1). */
function keepsText(declared: string): boolean {
  const t = declared.toUpperCase();
  if (t.includes("INT")) return false;
  return /CHAR|CLOB|TEXT|BLOB/.test(t) || t.trim() === "";
}

/** The shared columns whose TEXT values the canonical table keeps as TEXT: the ones the net sums. */
function checkedColumns(db: LibsqlDatabase, table: string, shared: readonly string[]): string[] {
  const kept = new Set(
    columnsOf(db, "main", table)
      .filter((c) => keepsText(c.type))
      .map((c) => c.name),
  );
  return shared.filter((c) => kept.has(c));
}

/** Sum of the stored bytes of the TEXT values of `cols` (alias `a`) in `from`. */
function textBytes(db: LibsqlDatabase, cols: readonly string[], a: string, from: string): bigint {
  if (!cols.length) return 0n;
  const sum = cols.map((c) => `CASE WHEN typeof(${a}.${quoteIdent(c)}) = 'text' THEN octet_length(${a}.${quoteIdent(c)}) ELSE 0 END`).join(" + ");
  const st = db.prepare(`SELECT total_bytes FROM (SELECT coalesce(sum(${sum}), 0) AS total_bytes FROM ${from})`);
  st.safeIntegers(true);
  return BigInt((st.get() as { total_bytes: bigint }).total_bytes);
}

/** Checks the canonical table's TEXT bytes grew by exactly the merged rows'; returned by {@link textNet} before the copy. */
interface TextNet {
  /** Counts a merged sidecar row (located by `where` on alias `s`) after it was inserted. */
  add(where: string, args?: unknown[]): void;
  /** Throws (the transaction rolls back) when a merged TEXT was stored other than the sidecar's. */
  check(): void;
}

export function textNet(db: LibsqlDatabase, table: string, shared: readonly string[]): TextNet {
  const cols = checkedColumns(db, table, shared);
  const name = quoteIdent(table);
  const before = textBytes(db, cols, "m", `main.${name} m`);
  let expected = 0n;
  return {
    add(where, args = []) {
      if (!cols.length) return;
      const sum = cols.map((c) => `CASE WHEN typeof(s.${quoteIdent(c)}) = 'text' THEN octet_length(s.${quoteIdent(c)}) ELSE 0 END`).join(" + ");
      const st = db.prepare(`SELECT coalesce(sum(${sum}), 0) AS n FROM ${S}.${name} s WHERE ${where}`);
      st.safeIntegers(true);
      expected += BigInt((st.get(...args) as { n: bigint }).n);
    },
    check() {
      const after = textBytes(db, cols, "m", `main.${name} m`);
      if (after - before === expected) return;
      throw failed({
        what: `The sidecar merge into table ${table} would store ${after - before} bytes of text where the sidecar's merged rows hold ${expected}: SQLite changed a text value while copying it (a leading U+FEFF/U+FFFE of a long text in a UTF-16 database).`,
        untouched:
          "Nothing was merged: the canonical vox.db is as before this step, and the sidecar file is where it was (its verified backup is in the work folder).",
        next: "Report this with the table name; to go on without merging, run the sidecar step without --merge (the sidecar is archived whole).",
      });
    },
  };
}

/**
 * Inserts the sidecar rows of a rowid table matching `missing` (alias `s`, may read main) into the
 * canonical table, without the INSERT's SELECT reading the canonical table; returns how many.
 */
export function copyMissing(db: LibsqlDatabase, table: string, cols: readonly string[], rowid: string, missing: string, net: TextNet): number {
  const name = quoteIdent(table);
  db.exec(`DROP TABLE IF EXISTS ${CAND}`);
  db.exec(`CREATE TABLE ${CAND} (r INTEGER PRIMARY KEY)`);
  try {
    const candidates = Number(db.prepare(`INSERT INTO ${CAND} (r) SELECT ${rowid} FROM ${S}.${name} s WHERE ${missing}`).run().changes);
    const inCand = `${rowid} IN (SELECT r FROM ${CAND})`;
    const list = cols.map(quoteIdent).join(", ");
    const r = db
      .prepare(`INSERT INTO main.${name} (${list}) SELECT ${cols.map((c) => `s.${quoteIdent(c)}`).join(", ")} FROM ${S}.${name} s WHERE ${inCand}`)
      .run();
    // A row SKIPPED: the caller undoes the copy and goes row by row, where such a row is kept in legacy_quarantine (never left out unsaid).
    if (Number(r.changes) !== candidates) throw new Error(SKIPPED);
    net.add(inCand);
    return Number(r.changes);
  } finally {
    db.exec(`DROP TABLE IF EXISTS ${CAND}`);
  }
}
