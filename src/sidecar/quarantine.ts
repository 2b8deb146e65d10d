/**
 * The legacy_quarantine rows of a sidecar merge. The table is append-only, and a merge run again — the
 * sidecar put back from its archive, or its archiving failed after the merge had committed — stores no
 * row twice: a row the table holds already (its source table, rowid, key, whole row and reason, as the
 * file's bytes; not its run or time) is counted and not added, by the import's own statement
 * (backup/quarantine-writer.ts insertUnlessHeld).
 */
import { allRows, textEncoding, type LibsqlDatabase } from "../db/local.js";
import { TEXT_FROM_BYTES, textBytesOf, type SqlValue, type TextEncoding } from "../db/value.js";
import { insertUnlessHeld } from "../backup/quarantine-writer.js";
import { ensureOwnTables } from "../news/news.js";
import { reasonKey } from "../db/ledger.js";

export interface Quarantine {
  /** The canonical DB's text encoding (the sidecar's values read from it are in it too). */
  enc: TextEncoding;
  run(table: string, rowid: SqlValue, key: string, row: string, reason: string): void;
  /** Per table: the rows an earlier sidecar merge had quarantined already (counted, not stored twice). */
  held: Map<string, number>;
}

/**
 * Writes legacy_quarantine rows. Its TEXT is bound as the canonical DB's own bytes
 * (TEXT_FROM_BYTES, src/db/value.ts): a row's JSON holding U+FFFE/U+FFFF keeps them in a UTF-16 file.
 */
export function quarantineWriter(db: LibsqlDatabase, runId: string): Quarantine {
  ensureOwnTables(db);
  const enc = textEncoding(db);
  const hasKey = allRows(db, "SELECT 1 FROM pragma_table_xinfo('legacy_quarantine') WHERE name = 'source_key'").length > 0;
  const T = TEXT_FROM_BYTES;
  const now = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";
  const st = hasKey
    ? db.prepare(
        insertUnlessHeld(
          ["source_table", "source_rowid", "source_key", "row_json", "reason", "run_id", "quarantined_at"],
          `(${T}, ?, ${T}, ${T}, ${T}, ${T}, ${now})`,
        ),
      )
    : db.prepare(insertUnlessHeld(["source_table", "source_rowid", "row_json", "reason", "run_id", "quarantined_at"], `(${T}, ?, ${T}, ${T}, ${T}, ${now})`));
  const b = (s: string) => textBytesOf(s, enc);
  const held = new Map<string, number>();
  return {
    enc,
    held,
    run: (table, rowid, key, row, reason) => {
      const r = (hasKey ? st.run([b(table), rowid, b(key), b(row), b(reason), b(runId)]) : st.run([b(table), rowid, b(row), b(reason), b(runId)])) as {
        changes: number | bigint;
      };
      if (Number(r.changes) === 0) held.set(table, (held.get(table) ?? 0) + 1); // quarantined by an earlier sidecar merge
    },
  };
}

/**
 * Runs `fill` with a Quarantine that writes nothing, then takes from `adds` (per reason key) the rows it was given that
 * legacy_quarantine holds already by insertUnlessHeld's match (an earlier merge's, the sidecar put back): a merge would not add them.
 */
export function heldCounter(db: LibsqlDatabase, fill: (q: Quarantine) => void, adds: Record<string, number>): void {
  if (!Object.keys(adds).length || !allRows(db, "SELECT 1 FROM main.sqlite_master WHERE name = 'legacy_quarantine'").length) return;
  const enc = textEncoding(db);
  const T = TEXT_FROM_BYTES;
  const st = db.prepare(
    `SELECT 1 FROM legacy_quarantine AS q WHERE q.source_table = ${T} AND q.source_rowid IS ? AND q.source_key IS ${T} AND q.row_json = ${T} AND q.reason = ${T} LIMIT 1`,
  );
  const b = (s: string) => textBytesOf(s, enc);
  fill({
    enc,
    held: new Map(),
    run: (table, rowid, key, row, reason) => {
      const k = reasonKey(reason);
      if (st.get([b(table), rowid, b(key), b(row), b(reason)]) && (adds[k] = (adds[k] ?? 0) - 1) <= 0) delete adds[k];
    },
  });
}
