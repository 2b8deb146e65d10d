/**
 * The row statement: how a table's rows are read as values (TEXT as exact bytes, big values from
 * the pages), the path every row takes that SQLite cannot write as a line itself (row-lines.ts).
 */
import { allRows, type LibsqlDatabase, type LibsqlStatement } from "../db/local.js";
import { decodeText, normalizeValue, RawText, quoteIdent, type SqlValue, type TextEncoding } from "../db/value.js";
import type { BackupTable } from "./format.js";
import { BigValue } from "./big-value.js";
import { bigAbove, ftsContent, indexSource, rowidSource, wholeReason, type BigCol, type BigRows } from "./big-source.js";

/** Columns that always hold an INTEGER (the rowid, its alias): read as they are. */
export function integerOnly(t: BackupTable, i: number): boolean {
  return (i === 0 && t.rowidColumn !== null) || t.columns[i] === t.rowidAlias;
}

/**
 * A GLOB pattern matching text with a character outside U+0001…U+007F, written as a literal holding
 * the bytes 0x01 and 0x7F themselves: the same pattern as `'*[^' || char(1) || '-' || char(127) || ']*'`,
 * but SQLite prepares a literal ~20 % faster than the concatenation (one per column per statement).
 */
const ASCII_ONLY_NOT = "'*[^\u0001-\u007f]*'";

/** Columns whose TEXT is read as bytes, and how many per mask value (bits of a safe integer). */
const MASK_BITS = 30;

/** TEXT up to this many bytes may take the fast path (longer: the per-value cost is small next to its bytes). */
export const FAST_TEXT_MAX = 256;

/**
 * The statement a table's rows are read with. TEXT is read as its exact bytes
 * (`CAST(c AS BLOB)`: the driver would cut a string at a NUL and abort the process on bytes that
 * are not UTF-8) and a mask per 30 columns says which values were TEXT; rows come in key order.
 *
 * Fast path (`fastAscii`, UTF-8 databases): the driver's cost is per value handed over (a blob
 * costs ~3× a string), and most values are short ASCII. A TEXT of at most FAST_TEXT_MAX bytes whose
 * every character is U+0001…U+007F (SQLite's GLOB reads any byte ≥ 0x80, valid or not, as a
 * character ≥ U+0080) and that holds no NUL (`instr` compares bytes, past a NUL) is read as the
 * string itself: ASCII is valid UTF-8, so the string has exactly the stored bytes.
 *
 * A UTF-16 `encoding` (with `bigAbove`): a TEXT whose bytes SQLite hands over short of its stored
 * length is taken as a big value too, read from the pages. SQLite 3.45 (libsql's) drops a leading
 * U+FEFF or U+FFFE (bytes FF FE or FE FF) when it reads an overflowing UTF-16 text — `CAST(c AS BLOB)`,
 * `substr`, `hex` alike — while `octet_length` still counts it; the pages hold it, as the file does
 * (the sqlite3 CLI's 3.40 and Python keep it). Without this the export, verify and the proof would all
 * agree on the text without its first character.
 */
function selectSql(t: BackupTable, fastAscii: boolean, bigAbove: number | null, where: string, encoding: TextEncoding): string {
  const utf16 = encoding !== "UTF-8";
  const exprs: string[] = [];
  const texts: string[] = [];
  const bigs: string[] = [];
  t.columns.forEach((_, i) => {
    const ref = valueRef(t, i);
    if (integerOnly(t, i)) {
      exprs.push(ref);
      return;
    }
    const slow = fastAscii ? ` AND NOT (octet_length(${ref}) <= ${FAST_TEXT_MAX} AND NOT (${ref} GLOB ${ASCII_ONLY_NOT}) AND instr(${ref}, char(0)) = 0)` : "";
    // A value above the big-value size is not read here (octet_length does not load it): its length
    // comes instead, and its bytes are read from the pages in slices (big-value.ts).
    // In a UTF-16 file also a TEXT SQLite hands over short (see above): a CASE, so that the value is
    // loaded for the comparison only when it is TEXT and not big.
    const isBig =
      bigAbove === null
        ? null
        : utf16
          ? `CASE WHEN octet_length(${ref}) > ${bigAbove} THEN 1 WHEN typeof(${ref}) <> 'text' THEN 0 ELSE octet_length(${ref}) <> length(CAST(${ref} AS BLOB)) END`
          : `octet_length(${ref}) > ${bigAbove}`;
    const big = isBig !== null ? `WHEN ${isBig} THEN octet_length(${ref}) ` : "";
    exprs.push(`CASE ${big}WHEN typeof(${ref}) = 'text'${slow} THEN CAST(${ref} AS BLOB) ELSE ${ref} END`);
    texts.push(`(typeof(${ref}) = 'text')`);
    if (isBig !== null) bigs.push(`ifnull(${isBig}, 0)`);
  });
  for (const list of [texts, bigs]) {
    for (let k = 0; k < list.length; k += MASK_BITS) {
      exprs.push(
        list
          .slice(k, k + MASK_BITS)
          .map((e, j) => (j ? `${e} * ${2 ** j}` : e))
          .join(" + "),
      );
    }
  }
  return `SELECT ${exprs.join(", ")} FROM ${quoteIdent(t.name)}${where}${orderBy(t)}`;
}

