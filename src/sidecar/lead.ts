/**
 * Stage 2's "same values" test, judged on the stored bytes. In a UTF-16 canonical DB (issue 17
 * keeps it UTF-16, with its own page size) SQLite 3.45 hands over a TEXT read from an overflow page
 * without a leading U+FEFF or U+FFFE — `CAST(c AS BLOB)`, `hex`, `=` alike — while `octet_length`
 * (the record header) still counts it (see src/backup/row-source.ts). Compared as SQLite reads them,
 * an identical long U+FEFF-led text would differ from the sidecar's exact copy (a conflict: an
 * identical row quarantined), and a canonical U+FEFF+x would equal a sidecar x (a differing row
 * counted present, never quarantined).
 *
 * So a TEXT is compared by its stored length (`octet_length`) and its bytes; where the canonical's
 * reads short, the two bytes SQLite dropped (U+FEFF or U+FFFE: SQL cannot tell which) are read from
 * the canonical DB's pages (src/db/pages.ts, in the comparison's own snapshot) for the rows whose key
 * the sidecar has, and put before the bytes read. A row whose first character cannot be read that
 * way (a WITHOUT ROWID table; more than MAX_LEADS such rows in one table) is never judged the
 * same: a conflict, quarantined whole (nothing lost: the canonical row stays, the sidecar row is
 * in legacy_quarantine and the archived sidecar).
 *
 * The sidecar side reads exact: attached only when no TEXT of it reads short (./carry.ts), or
 * carried into a scratch of 64 KiB pages.
 */
import { allRows, type LibsqlDatabase } from "../db/local.js";
import { PageReader } from "../db/pages.js";
import { quoteIdent, type TextEncoding } from "../db/value.js";
import { rowidName, S } from "./carry.js";

/** More canonical rows with a TEXT that reads short in one table than this: the rest are not looked up (conflicts). */
const MAX_LEADS = 1000;

interface SameInput {
  table: string;
  shared: readonly string[];
  keyMatch: string;
  /** The canonical table's shape (a WITHOUT ROWID table's values are not read from the pages). */
  withoutRowid: boolean;
  encoding: TextEncoding;
}

/** The SQL that is true when canonical row `m` holds sidecar row `s`'s values (same storage class, same stored bytes). */
export function sameExpr(db: LibsqlDatabase, p: SameInput): string {
  if (p.encoding === "UTF-8")
    return p.shared
      .map((c) => `m.${quoteIdent(c)} IS s.${quoteIdent(c)} COLLATE BINARY AND typeof(m.${quoteIdent(c)}) = typeof(s.${quoteIdent(c)})`)
      .join(" AND ");
  const leads = shortLeads(db, p);
  const rid = leads.rid;
  return p.shared
    .map((name) => {
      const m = `m.${quoteIdent(name)}`;
      const s = `s.${quoteIdent(name)}`;
      const known = [...(leads.byCol.get(name) ?? [])].map(([r, b]) => `WHEN ${r} THEN X'${b.toString("hex")}'`);
      const lead = rid && known.length ? `(CASE m.${rid} ${known.join(" ")} END)` : "NULL";
      return `typeof(${m}) = typeof(${s}) AND (CASE WHEN typeof(${m}) <> 'text' THEN ${m} IS ${s}
        WHEN octet_length(${m}) <> octet_length(${s}) THEN 0
        WHEN length(CAST(${m} AS BLOB)) = octet_length(${m}) THEN CAST(${m} AS BLOB) = CAST(${s} AS BLOB)
        ELSE substr(CAST(${s} AS BLOB), 1, 2) = ${lead} AND substr(CAST(${s} AS BLOB), 3) = CAST(${m} AS BLOB) END)`;
    })
    .join(" AND ");
}

/**
 * The SQL that is true when canonical row `m` may hold sidecar row `s`'s key. In a UTF-16 canonical
 * DB a TEXT key that SQLite reads short (see above) matches a sidecar TEXT of the same stored length
 * whose bytes after the first two equal it: such a row is never counted missing (a table without a
 * declared key has every column as its key: an identical row merged again would be a duplicate);
 * {@link sameExpr} then judges it present or a conflict on the stored bytes. Only for a table
 * without a declared key (`loose`): the OR would keep SQLite from looking a declared key up in its
 * index, and a declared key's UNIQUE index refuses a second copy anyway (the row is quarantined).
 */
