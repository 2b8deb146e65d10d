/**
 * Writing a big value into a new file without a second full copy in memory: the row is inserted
 * with `zeroblob(N)` in the value's place (SQLite does not materialize a zeroblob), then the bytes
 * are written into the cell's payload pages through `UPDATE sqlite_dbpage` in the same transaction
 * (page writes go through the pager, like any write of the transaction). For TEXT the record's
 * serial type is then made odd: a BLOB of N bytes is 2N+12, TEXT 2N+13, the same varint length.
 *
 * In place only where nothing reads the value at insert time: a rowid table, no trigger on it, no
 * index or CHECK or generated column that could involve the column, not a STRICT table for TEXT.
 * Anywhere else the row's big values go through the stage (big-write.ts): written to pages first,
 * then inserted by SQL, so SQLite checks and indexes the real bytes (SQLite holds the value while it
 * does; we never do). TEXT into a UTF-16 file is written as its UTF-16 bytes, encoded from the
 * backup's UTF-8 as it is written (big-utf16.ts); only TEXT that is not valid UTF-8 (a `{"t"}` value,
 * which no export of a UTF-16 file writes) is still bound whole there.
 */
import { encodeValue } from "./format.js";
import { BigValue, bigValuePieces } from "./big-value.js";
import { decodeVarint, encodeVarint, PageReader } from "../db/pages.js";
import { fillValue, stageOf, writeAt, writeValue } from "./big-write.js";
import { allRows, textEncoding, type LibsqlDatabase, type LibsqlStatement } from "../db/local.js";
import { decodeText, placeOf, quoteIdent, RawText, utf16Bytes, type SqlValue, type TextEncoding } from "../db/value.js";
import { Utf16Source, Utf16Text } from "./big-utf16.js";
import { affinityOf, type Affinity } from "./affinity.js";

type Value = SqlValue | BigValue;

/** A big value read back whole (where it cannot be written in slices). */
export function materialize(v: BigValue): SqlValue {
  // A UTF-16 file's text read from its pages hands out UTF-8: its length is its UTF-16 bytes.
  if (v instanceof Utf16Source) return decodeText(Buffer.concat(Array.from(v.open(), (s) => Buffer.from(s))));
  const b = Buffer.alloc(v.length);
  let at = 0;
  for (const s of v.open()) {
    b.set(s, at);
    at += s.length;
  }
  if (at !== v.length) throw new Error(`a large value has ${at} bytes, ${v.length} were expected`);
  if (v.storage === "blob") return new Uint8Array(b.buffer, b.byteOffset, b.length);
  return decodeText(b);
}

/** Whether SQLite's numeric affinity could turn a big TEXT into a number: only text made of number characters. */
export function bigLooksNumeric(v: BigValue): boolean {
  if (v.storage !== "text") return false;
  for (const s of v.open())
    for (const b of s)
      if (!((b >= 0x30 && b <= 0x39) || b === 0x2b || b === 0x2d || b === 0x2e || b === 0x45 || b === 0x65 || b === 0x20 || (b >= 0x09 && b <= 0x0d)))
        return false;
  return true;
}

function* toBytes(pieces: Iterable<string | Uint8Array>): Generator<Uint8Array> {
  for (const p of pieces) yield typeof p === "string" ? Buffer.from(p, "utf8") : p;
}

/** `rowJson` of a row holding big values, as a big TEXT (for legacy_quarantine.row_json). */
export function bigRowJson(columns: readonly string[], values: readonly Value[]): BigValue {
  function* pieces(): Generator<string | Uint8Array> {
    let s = "{";
    for (let i = 0; i < columns.length; i++) {
      s += `${i ? "," : ""}${JSON.stringify(columns[i])}:`;
      const v = values[i] ?? null;
      if (v instanceof BigValue) {
        yield s;
        s = "";
        yield* bigValuePieces(v);
      } else s += encodeValue(v);
    }
    yield s + "}";
  }
  let length = 0;
  for (const b of toBytes(pieces())) length += b.length;
  return new BigValue("text", length, () => toBytes(pieces()), true);
}