/** How value `i` of a table's rows is named in SQL (the rowid under its carried name, else the column). */
export function valueRef(t: BackupTable, i: number): string {
  return i === 0 && t.rowidColumn ? t.rowidColumn : quoteIdent(t.columns[i]!);
}

/** The order rows come in: key order (rowid, or the primary key of a WITHOUT ROWID table). */
export function orderBy(t: BackupTable): string {
  return t.name === "sqlite_sequence"
    ? " ORDER BY name, seq"
    : t.withoutRowid
      ? ` ORDER BY ${t.primaryKey.map(quoteIdent).join(", ")}`
      : t.rowidColumn
        ? ` ORDER BY ${t.rowidColumn}`
        : t.rowidAlias
          ? ` ORDER BY ${quoteIdent(t.rowidAlias)}`
          : "";
}

/** A table's prepared row statement and how to turn its raw rows into values. */
export interface RowSource {
  st: LibsqlStatement;
  /** Number of values per row (the mask columns follow them). */
  n: number;
  /** Value index of each maybe-TEXT column, in mask bit order. */
  textCols: number[];
  encoding: TextEncoding;
  /** Values above the big-value size are read from the pages (src/backup/big-source.ts). */
  big: BigRows | null;
  /** The statement reading every value whole: the fallback when the pages disagree with a row (a WITHOUT ROWID table). */
  again: (() => LibsqlStatement) | null;
  /** A WITHOUT ROWID table whose big values were read whole: why, and how many (counted as they are read). */
  whole: ReadWhole | null;
}

/** Big values a reader read whole, and why (the evidence's `readWhole` names them per table). */
export interface ReadWhole {
  reason: string;
  values: number;
}

/** A value as the row readers hand it: a big one is a BigValue (read in slices when encoded). */
export type RowValue = SqlValue | BigValue;

/** What rowStatement asks about a file for every table, read once per handle and schema version. */
interface FileFacts {
  version: bigint;
  encoding: TextEncoding;
  /** Root page of each table with a b-tree (not a virtual table). */
  roots: Map<string, number>;
  /** Each such table's stored columns in record order (every column but virtual generated ones). */
  stored: Map<string, string[]>;
}

const factsOf = new WeakMap<LibsqlDatabase, { version: LibsqlStatement; size: LibsqlStatement; facts: FileFacts | null }>();

/**
 * The file's encoding, root pages and record columns: three queries when the schema changed on this
 * handle (PRAGMA schema_version, one statement kept per handle), instead of four per table and pass.
 */
export function fileFacts(db: LibsqlDatabase): FileFacts {
  let e = factsOf.get(db);
  if (!e) {
    const [version, size] = ["PRAGMA schema_version", "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"].map((sql) => {
      const st = db.prepare(sql);
      st.raw(true);
      st.safeIntegers(true);
      return st;
    });
    factsOf.set(db, (e = { version: version!, size: size!, facts: null }));
  }
  const version = BigInt((e.version.get([]) as unknown[])[0] as bigint);
  if (e.facts?.version === version) return e.facts;
  const enc = String(allRows(db, "PRAGMA encoding")[0]?.encoding ?? "UTF-8");
  const roots = new Map<string, number>();
  const stored = new Map<string, string[]>();
  for (const r of allRows(
    db,
    "SELECT m.name AS t, m.rootpage AS root, x.name AS c, x.hidden AS h FROM sqlite_master AS m, pragma_table_xinfo(m.name) AS x WHERE m.type = 'table' AND m.rootpage > 0 ORDER BY m.name, x.cid",
  )) {
    const t = String(r.t);
    roots.set(t, Number(r.root));
    let cols = stored.get(t);
    if (!cols) stored.set(t, (cols = []));
    if (Number(r.h) !== 2) cols.push(String(r.c));
  }
  e.facts = { version, encoding: enc === "UTF-16le" || enc === "UTF-16be" ? enc : "UTF-8", roots, stored };
  return e.facts;
}