export function keyMatchExpr(key: readonly string[], encoding: TextEncoding, loose: boolean): string {
  return key
    .map((k) => {
      const [m, s] = [`m.${quoteIdent(k)}`, `s.${quoteIdent(k)}`];
      if (encoding === "UTF-8" || !loose) return `${m} IS ${s}`;
      return `(${m} IS ${s} OR (typeof(${m}) = 'text' AND typeof(${s}) = 'text' AND octet_length(${m}) = octet_length(${s})
        AND length(CAST(${m} AS BLOB)) <> octet_length(${m}) AND substr(CAST(${s} AS BLOB), 3) = CAST(${m} AS BLOB)))`;
    })
    .join(" AND ");
}

/** Per shared column: the first two stored bytes of each canonical TEXT (of a row the sidecar's keys match) that SQLite reads short, by rowid. */
function shortLeads(db: LibsqlDatabase, p: SameInput): { rid: string | null; byCol: Map<string, Map<bigint, Buffer>> } {
  const byCol = new Map<string, Map<bigint, Buffer>>();
  const info = allRows(db, "SELECT name, hidden FROM pragma_table_xinfo(?, 'main') ORDER BY cid", [p.table]);
  const rid = p.withoutRowid ? null : rowidName(info.map((r) => String(r.name)));
  if (!rid) return { rid, byCol };
  // The record holds every column but a virtual generated one (hidden = 2).
  const recordCol = new Map<string, number>();
  for (const r of info) if (Number(r.hidden) !== 2) recordCol.set(String(r.name), recordCol.size);
  const root = Number(allRows(db, "SELECT rootpage FROM main.sqlite_schema WHERE type = 'table' AND name = ?", [p.table])[0]?.rootpage);
  // One pass over the sidecar's rows matched to canonical rows: per shared column, the stored length
  // of a canonical TEXT that reads short where the sidecar's has that length too (else they differ anyway).
  const flags = p.shared.map((name, i) => {
    const [m, s] = [`m.${quoteIdent(name)}`, `s.${quoteIdent(name)}`];
    return `CASE WHEN typeof(${m}) = 'text' AND typeof(${s}) = 'text' AND octet_length(${m}) = octet_length(${s}) AND length(CAST(${m} AS BLOB)) <> octet_length(${m}) THEN octet_length(${m}) END AS c${i}`;
  });
  const st = db.prepare(
    `SELECT * FROM (SELECT m.${rid} AS r, ${flags.join(", ")} FROM ${S}.${quoteIdent(p.table)} s JOIN main.${quoteIdent(p.table)} m ON ${p.keyMatch})
     WHERE ${p.shared.map((_, i) => `c${i} IS NOT NULL`).join(" OR ")} LIMIT ${MAX_LEADS}`,
  );
  st.raw(true);
  st.safeIntegers(true);
  let reader: PageReader | null = null;
  for (const [rowid, ...lengths] of st.all() as [bigint, ...(bigint | null)[]][]) {
    lengths.forEach((length, i) => {
      if (length === null) return;
      const name = p.shared[i]!;
      try {
        reader ??= new PageReader(db);
        const b = firstTwo(reader.value(root, rowid, recordCol.get(name)!, { storage: "text", length: Number(length) }));
        // Only a U+FEFF/U+FFFE (either byte order) is ever dropped: anything else stays unknown (a conflict).
        if (b.length === 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff))) {
          if (!byCol.has(name)) byCol.set(name, new Map());
          byCol.get(name)!.set(rowid, b);
        }
      } catch {
        /* not readable from the pages: unknown, never judged the same */
      }
    });
  }
  return { rid, byCol };
}

/** The first two bytes of a value given as slices. */
function firstTwo(slices: Iterable<Buffer>): Buffer {
  const out: number[] = [];
  for (const s of slices)
    for (const x of s) {
      out.push(x);
      if (out.length === 2) return Buffer.from(out);
    }
  return Buffer.from(out);
}