interface Target {
  root: number;
  /** Record columns in order (lower-case names). */
  order: string[];
  /** Columns some index reads (lower-case). */
  indexed: Set<string>;
  /** Declared type of each column (lower-case name → type). */
  types: Map<string, string>;
  utf8: boolean;
  encoding: TextEncoding;
  /** Record column of each column name (virtual generated columns are not in the record). */
  record: Map<string, number>;
  /** Columns whose big values can be written in slices (null: none, the table does not allow it). */
  sliceable: Set<string> | null;
  strict: boolean;
}

/**
 * INSERTs rows that hold BigValues into `table` (column names as the INSERT lists them; a rowid
 * name for the rowid). Each value of the row keeps its bytes and storage class.
 */
export class BigInserter {
  private target: Target | undefined;
  private reader: PageReader | undefined;
  private update: LibsqlStatement | undefined;
  private readonly lastRowid: LibsqlStatement;
  constructor(
    private readonly db: LibsqlDatabase,
    private readonly table: string,
    /** Column names as listed in the INSERT, unquoted (a rowid name for the rowid). */
    private readonly columns: readonly string[],
    /** `INSERT INTO "t" ("a", …)` or INSERT OR …, without the VALUES list. */
    private readonly head: string,
  ) {
    this.lastRowid = db.prepare("SELECT last_insert_rowid()");
    this.lastRowid.raw(true);
    this.lastRowid.safeIntegers(true);
  }

  private info(): Target {
    if (this.target) return this.target;
    const db = this.db;
    const tl = allRows(db, "SELECT type, wr, strict FROM pragma_table_list WHERE name = ? AND schema = 'main'", [this.table])[0];
    const m = allRows(db, "SELECT rootpage, sql FROM sqlite_master WHERE type = 'table' AND name = ?", [this.table])[0];
    const xinfo = allRows(db, "SELECT name, type, hidden FROM pragma_table_xinfo(?)", [this.table]);
    const indexed = new Set<string>();
    const record = new Map<string, number>();
    xinfo.filter((c) => Number(c.hidden) !== 2).forEach((c, i) => record.set(String(c.name).toLowerCase(), i));
    let sliceable: Set<string> | null = new Set(this.columns.map((c) => c.toLowerCase()));
    const triggers = allRows(db, "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", [this.table]).length;
    const generated = xinfo.some((c) => Number(c.hidden) >= 2);
    if (!tl || tl.type !== "table" || Number(tl.wr) || !m || Number(m.rootpage) <= 0 || triggers || generated || /\bCHECK\b/i.test(String(m.sql ?? "")))
      sliceable = null;
    else {
      for (const ix of allRows(db, "SELECT name FROM pragma_index_list(?)", [this.table])) {
        for (const c of allRows(db, "SELECT cid, name FROM pragma_index_xinfo(?) WHERE key = 1", [String(ix.name)])) {
          if (Number(c.cid) === -2)
            sliceable = null; // an expression index could read any column
          else {
            indexed.add(String(c.name).toLowerCase());
            sliceable?.delete(String(c.name).toLowerCase());
          }
        }
        if (!sliceable) break;
      }
    }
    const stored = xinfo.filter((c) => Number(c.hidden) !== 2);
    this.target = {
      root: Number(m?.rootpage ?? 0),
      order: stored.map((c) => String(c.name).toLowerCase()),
      indexed,
      types: new Map(stored.map((c) => [String(c.name).toLowerCase(), String(c.type ?? "")])),
      ...fileEncoding(db),
      record,
      sliceable,
      strict: Boolean(Number(tl?.strict ?? 0)),
    };
    return this.target;
  }