/**
 * Whether no value of the snapshot being read can be big: the main database's pages, read inside the
 * caller's transaction (so of the very snapshot its rows come from, WAL frames included), hold at
 * most bigAbove() bytes, and every stored value lies in them. Then the row statement needs neither
 * the big-value expressions nor a page reader (cheaper to prepare: a small file prepares hundreds of
 * row statements). Outside a transaction each statement reads its own snapshot: never assumed.
 */
function snapshotHoldsNoBigValue(db: LibsqlDatabase, facts: FileFacts): boolean {
  // A UTF-16 file's statements always check for TEXT SQLite hands over short (selectSql), whatever its size.
  if (!db.inTransaction || facts.encoding !== "UTF-8") return false;
  const bytes = (factsOf.get(db)!.size.get([]) as unknown[])[0] as bigint;
  return bytes <= BigInt(bigAbove());
}

/**
 * The value index of the rowid of a table whose big values are found by rowid in its pages (and whose
 * rows SQLite may write as lines in a UTF-8 file: row-lines.ts): an ordinary rowid table (not
 * virtual, not WITHOUT ROWID, not sqlite_sequence) whose rowid is carried; else null.
 */
export function pageRowid(t: BackupTable, facts: FileFacts): number | null {
  if (t.withoutRowid || t.name === "sqlite_sequence" || (!t.rowidColumn && !t.rowidAlias)) return null;
  const root = facts.roots.get(t.name);
  if (root === undefined || root <= 0) return null; // a virtual table has no b-tree of its own
  return t.rowidColumn ? 0 : t.columns.indexOf(t.rowidAlias!);
}

/**
 * Where a table's big values are read from (big-source.ts): the pages of an ordinary rowid table
 * (pageRowid) or of a WITHOUT ROWID table, in a file of any encoding (a UTF-16 file's TEXT is decoded
 * as its slices are read: big-utf16.ts); others read every value whole. The page reader is made when
 * a big value is first met (statements of its own).
 */
function bigSource(
  db: LibsqlDatabase,
  t: BackupTable,
  facts: FileFacts,
  where: string,
  fast: boolean,
): Pick<RowSource, "big" | "whole" | "again"> & { st: LibsqlStatement } {
  const prep = (above: number | null, from = t) => {
    const st = db.prepare(selectSql(from, fast && facts.encoding === "UTF-8", above, where, facts.encoding));
    st.raw(true);
    st.safeIntegers(true);
    return st;
  };
  const none = { big: null, whole: null, again: null };
  if (snapshotHoldsNoBigValue(db, facts)) return { ...none, st: prep(null) };
  // An own-content FTS table: its rows read from its content shadow table, a rowid table.
  const fts = ftsContent(t, facts);
  if (fts && "whole" in fts) return { ...none, whole: { reason: fts.whole, values: 0 }, st: prep(null) };
  if (fts) return { ...none, big: rowidSource(db, fts.root, 0, fts.recordCol, facts.encoding), st: prep(bigAbove(), fts.table) };
  const root = facts.roots.get(t.name);
  if (t.withoutRowid && root !== undefined && root > 0) {
    // Its rows are matched to its b-tree's cells by their place in key order: all of them, in order.
    if (where) return { ...none, whole: { reason: wholeReason("only some of its rows were read"), values: 0 }, st: prep(null) };
    const above = bigAbove();
    const src = indexSource(db, t, root, selectSql(t, true, above, "", facts.encoding), facts.encoding);
    if ("whole" in src) return { ...none, whole: { reason: src.whole, values: 0 }, st: prep(null) };
    return { big: src, whole: null, again: () => prep(null), st: prep(above) };
  }
  const rowidIdx = pageRowid(t, facts);
  if (rowidIdx === null) return { ...none, st: prep(null) };
  const stored = facts.stored.get(t.name) ?? [];
  const recordCol = t.columns.map((c, i) => (i === 0 && t.rowidColumn ? -1 : stored.indexOf(c)));
  return { ...none, big: rowidSource(db, root!, rowidIdx, recordCol, facts.encoding), st: prep(bigAbove()) };
}

/**
 * A reusable statement that streams a table's rows as arrays of SqlValue (BigInt integers, TEXT
 * exact); `where` (e.g. ` WHERE rowid > ?`) narrows it to some rows, still in key order. `fast`
 * false: every TEXT read as bytes (no fast path), for a statement that reads a row at a time,
 * where the fast path's saving per value is less than its cost to prepare (~half the statement's).
 */
