/**
 * The legacy_quarantine rows of a sidecar merge. The table is append-only, and a merge run again — the
 * sidecar put back from its archive, or its archiving failed after the merge had committed — stores no
 * row twice: a row byte for byte equal to one the table holds from an earlier merge (its table, rowid,
 * key, whole row and reason; not its run or time) is held already and not added. Read once, as a set of
 * hashes of the sidecar's quarantine rows; a row that cannot be matched (bytes decoded differently) is
 * only ever added again, never lost.
 */
import { createHash } from "node:crypto";
import { allRows, textEncoding, type LibsqlDatabase } from "../db/local.js";
import { TEXT_FROM_BYTES, textBytesOf, type SqlValue, type TextEncoding } from "../db/value.js";
import { ensureOwnTables } from "../news/news.js";

export interface Quarantine {
  /** The canonical DB's text encoding (the sidecar's values read from it are in it too). */
  enc: TextEncoding;
  run(table: string, rowid: SqlValue, key: string, row: string, reason: string): void;
  /** Per table: the rows an earlier sidecar merge had quarantined already (counted, not stored twice). */
  held: Map<string, number>;
}

/** One row's identity: each part with its length (text as the file's bytes, the rowid as its integer). */
function rowHash(parts: readonly (Uint8Array | SqlValue)[]): string {
  const h = createHash("sha256");
  for (const v of parts) {
    const bytes = v instanceof Uint8Array ? v : Buffer.from(v === null ? "" : `${typeof v === "string" ? "s" : "i"}${String(v)}`);
    h.update(`${v === null ? "n" : bytes.length}:`).update(bytes);
  }
  return h.digest("hex");
}

/** The hashes of the rows earlier sidecar merges quarantined (reason `sidecar-…`). */
function heldRows(db: LibsqlDatabase, hasKey: boolean): Set<string> {
  const st = db.prepare(
    `SELECT CAST(source_table AS BLOB), source_rowid, ${hasKey ? "CAST(source_key AS BLOB)" : "NULL"}, CAST(row_json AS BLOB), CAST(reason AS BLOB) FROM legacy_quarantine WHERE reason LIKE 'sidecar-%'`,
  );
  st.raw(true);
  st.safeIntegers(true);
  const held = new Set<string>();
  for (const r of (st as unknown as { iterate(): IterableIterator<unknown[]> }).iterate())
    held.add(rowHash(r.map((v) => (v instanceof ArrayBuffer ? new Uint8Array(v) : (v as SqlValue)))));
  return held;
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
  const st = hasKey
    ? db.prepare(
        `INSERT INTO legacy_quarantine(source_table, source_rowid, source_key, row_json, reason, run_id, quarantined_at) VALUES (${T}, ?, ${T}, ${T}, ${T}, ${T}, strftime('%Y-%m-%dT%H:%M:%fZ','now'))`,
      )
    : db.prepare(
        `INSERT INTO legacy_quarantine(source_table, source_rowid, row_json, reason, run_id, quarantined_at) VALUES (${T}, ?, ${T}, ${T}, ${T}, strftime('%Y-%m-%dT%H:%M:%fZ','now'))`,
      );
  const b = (s: string) => textBytesOf(s, enc);
  const before = heldRows(db, hasKey);
  const held = new Map<string, number>();
  return {
    enc,
    held,
    run: (table, rowid, key, row, reason) => {
      const parts = [b(table), rowid, hasKey ? b(key) : null, b(row), b(reason)];
      if (before.has(rowHash(parts))) {
        held.set(table, (held.get(table) ?? 0) + 1); // quarantined by an earlier sidecar merge
        return;
      }
      if (hasKey) st.run([parts[0], rowid, parts[2], parts[3], parts[4], b(runId)]);
      else st.run([parts[0], rowid, parts[3], parts[4], b(runId)]);
    },
  };
}