  /**
   * SQLite writes a zeroblob without materializing it only when nothing with data follows it in the
   * record. So the first big value is inserted as one zeroblob as long as everything from it to the
   * record's end (the other big values, and the short values after them: legacy_quarantine's reason,
   * run_id, quarantined_at; a number or a blob after a big text), and the values after it as empty
   * placeholders (NULL, or x'' for a value); then the record's header, the values before (moved by
   * what the header grew), and every value from the first big one on are written in place (same
   * payload size). A value is written with the serial type SQLite gives it only where the column's
   * affinity keeps its class (TEXT under TEXT or none, an integer under INTEGER, a real under REAL, a
   * blob anywhere). Null: not possible for this row (then each big value is a zeroblob SQLite expands
   * when data follows it: the bytes are the same, SQLite's memory grows with the value).
   */
  private tailOf(values: readonly Value[], slice: boolean[], t: Target): { at: number; cols: { i: number; part: TailPart }[] } | null {
    const first = slice.indexOf(true);
    const pos = new Map(this.columns.map((c, i) => [c.toLowerCase(), i]));
    const rec = t.record.get(this.columns[first]!.toLowerCase())!;
    const cols: { i: number; part: TailPart }[] = [];
    for (const name of t.order.slice(rec + 1)) {
      const i = pos.get(name);
      if (i === undefined || t.indexed.has(name)) return null; // a default or an index would read it
      const part = tailPart(values[i]!, slice[i]!, affinityOf(t.types.get(name) ?? ""), t.encoding);
      if (!part) return null;
      cols.push({ i, part });
    }
    return cols.length ? { at: first, cols } : null;
  }

  run(values0: readonly Value[]): void {
    const t = this.info();
    const values = t.encoding === "UTF-8" ? values0 : values0.map((v) => utf16Form(v, t.encoding));
    const slice = values.map(
      (v, i) =>
        v instanceof BigValue &&
        t.sliceable !== null &&
        t.sliceable.has(this.columns[i]!.toLowerCase()) &&
        !(t.strict && v.storage === "text") &&
        (t.utf8 || v.storage === "blob" || v instanceof Utf16Text),
    );
    if (values.some((v, i) => v instanceof BigValue && !slice[i])) {
      this.staged(values, values0);
      return;
    }
    if (!slice.some(Boolean)) {
      this.insert(values, slice, null, 0);
      return;
    }
    const tail = this.tailOf(values, slice, t);
    if (tail) {
      const big = values[tail.at] as BigValue;
      const types = tail.cols.map((c) => c.part.type.length);
      const data = tail.cols.reduce((n, c) => n + c.part.size, 0);
      // The zeroblob's size Z: the values from the first big one on, and what the header grows by (its serial type's length depends on Z).
      const bigType = encodeVarint(2 * big.length + (big.storage === "text" ? 13 : 12)).length;
      let z = big.length + data;
      for (let k = 0; k < 4; k++) z = big.length + data + types.reduce((n, x) => n + x, 0) - types.length + bigType - encodeVarint(2 * z + 12).length;
      const rowid = this.insert(values, slice, tail, z);
      try {
        this.fill(t, rowid, values, slice, { ...tail, z });
        return;
      } catch (e) {
        if (!(e instanceof TailMismatch)) throw e;
        // Nothing was written yet: insert it the plain way (SQLite expands the zeroblobs).
        this.db.prepare(`DELETE FROM ${quoteIdent(this.table)} WHERE rowid = ?`).run([rowid]);
      }
    }
    const rowid = this.insert(values, slice, null, 0);
    this.fill(t, rowid, values, slice, null);
  }

