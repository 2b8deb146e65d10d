/**
 * Writing a big value into a new file without a second full copy in memory: the row is inserted
 * with `zeroblob(N)` in the value's place (SQLite does not materialize a zeroblob), then the bytes
 * are written into the cell's payload pages through `UPDATE sqlite_dbpage` in the same transaction
 * (page writes go through the pager, like any write of the transaction). For TEXT the record's
 * serial type is then made odd: a BLOB of N bytes is 2N+12, TEXT 2N+13, the same varint length.
 *
 * Only where nothing reads the value at insert time: a rowid table, no trigger on it, no index or
 * CHECK or generated column that could involve the column, not a STRICT table for TEXT. Anywhere
 * else the value is bound whole (memory grows with it, as before).
 */
import { encodeValue } from "./format.js";
import { BigValue, bigValuePieces } from "./big-value.js";
import { PageReader } from "../db/pages.js";
import { allRows, type LibsqlDatabase, type LibsqlStatement } from "../db/local.js";
import { decodeText, quoteIdent, RawText, type SqlValue } from "../db/value.js";

type Value = SqlValue | BigValue;

/** A big value read back whole (where it cannot be written in slices). */
export function materialize(v: BigValue): SqlValue {
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
    const xinfo = allRows(db, "SELECT name, hidden FROM pragma_table_xinfo(?)", [this.table]);
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
          else if (sliceable) sliceable.delete(String(c.name).toLowerCase());
        }
        if (!sliceable) break;
      }
    }
    this.target = { root: Number(m?.rootpage ?? 0), record, sliceable, strict: Boolean(Number(tl?.strict ?? 0)) };
    return this.target;
  }

  run(values: readonly Value[]): void {
    const t = this.info();
    const slice = values.map(
      (v, i) => v instanceof BigValue && t.sliceable !== null && t.sliceable.has(this.columns[i]!.toLowerCase()) && !(t.strict && v.storage === "text"),
    );
    const args: unknown[] = [];
    const sql = values.map((v, i) => {
      if (v instanceof BigValue && slice[i]) {
        args.push(v.length);
        return "zeroblob(?)";
      }
      const w = v instanceof BigValue ? materialize(v) : v;
      args.push(w instanceof RawText ? w.bytes : w);
      return w instanceof RawText ? "CAST(? AS TEXT)" : "?";
    });
    this.db.prepare(`${this.head} VALUES (${sql.join(", ")})`).run(args);
    if (!slice.some(Boolean)) return;
    const rowid = (this.lastRowid.get([]) as unknown[])[0] as bigint;
    this.reader ??= new PageReader(this.db);
    this.update ??= this.db.prepare("UPDATE sqlite_dbpage SET data = ? WHERE pgno = ?");
    values.forEach((v, i) => {
      if (!slice[i]) return;
      const col = t.record.get(this.columns[i]!.toLowerCase());
      if (col === undefined) throw new Error(`column ${this.columns[i]} of ${this.table} is not in its record`);
      fillValue(this.reader!, this.update!, t.root, rowid, col, v as BigValue);
    });
  }
}

/** Writes `v`'s bytes over the zeroblob at record column `col` of `rowid`, then marks it TEXT when it is. */
export function fillValue(reader: PageReader, update: LibsqlStatement, root: number, rowid: bigint, col: number, v: BigValue): void {
  const at = reader.locate(root, rowid, col, { storage: "blob", length: v.length });
  const src = v.open()[Symbol.iterator]();
  try {
    let cur: Uint8Array = new Uint8Array(0);
    let pos = 0;
    for (const seg of reader.segments(at.payload, at.offset, at.length)) {
      let o = seg.start;
      while (o < seg.end) {
        if (pos >= cur.length) {
          const n = src.next();
          if (n.done) throw new Error(`a large value of ${quoteIdent(String(rowid))} ended before its ${v.length} bytes`);
          cur = n.value;
          pos = 0;
          continue;
        }
        const k = Math.min(seg.end - o, cur.length - pos);
        seg.page.set(cur.subarray(pos, pos + k), o);
        o += k;
        pos += k;
      }
      update.run([seg.page, seg.pgno]);
    }
    for (;;) {
      if (pos < cur.length) throw new Error(`a large value is longer than the ${v.length} bytes it announced`);
      const n = src.next();
      if (n.done) break;
      cur = n.value;
      pos = 0;
    }
  } finally {
    src.return?.();
  }
  if (v.storage === "text") {
    for (const seg of reader.segments(at.payload, at.typeByte, 1)) {
      seg.page[seg.start]! |= 1;
      update.run([seg.page, seg.pgno]);
    }
  }
}
