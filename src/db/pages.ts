/**
 * Reads one value of a rowid table straight from the database's pages (the `sqlite_dbpage` virtual
 * table), in slices, without SQLite materializing it: SQLite has no incremental blob API in the
 * driver and loads a whole value even for `substr()`.
 *
 * Pages are read through the connection's pager, so inside a read transaction they are the same
 * snapshot the rows are read from (WAL frames included). The walk follows the file format
 * (https://www.sqlite.org/fileformat2.html): the table b-tree from its root page down to the leaf
 * cell holding the rowid, the record header's serial types to the value's offset and length, then
 * the cell's local payload and its overflow chain (the first 4 bytes of each overflow page name the
 * next; pointer-map pages of an auto-vacuum file are not in the chain).
 *
 * Any inconsistency (a page of the wrong kind, a chain that ends early or loops, a serial type that
 * disagrees with what SQLite reported for the value) throws: a value is never read wrong silently.
 */
import type { LibsqlDatabase, LibsqlStatement } from "./local.js";
import { droppedBuffer } from "../util/gc.js";
import { quoteString } from "./value.js";

export class PageFormatError extends Error {}

function varint(b: Uint8Array, off: number): { v: bigint; n: number } {
  let v = 0n;
  for (let i = 0; i < 8; i++) {
    const x = b[off + i];
    if (x === undefined) throw new PageFormatError("a varint runs past its page");
    v = (v << 7n) | BigInt(x & 0x7f);
    if (x < 0x80) return { v, n: i + 1 };
  }
  const x = b[off + 8];
  if (x === undefined) throw new PageFormatError("a varint runs past its page");
  return { v: (v << 8n) | BigInt(x), n: 9 };
}

/** A varint at `off` of `b` (values up to 2^53): its value and length. */
export function decodeVarint(b: Uint8Array, off: number): { v: number; n: number } {
  const r = varint(b, off);
  return { v: Number(r.v), n: r.n };
}

/** A 9-byte varint holds a two's-complement 64-bit value: a negative rowid. */
function signed(v: bigint): bigint {
  return v >= 1n << 63n ? v - (1n << 64n) : v;
}