  /**
   * A row whose table reads one of its big values at insert: each big value is written into the
   * stage (big-write.ts) and the row inserted by the table's own INSERT, reading them from there.
   * A value the stage does not take (a `{"t"}` text) is bound whole, as the backup holds it (`values0`).
   */
  private staged(values: readonly Value[], values0: readonly Value[]): void {
    const stage = stageOf(this.db);
    if (values.some((v) => v instanceof BigValue && !stage.takes(v))) {
      this.insert(
        values0,
        values.map(() => false),
        null,
        0,
      );
      return;
    }
    try {
      const args: unknown[] = [];
      const sql = values.map((v) => {
        if (v instanceof BigValue) {
          const { sql, args: a } = stage.place(v);
          args.push(...a);
          return sql;
        }
        return place(v, this.info().encoding, args);
      });
      this.db.prepare(`${this.head} VALUES (${sql.join(", ")})`).run(args);
    } finally {
      stage.clear();
    }
  }

  private insert(values: readonly Value[], slice: boolean[], tail: { at: number; cols: { i: number }[] } | null, z: number): bigint {
    const inTail = new Set(tail ? tail.cols.map((c) => c.i) : []);
    const args: unknown[] = [];
    const sql = values.map((v, i) => {
      if (inTail.has(i)) {
        args.push(v === null ? null : new Uint8Array(0));
        return "?";
      }
      if (v instanceof BigValue && slice[i]) {
        args.push(tail && i === tail.at ? z : v.length);
        return "zeroblob(?)";
      }
      return place(v instanceof BigValue ? materialize(v) : v, this.info().encoding, args);
    });
    this.db.prepare(`${this.head} VALUES (${sql.join(", ")})`).run(args);
    return (this.lastRowid.get([]) as unknown[])[0] as bigint;
  }

  private fill(t: Target, rowid: bigint, values: readonly Value[], slice: boolean[], tail: { at: number; cols: { part: TailPart }[]; z: number } | null): void {
    this.reader ??= new PageReader(this.db);
    this.update ??= this.db.prepare("UPDATE sqlite_dbpage SET data = ? WHERE pgno = ?");
    const reader = this.reader;
    const update = this.update;
    // With a tail, its record holds every sliced value (it checks the layout before anything is written).
    const order = tail ? [tail.at] : values.map((_, i) => i).filter((i) => slice[i]);
    for (const i of order) {
      const col = t.record.get(this.columns[i]!.toLowerCase());
      if (col === undefined) throw new Error(`column ${this.columns[i]} of ${this.table} is not in its record`);
      const v = values[i] as BigValue;
      if (tail && i === tail.at)
        fillWithTail(
          reader,
          update,
          t.root,
          rowid,
          col,
          v,
          tail.z,
          tail.cols.map((c) => c.part),
        );
      else fillValue(reader, update, t.root, rowid, col, v);
    }
  }
}

class TailMismatch extends Error {}

/** The encoding of a new file's text, and whether it is UTF-8. */
function fileEncoding(db: LibsqlDatabase): { encoding: TextEncoding; utf8: boolean } {
  const encoding = textEncoding(db);
  return { encoding, utf8: encoding === "UTF-8" };
}

/** A value's placeholder in the VALUES list (`placeOf`: its bytes kept in a file of `enc`), its argument pushed to `args`. */
function place(v: SqlValue, enc: TextEncoding, args: unknown[]): string {
  const p = placeOf(v, enc);
  if ("arg" in p) args.push(p.arg);
  return p.sql;
}

/** A big TEXT of valid UTF-8 as the UTF-16 bytes a UTF-16 file stores; any other value as it is. */
function utf16Form(v: Value, enc: TextEncoding): Value {
  return v instanceof BigValue && v.storage === "text" && v.utf8 === true && enc !== "UTF-8" && !(v instanceof Utf16Text) ? new Utf16Text(v, enc) : v;
}

/**
 * The record inserted with a zeroblob of `z` bytes at the first big value and empty placeholders
 * after it is rewritten in place: header with the real serial types, the values before (moved by
 * what the header grew), the first big value, then each value after it. Throws TailMismatch before
 * writing anything when the layout is not the one computed.
 */
