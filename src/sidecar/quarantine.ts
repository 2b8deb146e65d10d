/**
 * The legacy_quarantine rows of a sidecar merge. The table is append-only, and a merge run again — the
 * sidecar put back from its archive, or its archiving failed after the merge had committed — stores no
 * row twice: a row the table holds already (its source table, rowid, key, whole row and reason, as the
 * file's bytes; not its run or time) is counted and not added, by the import's own statement
 * (backup/quarantine-writer.ts insertUnlessHeld).
 */
import { allRows, textEncoding, type LibsqlDatabase } from "../db/local.js";
import { TEXT_FROM_BYTES, textBytesOf, type SqlValue, type TextEncoding } from "../db/value.js";
import { insertUnlessHeld, selectHeld } from "../backup/quarantine-writer.js";
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
 * A legacy_quarantine row as the sidecar's statements give it: the columns the table has (an older one
 * has no source_key), the VALUES tuple with its TEXT bound as the canonical DB's own bytes
 * (TEXT_FROM_BYTES, src/db/value.ts: a row's JSON holding U+FFFE/U+FFFF keeps them in a UTF-16 file),
 * and the arguments of one row.
 */
function quarantineRow(db: LibsqlDatabase, runId: string) {
  const enc = textEncoding(db);
  const hasKey = allRows(db, "SELECT 1 FROM pragma_table_xinfo('legacy_quarantine') WHERE name = 'source_key'").length > 0;
  const T = TEXT_FROM_BYTES;
  const columns = ["source_table", "source_rowid", ...(hasKey ? ["source_key"] : []), "row_json", "reason", "run_id", "quarantined_at"];
  const row = `(${T}, ?, ${hasKey ? `${T}, ` : ""}${T}, ${T}, ${T}, strftime('%Y-%m-%dT%H:%M:%fZ','now'))`;
  const b = (s: string) => textBytesOf(s, enc);
  const args = (table: string, rowid: SqlValue, key: string, json: string, reason: string) =>
    hasKey ? [b(table), rowid, b(key), b(json), b(reason), b(runId)] : [b(table), rowid, b(json), b(reason), b(runId)];
  return { enc, columns, row, args };
}

/** Writes legacy_quarantine rows, each only when the table does not hold it already (insertUnlessHeld). */
export function quarantineWriter(db: LibsqlDatabase, runId: string): Quarantine {
  ensureOwnTables(db);
  const { enc, columns, row, args } = quarantineRow(db, runId);
  const st = db.prepare(insertUnlessHeld(columns, row));
  const held = new Map<string, number>();
  return {
    enc,
    held,
    run: (table, rowid, key, json, reason) => {
      const r = st.run(args(table, rowid, key, json, reason)) as { changes: number | bigint };
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
  const { enc, columns, row, args } = quarantineRow(db, "");
  const st = db.prepare(selectHeld(columns, row));
  fill({
    enc,
    held: new Map(),
    run: (table, rowid, key, json, reason) => {
      const k = reasonKey(reason);
      if (st.get(args(table, rowid, key, json, reason)) && (adds[k] = (adds[k] ?? 0) - 1) <= 0) delete adds[k];
    },
  });
}