export function rowStatement(db: LibsqlDatabase, t: BackupTable, where = "", fast = true): RowSource {
  const facts = fileFacts(db);
  const { encoding } = facts;
  const textCols = t.columns.map((_, i) => i).filter((i) => !integerOnly(t, i));
  return { ...bigSource(db, t, facts, where, fast), n: t.columns.length, textCols, encoding };
}

/** The pages of a WITHOUT ROWID table did not hold the row SQLite returned: the rest of the table is read whole. */
class PagesDisagree extends Error {}

/** The rows of a row statement (bound to `args` when it has a WHERE), as values. */
export function* iterateRows(src: RowSource, args: unknown[] = []): Generator<RowValue[]> {
  let done = 0;
  try {
    for (const row of rowsOf(src, src.st, 0, args)) {
      yield row;
      done++;
    }
  } catch (e) {
    if (!(e instanceof PagesDisagree) || !src.again) throw e;
    // Left mid-way, the statement stays active (the driver's iterator has no return()): get() resets it.
    src.st.get(args);
    // Same snapshot: the rows before it are the ones already given; from it on, every value whole.
    src.whole = { reason: wholeReason(`from row ${done + 1} on: ${e.message}`), values: 0 };
    src.big = null;
    yield* rowsOf(src, src.again(), done, args);
  }
}

function* rowsOf(src: RowSource, st: LibsqlStatement, skip: number, args: unknown[]): Generator<RowValue[]> {
  const { n, textCols, encoding, big } = src;
  const masks = Math.ceil(textCols.length / MASK_BITS);
  const above = src.whole ? bigAbove() : 0;
  let row = -1;
  for (const raw of (st as unknown as { iterate(args: unknown[]): IterableIterator<unknown[]> }).iterate(args)) {
    if (++row < skip) continue;
    if (big) {
      let bigs: BigCol[] | null = null;
      for (let k = 0; k < textCols.length; k += MASK_BITS) {
        const mask = Number(raw[n + k / MASK_BITS] as bigint);
        const bigMask = Number(raw[n + masks + k / MASK_BITS] as bigint);
        for (let j = 0; bigMask && j < MASK_BITS && k + j < textCols.length; j++) {
          // Its length came instead of its bytes: the bytes are read from the pages when encoded.
          if (bigMask & (1 << j))
            (bigs ??= []).push({ i: textCols[k + j]!, storage: mask & (1 << j) ? "text" : "blob", length: Number(raw[textCols[k + j]!] as bigint) });
        }
      }
      if (bigs && !big.take(raw, row, bigs, (i) => isText(raw, n, textCols, i)))
        throw new PagesDisagree(`the cell its b-tree holds there is not the row SQLite returned (row ${row + 1})`);
    }
    for (let k = 0; k < textCols.length; k += MASK_BITS) {
      const mask = Number(raw[n + k / MASK_BITS] as bigint);
      if (mask === 0) continue;
      for (let j = 0; j < MASK_BITS && k + j < textCols.length; j++) {
        const i = textCols[k + j]!;
        // A string came by the fast path (short ASCII, no NUL): already exact.
        if (mask & (1 << j) && !(raw[i] instanceof BigValue) && typeof raw[i] !== "string") raw[i] = decodeText(raw[i] as Uint8Array, encoding);
      }
    }
    raw.length = n;
    for (let i = 0; i < n; i++) {
      const v = raw[i];
      if (v !== null && typeof v === "object" && !(v instanceof Uint8Array) && !(v instanceof RawText) && !(v instanceof BigValue)) raw[i] = normalizeValue(v);
      // A WITHOUT ROWID table read whole: its big values are counted for the evidence.
      else if (above && (v instanceof Uint8Array || v instanceof RawText || typeof v === "string") && byteSize(v, encoding) > above) src.whole!.values++;
    }
    yield raw as RowValue[];
  }
}

/** Whether value `i` of a raw row is TEXT (its bit in the row's TEXT mask). */
function isText(raw: unknown[], n: number, textCols: number[], i: number): boolean {
  const k = textCols.indexOf(i);
  return k >= 0 && (Number(raw[n + Math.floor(k / MASK_BITS)] as bigint) & (1 << (k % MASK_BITS))) !== 0;
}

/** Bytes of a value as the row statement returned it (TEXT decoded: its bytes in the file's encoding). */
function byteSize(v: Uint8Array | RawText | string, encoding: TextEncoding): number {
  if (v instanceof RawText) return v.bytes.length;
  if (typeof v !== "string") return v.length;
  return encoding === "UTF-8" ? Buffer.byteLength(v) : 2 * v.length;
}