/** SQLite's varint encoding of a non-negative number. */
export function encodeVarint(v: number): Buffer {
  if (v < 0 || v > 2 ** 53) throw new PageFormatError(`no varint for ${v} here`);
  const out: number[] = [];
  let x = BigInt(v);
  out.unshift(Number(x & 0x7fn));
  x >>= 7n;
  while (x > 0n) {
    out.unshift(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  return Buffer.from(out);
}

/** Size in bytes of a value of serial type `t` in a record. */
function serialSize(t: number): number {
  if (t < 12) return [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0][t]!;
  return (t - (t % 2 === 0 ? 12 : 13)) / 2;
}

export class PageReader {
  private readonly st: LibsqlStatement;
  readonly pageSize: number;
  /** Page size minus the reserved bytes at the end of each page. */
  readonly usable: number;
  private readonly count: LibsqlStatement;
  private readonly linkSt: LibsqlStatement;
  /** One page buffer reused for overflow pages a caller overwrites whole (see `segments`). */
  private scratch: Buffer | undefined;
  private headSt: LibsqlStatement | undefined;
  private readonly schemaSql: string;
  constructor(
    private readonly db: LibsqlDatabase,
    schema = "main",
  ) {
    this.schemaSql = schema === "main" ? "'main'" : quoteString(schema);
    this.st = db.prepare(`SELECT data FROM sqlite_dbpage(${this.schemaSql}) WHERE pgno = ?`);
    this.st.raw(true);
    const p1 = this.page(1);
    this.pageSize = p1.length;
    this.usable = this.pageSize - p1[20]!;
    this.count = db.prepare("PRAGMA page_count");
    this.count.raw(true);
    this.linkSt = db.prepare(`SELECT substr(data, 1, 4) FROM sqlite_dbpage(${this.schemaSql}) WHERE pgno = ?`);
    this.linkSt.raw(true);
  }

  /** The first 4 bytes of an overflow page (the next page of its chain), without reading the page. */
  private link(n: number): number {
    const d = (this.linkSt.get(n) as unknown[] | undefined)?.[0];
    if (!(d instanceof Uint8Array) || d.length !== 4) throw new PageFormatError(`page ${n} cannot be read`);
    return ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
  }

  /** The first 12 bytes of page `n` (a b-tree page's header, page 1 excepted), without reading the page. */
  head(n: number): Buffer {
    this.headSt ??= this.db.prepare(`SELECT substr(data, 1, 12) FROM sqlite_dbpage(${this.schemaSql}) WHERE pgno = ?`).raw(true);
    const d = (this.headSt.get(n) as unknown[] | undefined)?.[0];
    if (!(d instanceof Uint8Array) || d.length !== 12) throw new PageFormatError(`page ${n} cannot be read`);
    return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  }

  /** Pages in the file now (a writer's transaction adds pages). */
  pageCount(): number {
    return Number((this.count.get([]) as unknown[])[0]);
  }

  page(n: number): Buffer {
    const r = this.st.get(n) as unknown[] | undefined;
    const d = r?.[0];
    if (!(d instanceof Uint8Array)) throw new PageFormatError(`page ${n} cannot be read`);
    droppedBuffer(d.byteLength);
    return Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  }

  /** The leaf page and cell offset holding `rowid` in the table b-tree rooted at `root`. */
  private findCell(root: number, rowid: bigint): { page: Buffer; pgno: number; cell: number } {
    let pg = root;
    for (let depth = 0; depth < 64; depth++) {
      const b = this.page(pg);
      const h = pg === 1 ? 100 : 0;
      const type = b[h];
      const n = b.readUInt16BE(h + 3);
      if (type === 0x0d) {
        let lo = 0;
        let hi = n - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          const cell = b.readUInt16BE(h + 8 + 2 * mid);
          const size = varint(b, cell);
          const key = signed(varint(b, cell + size.n).v);
          if (key === rowid) return { page: b, pgno: pg, cell };
          if (key < rowid) lo = mid + 1;
          else hi = mid - 1;
        }
        throw new PageFormatError(`rowid ${rowid} is not in its leaf page ${pg}`);
      }
      if (type !== 0x05) throw new PageFormatError(`page ${pg} is not a table b-tree page (type ${type})`);
      // The first cell whose key (the largest rowid of its left subtree) is >= rowid; else the right-most child.
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const cell = b.readUInt16BE(h + 12 + 2 * mid);
        if (signed(varint(b, cell + 4).v) < rowid) lo = mid + 1;
        else hi = mid;
      }
      pg = lo < n ? b.readUInt32BE(b.readUInt16BE(h + 12 + 2 * lo)) : b.readUInt32BE(h + 8);
    }
    throw new PageFormatError(`the b-tree rooted at page ${root} is deeper than any SQLite writes`);
  }

  /** The payload of the cell holding `rowid`: its size, leaf page, local part and first overflow page. */
  private payload(root: number, rowid: bigint): Payload {
    const { page, pgno, cell } = this.findCell(root, rowid);
    const ps = varint(page, cell);
    const rid = varint(page, cell + ps.n);
    return this.payloadAt(page, pgno, cell + ps.n + rid.n, Number(ps.v), false);
  }

  /**
   * A cell's payload of `size` bytes starting at `start` of page `pgno`: how much of it is local
   * (the file format's rule differs for table leaves and index pages) and its first overflow page.
   */
  payloadAt(page: Buffer, pgno: number, start: number, size: number, index: boolean): Payload {
    const U = this.usable;
    const X = index ? Math.floor(((U - 12) * 64) / 255) - 23 : U - 35;
    let local = size;
    if (size > X) {
      const M = Math.floor(((U - 12) * 32) / 255) - 23;
      const K = M + ((size - M) % (U - 4));
      local = K <= X ? K : M;
    }
    if (start + local + (local < size ? 4 : 0) > page.length) throw new PageFormatError(`a cell of page ${pgno} runs past its page`);
    return { size, leaf: pgno, start, local, overflow: local < size ? page.readUInt32BE(start + local) : 0 };
  }

  /**
   * The pieces of bytes [from, from + len) of a payload, in order: each a page (read now: a caller
   * may change it and write it back), its number and the range of it that holds them.
   *
   * `overwrite`: the caller replaces the whole range. An overflow page whose whole content is in it
   * then comes as one reused buffer holding only its link (read as 4 bytes) — the caller fills the
   * rest and writes it back before asking for the next — so writing a value allocates no buffer per
   * page (a page read from the driver is a new buffer each time; at 100 MB of pages the garbage
   * waiting for V8's collector was most of the import's peak).
   */
  *segments(p: Payload, from: number, len: number, overwrite = false): Generator<{ pgno: number; page: Buffer; start: number; end: number }> {
    if (from + len > p.size) throw new PageFormatError("a value runs past its record");
    const end = from + len;
    if (from < p.local) yield { pgno: p.leaf, page: this.page(p.leaf), start: p.start + from, end: p.start + Math.min(p.local, end) };
    let pos = p.local; // payload offset of the next overflow page's content
    let next = p.overflow;
    const maxPages = Math.ceil((p.size - p.local) / (this.usable - 4));
    const pageCount = this.pageCount();
    let pages = 0;
    while (pos < end) {
      if (next === 0 || next > pageCount || ++pages > maxPages) throw new PageFormatError(`the overflow chain ends at page ${next} before the value does`);
      const n = Math.min(this.usable - 4, p.size - pos);
      const whole = overwrite && this.usable === this.pageSize && n === this.usable - 4 && pos >= from && pos + n <= end;
      if (whole) {
        const b = (this.scratch ??= Buffer.alloc(this.pageSize));
        const link = this.link(next);
        b.writeUInt32BE(link, 0);
        yield { pgno: next, page: b, start: 4, end: 4 + n };
        next = link;
      } else if (pos + n > from) {
        const b = this.page(next);
        yield { pgno: next, page: b, start: 4 + Math.max(0, from - pos), end: 4 + Math.min(n, end - pos) };
        next = b.readUInt32BE(0);
      } else {
        // A page before the range: only its link is needed.
        next = this.link(next);
      }
      pos += n;
    }
  }

  /** Bytes [from, from + len) of a payload, copied (for small ranges). */
  read(p: Payload, from: number, len: number): Buffer {
    return Buffer.concat([...this.slices(p, from, len)]);
  }

  /** Slices of bytes [from, from + len) of a payload (views into page buffers). */
  *slices(p: Payload, from: number, len: number): Generator<Buffer> {
    for (const s of this.segments(p, from, len)) yield s.page.subarray(s.start, s.end);
  }

  /**
   * The value of record column `col` (the table's columns in declaration order, virtual generated
   * columns excepted) of row `rowid`, as slices. `expect` is what SQLite reports for it (`typeof`,
   * `octet_length`): a value that disagrees is refused.
   */
  value(root: number, rowid: bigint, col: number, expect: { storage: "blob" | "text"; length: number }): Iterable<Buffer> {
    const at = this.locate(root, rowid, col, expect);
    return this.slices(at.payload, at.offset, at.length);
  }

  /** Where the value is: its payload, its offset and length there, and the offset of the last byte of its serial type. */
  locate(
    root: number,
    rowid: bigint,
    col: number,
    expect: { storage: "blob" | "text"; length: number },
  ): { payload: Payload; offset: number; length: number; typeByte: number; typeStart: number } {
    const p = this.payload(root, rowid);
    const cols = this.record(p, `row ${rowid}`);
    const c = cols[col];
    if (!c) throw new PageFormatError(`row ${rowid} has no column ${col} in its record`);
    const storage = c.type >= 12 ? (c.type % 2 === 0 ? "blob" : "text") : "other";
    if (storage !== expect.storage || c.size !== expect.length) {
      throw new PageFormatError(
        `row ${rowid}, column ${col}: the page holds a ${storage} of ${c.size} bytes where SQLite reports a ${expect.storage} of ${expect.length}`,
      );
    }
    return { payload: p, offset: c.offset, length: c.size, typeByte: c.typeEnd, typeStart: c.typeStart };
  }

  /**
   * A record's columns (its header's serial types, in order): each one's serial type, offset and
   * size in the payload, and where its serial type sits in the header. `what` names the row in errors.
   */
  record(p: Payload, what: string): RecordColumn[] {
    // The record header: its size (a varint), then one serial type per column.
    const head = Buffer.concat([...this.slices(p, 0, Math.min(p.size, 9))]);
    const hs = varint(head, 0);
    const hdrSize = Number(hs.v);
    if (hdrSize > p.size) throw new PageFormatError(`${what}: a record header larger than its record`);
    const hdr = Buffer.concat([...this.slices(p, 0, hdrSize)]);
    const out: RecordColumn[] = [];
    let off = hs.n;
    let at = hdrSize;
    while (off < hdrSize) {
      const t = varint(hdr, off);
      const type = Number(t.v);
      const size = serialSize(type);
      out.push({ type, offset: at, size, typeStart: off, typeEnd: off + t.n - 1 });
      off += t.n;
      at += size;
    }
    if (at > p.size) throw new PageFormatError(`${what}: a record longer than its payload`);
    return out;
  }
}

/** One column of a record: its serial type, its bytes' offset and size in the payload, its serial type's first and last byte in the header. */
export interface RecordColumn {
  type: number;
  offset: number;
  size: number;
  typeStart: number;
  typeEnd: number;
}

/** A cell's payload: its size, leaf page, where its local part starts there and how long it is, the first overflow page. */
export interface Payload {
  size: number;
  leaf: number;
  start: number;
  local: number;
  overflow: number;
}
