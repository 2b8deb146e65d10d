/**
 * Where a table's big values (above the big-value size) are read from, as the row statement meets
 * them (src/backup/tables.ts): from the database's pages in slices (src/db/pages.ts), never whole.
 *
 * - An ordinary rowid table: the value's cell is found by the row's rowid in the table b-tree.
 * - A WITHOUT ROWID table: its rows are the cells of its primary key's index b-tree, in key order;
 *   the row statement reads them in key order too (`ORDER BY` the key), so the i-th row is the i-th
 *   cell of an in-order walk (src/db/index-pages.ts), reversed when every key column is DESC. That
 *   holds only when SQLite answers the statement by scanning that b-tree (no sort of its own, which
 *   a key collation other than the column's or mixed ASC/DESC would need): `EXPLAIN QUERY PLAN`
 *   says so, else the table is read whole. Each row's cell is checked against what SQLite returned
 *   for it — every key column's value, each big value's storage class and length — and a cell that
 *   disagrees makes the caller read the rest of the table again whole (never a wrong byte). Both
 *   fallbacks are named, with their count, in the export's `readWhole`.
 */
import { allRows, type LibsqlDatabase } from "../db/local.js";
import { virtualArgs } from "../db/catalog.js";
import { IndexCursor } from "../db/index-pages.js";
import { PageReader, type Payload, type RecordColumn } from "../db/pages.js";
import { quoteString } from "../db/value.js";
import type { BigLimit } from "../db/integrity.js";
import type { BackupTable } from "./format.js";
import { BigValue, bigValueBytes } from "./big-value.js";
import { Utf16Source } from "./big-utf16.js";
import type { TextEncoding } from "../db/value.js";

/** A big value of a row as the statement reported it: its value index, storage class and length. */
export interface BigCol {
  i: number;
  storage: "blob" | "text";
  length: number;
}

/** Reads a table's big values: sets `raw[i]` to a BigValue for each; false when the pages disagree with SQLite's row. */
export interface BigRows {
  take(raw: unknown[], row: number, bigs: readonly BigCol[], isText: (i: number) => boolean): boolean;
}

/** The size above which values are big, as the row statements use it. */
export function bigAbove(): number {
  return Math.max(64, bigValueBytes());
}

/** The big-value size and its name, for the integrity checks' summaries (db/integrity.ts BigLimit). */
export function bigLimit(): BigLimit {
  const above = bigAbove();
  return { above, size: sizeName(above) };
}

function sizeName(limit: number): string {
  return limit >= 1 << 20 ? `${Math.round(limit / (1 << 20))} MB` : `${Math.round(limit / 1024)} KB`;
}

/**
 * An own-content FTS table (FTS3/FTS4/FTS5 without `content=`) keeps its rows in its
 * `<name>_content` shadow table, an ordinary rowid table: FTS5 as `id, c0, c1, …`, FTS3/FTS4 as
 * `docid, c0<column>, c1<column>, …` (and FTS4's `langid`, its languageid column). Its module returns those
 * values as they are stored, in rowid order, so the row statement reads that table instead (`table`:
 * the same values in the same order, named as the shadow names them) and its big values come from
 * its pages like any rowid table's, never whole. Null for any other table; `whole` (read through
 * the module, every value whole) when the shadow is not as SQLite writes it, or FTS4 stores its text
 * compressed (`compress=`: the shadow holds other bytes than the table returns).
 */
export function ftsContent(
  t: BackupTable,
  facts: { roots: Map<string, number>; stored: Map<string, string[]> },
): { table: BackupTable; root: number; recordCol: number[] } | { whole: string } | null {
  const v = t.rowidColumn && /^\s*CREATE\s+VIRTUAL\b/i.test(t.sql) ? virtualArgs(t.sql) : null;
  if (!v || !["fts3", "fts4", "fts5"].includes(v.module) || "content" in v.options) return null;
  const name = `${t.name}_content`;
  const root = facts.roots.get(name);
  const stored = facts.stored.get(name) ?? [];
  const id = v.module === "fts5" ? "id" : "docid";
  // FTS3/FTS4 name the k-th content column c<k><name>; FTS4's languageid column (carried) is `langid`.
  const lang = v.options.languageid?.toLowerCase();
  let k = 0;
  const columns = [id, ...t.columns.slice(1).map((c) => (v.module === "fts5" ? `c${k++}` : c.toLowerCase() === lang ? "langid" : `c${k++}${c}`))];
  const recordCol = columns.map((c) => stored.indexOf(c));
  const why =
    "compress" in v.options || "uncompress" in v.options
      ? "FTS4 stores its text compressed"
      : !root || stored[0] !== id || recordCol.some((c) => c < 0)
        ? `its ${name} table is not the one SQLite's ${v.module.toUpperCase()} writes`
        : "";
  if (why) return { whole: virtualWholeReason(why) };
  return { table: { ...t, name, columns, rowidColumn: null, rowidAlias: id, types: columns.map(() => "") }, root: root!, recordCol };
}

/** The evidence's reason for a virtual table whose big values the export read whole (through its module). */
function virtualWholeReason(why: string): string {
  return `virtual table: each value above ${sizeName(bigAbove())} was read whole by the export (${why}; memory grows with the value; the bytes are exact)`;
}

/** The evidence's reason for a WITHOUT ROWID table whose big values the export read whole. */
export function wholeReason(why: string): string {
  return `WITHOUT ROWID: each value above ${sizeName(bigAbove())} was read whole by the export (${why}; memory grows with the value; the bytes are exact)`;
}

