import { createHash } from "node:crypto";
import { readCatalogSync, type TableInfo } from "../db/catalog.js";
import { allRows, openReadOnly, type LibsqlDatabase, type LibsqlStatement } from "../db/local.js";
import { decodeText, normalizeValue, RawText, quoteIdent, type SqlValue, type TextEncoding } from "../db/value.js";
import { encodeRow, encodeValue, type BackupTable } from "./format.js";
import { PageReader } from "../db/pages.js";
import { BigValue, bigValueBytes, writeBigValue, type RowOut } from "./big-value.js";

const ROWID_NAMES = ["rowid", "_rowid_", "oid"];

/**
 * A virtual table carried through its rows: FTS3/FTS4/FTS5 that hold their own content and rtree
 * (backed up as rowid + columns, re-indexed by inserting). External-content FTS tables are rebuilt
 * from their content table; contentless ones hold nothing that can be read back.
 */
function carriesRows(t: TableInfo): boolean {
  return t.virtual && t.carry === "rows";
}
/** @deprecated the name predates FTS3/FTS4/rtree: same as carriesRows. */
export const isContentFts = carriesRows;

/** How a table is carried in a backup: which values, in which order, with or without its rowid. */
export function backupTable(t: TableInfo, rows: bigint): BackupTable {
  const cols = t.columns.filter((c) => c.hidden === 0); // not a virtual table's hidden columns, not generated ones
  const colNames = cols.map((c) => c.name);
  const lower = new Set(colNames.map((c) => c.toLowerCase()));
  const rowidColumn = t.withoutRowid || t.rowidAlias ? null : t.virtual ? "rowid" : (ROWID_NAMES.find((n) => !lower.has(n)) ?? null);
  const primaryKey = cols
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
  return {
    name: t.name,
    sql: t.sql,
    columns: rowidColumn ? [rowidColumn, ...colNames] : colNames,
    rowidColumn,
    rowidAlias: t.rowidAlias,
    withoutRowid: t.withoutRowid,
    primaryKey,
    types: rowidColumn ? ["", ...cols.map((c) => c.type)] : cols.map((c) => c.type),
    rows: rows <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(rows) : rows.toString(),
  };
}