function fillWithTail(reader: PageReader, update: LibsqlStatement, root: number, rowid: bigint, col: number, v: BigValue, z: number, tail: TailPart[]): void {
  const at = reader.locate(root, rowid, col, { storage: "blob", length: z });
  if (at.offset > 1 << 20) throw new TailMismatch("the values before are too large to move");
  const head = reader.read(at.payload, 0, at.offset);
  const hs = decodeVarint(head, 0);
  if (at.typeByte + 1 + tail.length !== hs.v) throw new TailMismatch("the header is not laid out as expected");
  const preTypes = head.subarray(hs.n, at.typeStart);
  const preData = head.subarray(hs.v, at.offset);
  const types = Buffer.concat([preTypes, encodeVarint(2 * v.length + (v.storage === "text" ? 13 : 12)), ...tail.map((p) => p.type)]);
  let h = types.length + 1;
  while (encodeVarint(h).length + types.length !== h) h = encodeVarint(h).length + types.length;
  const newHead = Buffer.concat([encodeVarint(h), types, preData]);
  const data = tail.reduce((n, p) => n + p.size, 0);
  if (newHead.length + v.length + data !== at.offset + z) throw new TailMismatch("the record's size would change");
  let o = newHead.length;
  writeValue(reader, update, at.payload, o, v);
  o += v.length;
  for (const p of tail) {
    if (p.big) writeValue(reader, update, at.payload, o, p.big);
    else if (p.size) writeAt(reader, update, at.payload, o, p.bytes!);
    o += p.size;
  }
  writeAt(reader, update, at.payload, 0, newHead);
}

/** A value after the first big one, as the record holds it: its serial type, its size, and its bytes (or the big value to stream). */
interface TailPart {
  type: Buffer;
  size: number;
  bytes?: Buffer;
  big?: BigValue;
}

/** The record form of a value after the first big one, or null where writing it in place could differ from what SQLite would store. */
function tailPart(v: Value, sliced: boolean, aff: Affinity, enc: TextEncoding): TailPart | null {
  const small = (type: number, bytes: Buffer): TailPart | null => (bytes.length > 1 << 16 ? null : { type: encodeVarint(type), size: bytes.length, bytes });
  if (v === null) return { type: encodeVarint(0), size: 0 };
  if (v instanceof BigValue) {
    if (!sliced || (v.storage === "text" && aff !== "TEXT" && aff !== "BLOB")) return null;
    return { type: encodeVarint(2 * v.length + (v.storage === "text" ? 13 : 12)), size: v.length, big: v };
  }
  if (v instanceof Uint8Array) return small(2 * v.length + 12, Buffer.from(v));
  if (typeof v === "string" || v instanceof RawText) {
    if (aff !== "TEXT" && aff !== "BLOB") return null;
    // A UTF-16 file stores text in UTF-16 (bytes that are not UTF-8 have no UTF-16 form: SQLite binds them).
    if (enc !== "UTF-8" && typeof v !== "string") return null;
    const bytes = typeof v !== "string" ? Buffer.from(v.bytes) : enc === "UTF-8" ? Buffer.from(v, "utf8") : utf16Bytes(v, enc);
    return small(2 * bytes.length + 13, bytes);
  }
  if (typeof v === "bigint") {
    if (aff !== "INTEGER") return null;
    // The smallest of SQLite's integer serial types 1–6 that holds it (two's complement, big-endian).
    const sizes = [1, 2, 3, 4, 6, 8];
    const k = sizes.findIndex((n) => v >= -(1n << BigInt(8 * n - 1)) && v < 1n << BigInt(8 * n - 1));
    const n = sizes[k]!;
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    return { type: encodeVarint(k + 1), size: n, bytes: b.subarray(8 - n) };
  }
  if (typeof v === "number") {
    if (aff !== "REAL") return null;
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return { type: encodeVarint(7), size: 8, bytes: b };
  }
  return null;
}