/**
 * A big value whose bytes `open` reads from the pages (`length` as SQLite reported it): TEXT of a
 * UTF-16 file is decoded to UTF-8 as it is read (big-utf16.ts), as the whole path decodes it.
 */
function bigValue(storage: "blob" | "text", length: number, open: () => Iterable<Uint8Array>, enc: TextEncoding): BigValue {
  return storage === "text" && enc !== "UTF-8" ? new Utf16Source(length, open, enc) : new BigValue(storage, length, open);
}

/** An ordinary rowid table: each big value found by its row's rowid (checked against SQLite's storage class and length when read). */
export function rowidSource(db: LibsqlDatabase, root: number, rowidIdx: number, recordCol: number[], enc: TextEncoding): BigRows {
  let reader: PageReader | null = null;
  return {
    take(raw, _row, bigs) {
      const rowid = raw[rowidIdx] as bigint;
      for (const { i, storage, length } of bigs) {
        const col = recordCol[i]!;
        raw[i] = bigValue(storage, length, () => (reader ??= new PageReader(db)).value(root, rowid, col, { storage, length }), enc);
      }
      return true;
    },
  };
}

/**
 * A WITHOUT ROWID table read by an in-order walk of its b-tree, or the reason it cannot be (then
 * its values are read whole). `sql` is the row statement the walk must follow.
 */
export function indexSource(db: LibsqlDatabase, t: BackupTable, root: number, sql: string, enc: TextEncoding): BigRows | { whole: string } {
  const pk = allRows(db, `SELECT name FROM pragma_index_list(${quoteString(t.name)}) WHERE origin = 'pk'`)[0];
  if (!pk) return { whole: wholeReason("no primary key index was found") };
  const xinfo = allRows(db, `SELECT name, "desc" AS d, key FROM pragma_index_xinfo(${quoteString(String(pk.name))}) ORDER BY seqno`);
  const keys = xinfo.filter((x) => Number(x.key) === 1);
  const desc = keys.filter((x) => Number(x.d) === 1).length;
  if (desc !== 0 && desc !== keys.length) return { whole: wholeReason("its key mixes ASC and DESC columns: its pages are in another order than its rows") };
  const eqp = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  eqp.raw(true);
  const plan = (eqp.all() as unknown[][]).map((r) => String(r[3]));
  // The driver leaves an EXPLAIN statement active after all() (its read transaction on an attached
  // file then blocks a DETACH: "database … is locked"); get() resets it.
  eqp.get();
  if (plan.some((d) => /TEMP B-TREE|USING/.test(d))) return { whole: wholeReason(`SQLite reads it in an order other than its pages' (${plan.join("; ")})`) };
  const recordCol = t.columns.map((c) => xinfo.findIndex((x) => String(x.name) === c));
  const keyIdx = keys.map((k) => t.columns.indexOf(String(k.name)));
  if (keyIdx.some((i) => i < 0) || recordCol.some((c) => c < 0)) return { whole: wholeReason("its record's columns are not the backup's") };
  let cursor: IndexCursor | null = null;
  let reader: PageReader | null = null;
  return {
    take(raw, row, bigs, isText) {
      reader ??= new PageReader(db);
      cursor ??= new IndexCursor(reader, root, desc > 0);
      const p = cursor.cell(row);
      const cols = reader.record(p, `row ${row + 1} of ${t.name}`);
      const at = (i: number) => cols[recordCol[i]!];
      for (const i of keyIdx) {
        const c = at(i);
        const b = bigs.find((x) => x.i === i);
        if (!c || !(b ? fits(c, b) : sameValue(reader, p, c, raw[i], isText(i)))) return false;
      }
      for (const b of bigs) if (!fits(at(b.i), b)) return false;
      for (const { i, storage, length } of bigs) {
        const c = at(i)!;
        const r = reader;
        raw[i] = bigValue(storage, length, () => r.slices(p, c.offset, length), enc);
      }
      return true;
    },
  };
}

/** Whether a record column holds a value of this storage class and length. */
function fits(c: RecordColumn | undefined, b: BigCol): boolean {
  return c !== undefined && c.type >= 12 && (c.type % 2 === 0 ? "blob" : "text") === b.storage && c.size === b.length;
}

/** Whether a record column holds `v`, a value as the row statement returned it (TEXT as its bytes or, short ASCII, as a string). */
function sameValue(r: PageReader, p: Payload, c: RecordColumn, v: unknown, text: boolean): boolean {
  const t = c.type;
  if (v === null) return t === 0;
  if (typeof v === "bigint" || typeof v === "number") {
    if (t === 7) return typeof v === "number" && r.read(p, c.offset, 8).readDoubleBE(0) === v;
    if (t === 8 || t === 9) return Number(v) === t - 8;
    if (t < 1 || t > 6) return false;
    const b = r.read(p, c.offset, c.size);
    const x = BigInt.asIntN(8 * c.size, BigInt(`0x${b.toString("hex")}`));
    // A REAL column may keep an integral value as an integer (SQLite returns it as REAL).
    return typeof v === "number" ? Number(x) === v : x === v;
  }
  const bytes = typeof v === "string" ? Buffer.from(v, "latin1") : v instanceof Uint8Array ? v : null;
  if (!bytes || t < 12 || (t % 2 === 1) !== (text || typeof v === "string") || c.size !== bytes.length) return false;
  return r.read(p, c.offset, c.size).equals(bytes);
}