/** Every table a backup carries as rows (ordinary tables, virtual tables with own content), plus sqlite_sequence last. */
export function listBackupTables(db: LibsqlDatabase): BackupTable[] {
  const carried = readCatalogSync(db).filter((t) => t.carry === "rows");
  const seq = allRows(db, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'");
  const counts = countsOf(db, [...carried.map((t) => t.name), ...(seq.length ? ["sqlite_sequence"] : [])]);
  const out = carried.map((t, i) => backupTable(t, counts[i]!));
  if (seq.length) {
    out.push({
      name: "sqlite_sequence",
      sql: String(seq[0]!.sql),
      columns: ["name", "seq"],
      rowidColumn: null,
      rowidAlias: null,
      withoutRowid: false,
      primaryKey: [],
      types: ["", ""],
      rows: Number(counts[carried.length]!),
    });
  }
  return out;
}

/** Virtual tables rebuilt, not carried: external-content FTS indexes (CREATE statement, rebuilt from their content table). */
export function listRebuiltTables(db: LibsqlDatabase): { name: string; sql: string }[] {
  return readCatalogSync(db)
    .filter((t) => t.carry === "rebuild")
    .map((t) => ({ name: t.name, sql: t.sql }));
}

/** Tables counted per statement (a compound SELECT; SQLite allows 500 terms by default). */
const COUNTS_PER_STATEMENT = 200;

/** `count(*)` of each table, a few hundred tables per statement (one prepared statement per table costs more than the count of a small one). */
function countsOf(db: LibsqlDatabase, names: string[]): bigint[] {
  const out: bigint[] = [];
  for (let k = 0; k < names.length; k += COUNTS_PER_STATEMENT) {
    const part = names.slice(k, k + COUNTS_PER_STATEMENT);
    const rows = allRows(db, part.map((n, i) => `SELECT ${i} AS i, count(*) AS n FROM ${quoteIdent(n)}`).join(" UNION ALL "));
    const byIndex = new Map(rows.map((r) => [Number(r.i), r.n as bigint]));
    for (let i = 0; i < part.length; i++) out.push(byIndex.get(i)!);
  }
  return out;
}

/** Columns that always hold an INTEGER (the rowid, its alias): read as they are. */
function integerOnly(t: BackupTable, i: number): boolean {
  return (i === 0 && t.rowidColumn !== null) || t.columns[i] === t.rowidAlias;
}

/** A GLOB pattern matching text with a character outside U+0001…U+007F (a constant: SQLite evaluates it once). */
const ASCII_ONLY_NOT = "'*[^' || char(1) || '-' || char(127) || ']*'";

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
 */
function selectSql(t: BackupTable, fastAscii = false, bigAbove: number | null = null): string {
  const exprs: string[] = [];
  const texts: string[] = [];
  const bigs: string[] = [];
  t.columns.forEach((c, i) => {
    const ref = i === 0 && t.rowidColumn ? t.rowidColumn : quoteIdent(c);
    if (integerOnly(t, i)) {
      exprs.push(ref);
      return;
    }
    const slow = fastAscii ? ` AND NOT (octet_length(${ref}) <= ${FAST_TEXT_MAX} AND NOT (${ref} GLOB ${ASCII_ONLY_NOT}) AND instr(${ref}, char(0)) = 0)` : "";
    // A value above the big-value size is not read here (octet_length does not load it): its length
    // comes instead, and its bytes are read from the pages in slices (big-value.ts).
    const big = bigAbove !== null ? `WHEN octet_length(${ref}) > ${bigAbove} THEN octet_length(${ref}) ` : "";
    exprs.push(`CASE ${big}WHEN typeof(${ref}) = 'text'${slow} THEN CAST(${ref} AS BLOB) ELSE ${ref} END`);
    texts.push(`(typeof(${ref}) = 'text')`);
    if (bigAbove !== null) bigs.push(`ifnull(octet_length(${ref}) > ${bigAbove}, 0)`);
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
  const order =
    t.name === "sqlite_sequence"
      ? " ORDER BY name, seq"
      : t.withoutRowid
        ? ` ORDER BY ${t.primaryKey.map(quoteIdent).join(", ")}`
        : t.rowidColumn
          ? ` ORDER BY ${t.rowidColumn}`
          : t.rowidAlias
            ? ` ORDER BY ${quoteIdent(t.rowidAlias)}`
            : "";
  return `SELECT ${exprs.join(", ")} FROM ${quoteIdent(t.name)}${order}`;
}

/** A table's prepared row statement and how to turn its raw rows into values. */
interface RowSource {
  st: LibsqlStatement;
  /** Number of values per row (the mask columns follow them). */
  n: number;
  /** Value index of each maybe-TEXT column, in mask bit order. */
  textCols: number[];
  encoding: TextEncoding;
  /** Values above the big-value size are read from the pages (an ordinary rowid table of a UTF-8 file). */
  big: { reader: () => PageReader; root: number; rowidIdx: number; recordCol: number[] } | null;
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

const factsOf = new WeakMap<LibsqlDatabase, { version: LibsqlStatement; facts: FileFacts | null }>();

/**
 * The file's encoding, root pages and record columns: three queries when the schema changed on this
 * handle (PRAGMA schema_version, one statement kept per handle), instead of four per table and pass.
 */
function fileFacts(db: LibsqlDatabase): FileFacts {
  let e = factsOf.get(db);
  if (!e) {
    const st = db.prepare("PRAGMA schema_version");
    st.raw(true);
    st.safeIntegers(true);
    factsOf.set(db, (e = { version: st, facts: null }));
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
 * Where a table's big values can be read from the pages: an ordinary rowid table (not virtual, not
 * WITHOUT ROWID, not sqlite_sequence) whose rowid is carried. Others read every value whole. The
 * page reader is made when a big value is first met (two statements of its own).
 */
function bigSource(db: LibsqlDatabase, t: BackupTable, facts: FileFacts): RowSource["big"] {
  if (facts.encoding !== "UTF-8" || t.withoutRowid || t.name === "sqlite_sequence" || (!t.rowidColumn && !t.rowidAlias)) return null;
  const root = facts.roots.get(t.name);
  if (root === undefined || root <= 0) return null; // a virtual table has no b-tree of its own
  const stored = facts.stored.get(t.name) ?? [];
  const recordCol = t.columns.map((c, i) => (i === 0 && t.rowidColumn ? -1 : stored.indexOf(c)));
  let reader: PageReader | null = null;
  return { reader: () => (reader ??= new PageReader(db)), root, rowidIdx: t.rowidColumn ? 0 : t.columns.indexOf(t.rowidAlias!), recordCol };
}

/** A reusable statement that streams a table's rows as arrays of SqlValue (BigInt integers, TEXT exact). */
export function rowStatement(db: LibsqlDatabase, t: BackupTable): RowSource {
  const facts = fileFacts(db);
  const { encoding } = facts;
  const big = bigSource(db, t, facts);
  const st = db.prepare(selectSql(t, encoding === "UTF-8", big ? Math.max(64, bigValueBytes()) : null));
  st.raw(true);
  st.safeIntegers(true);
  const textCols = t.columns.map((_, i) => i).filter((i) => !integerOnly(t, i));
  return { st, n: t.columns.length, textCols, encoding, big };
}

export function* iterateRows(src: RowSource): Generator<RowValue[]> {
  const { n, textCols, encoding, big } = src;
  const masks = Math.ceil(textCols.length / MASK_BITS);
  for (const raw of (src.st as unknown as { iterate(): IterableIterator<unknown[]> }).iterate()) {
    for (let k = 0; k < textCols.length; k += MASK_BITS) {
      const mask = Number(raw[n + k / MASK_BITS] as bigint);
      const bigMask = big ? Number(raw[n + masks + k / MASK_BITS] as bigint) : 0;
      if (mask === 0 && bigMask === 0) continue;
      for (let j = 0; j < MASK_BITS && k + j < textCols.length; j++) {
        const i = textCols[k + j]!;
        if (bigMask & (1 << j)) {
          // Its length came instead of its bytes: the bytes are read from the pages when encoded.
          const storage = mask & (1 << j) ? "text" : "blob";
          const length = Number(raw[i] as bigint);
          const rowid = raw[big!.rowidIdx] as bigint;
          const { reader, root } = big!;
          const col = big!.recordCol[i]!;
          raw[i] = new BigValue(storage, length, () => reader().value(root, rowid, col, { storage, length }));
        } else if (mask & (1 << j)) {
          // A string came by the fast path (short ASCII, no NUL): already exact.
          if (typeof raw[i] !== "string") raw[i] = decodeText(raw[i] as Uint8Array, encoding);
        }
      }
    }
    raw.length = n;
    for (let i = 0; i < n; i++) {
      const v = raw[i];
      if (v !== null && typeof v === "object" && !(v instanceof Uint8Array) && !(v instanceof RawText) && !(v instanceof BigValue)) raw[i] = normalizeValue(v);
    }
    yield raw as RowValue[];
  }
}

/** Whether a row holds a big value (then it is encoded in pieces: encodeRowParts). */
export function hasBig(values: readonly RowValue[]): boolean {
  for (const v of values) if (v instanceof BigValue) return true;
  return false;
}

/** A row's canonical line (without its newline) written to `out` in pieces, big values in slices. */
export function encodeRowParts(values: readonly RowValue[], out: RowOut): void {
  let s = "[";
  for (let i = 0; i < values.length; i++) {
    if (i) s += ",";
    const v = values[i]!;
    if (v instanceof BigValue) {
      out.part(s);
      s = "";
      writeBigValue(v, out);
    } else s += encodeValue(v);
  }
  out.part(s + "]");
}

/**
 * The 1 MB batching buffer every LineHasher of the thread shares: the import keeps one hasher per
 * table until its parity check, and one buffer each (175 MB for a vox file of 175 tables) was most
 * of the cutover's peak RSS. The bytes in it belong to `owner`; another hasher flushes them into the
 * owner's hash before it writes, so each hash still sees its own bytes in order.
 */
const batch = { buf: Buffer.allocUnsafe(1 << 20), used: 0, owner: null as LineHasher | null };

/**
 * SHA-256 over lines (each + "\n"), fed through the shared 1 MB buffer: no string is built and
 * flattened per chunk and the hash is updated once per MB (a line longer than the buffer: directly).
 */
export class LineHasher implements RowOut {
  private readonly hash = createHash("sha256");
  line(text: string): void {
    this.part(text);
    this.part("\n");
  }
  /** A row: in pieces when it holds a big value. */
  row(values: readonly RowValue[]): void {
    if (hasBig(values)) {
      encodeRowParts(values, this);
      this.part("\n");
    } else this.line(encodeRow(values as SqlValue[]));
  }
  bytes(b: Buffer): void {
    this.flush();
    this.hash.update(b);
  }
  /** Part of a line (no newline added). */
  part(text: string): void {
    if (batch.owner !== this) {
      batch.owner?.flush();
      batch.owner = this;
    }
    if (batch.used + text.length * 3 + 1 > batch.buf.length) {
      this.flush();
      if (text.length * 3 + 1 > batch.buf.length) {
        this.hash.update(text, "utf8");
        return;
      }
    }
    batch.used += batch.buf.write(text, batch.used, "utf8");
  }
  private flush(): void {
    if (batch.owner !== this) return;
    if (batch.used) this.hash.update(batch.buf.subarray(0, batch.used));
    batch.used = 0;
  }
  digest(): string {
    this.flush();
    if (batch.owner === this) batch.owner = null;
    return this.hash.digest("hex");
  }
}

/** Row count and content hash of a table as the backup would carry it (nothing written). */
export function hashTable(db: LibsqlDatabase, t: BackupTable): { rows: number; sha256: string } {
  const h = new LineHasher();
  let rows = 0;
  for (const r of iterateRows(rowStatement(db, t))) {
    h.row(r);
    rows++;
  }
  return { rows, sha256: h.digest() };
}

/** Every table's columns, row count and content hash of a live database, in one read transaction (nothing written). */
export function hashDatabase(dbPath: string): { name: string; columns: string[]; rows: number; sha256: string }[] {
  const db = openReadOnly(dbPath);
  try {
    db.exec("BEGIN");
    const tables = listBackupTables(db).map((t) => ({ name: t.name, columns: t.columns, ...hashTable(db, t) }));
    db.exec("COMMIT");
    return tables;
  } finally {
    db.close();
  }
}
