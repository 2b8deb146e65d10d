/**
 * A WITHOUT ROWID table's rows straight from its pages: its rows live in an index b-tree (the
 * primary key's), in key order, and interior cells carry rows too, so an in-order walk (left child,
 * cell, …, right-most child; mirrored for a key whose columns are all DESC) meets them in the order
 * SQLite's scan of that b-tree returns them. `IndexCursor.cell(i)` is the i-th row's payload: leaf
 * pages before it are skipped by their 12-byte header (their cell count), never read whole.
 *
 * The cursor only finds a cell; what it found is checked by its caller against SQLite's own values
 * for that row (the key columns, the big values' storage class and length: src/backup/tables.ts), so
 * an order that differs from what the walk assumes is caught, never read as a wrong value.
 */
import { decodeVarint, PageFormatError, type PageReader, type Payload } from "./pages.js";

/** An interior page on the way down, and the child the walk is in (0…n, n being the right-most). */
interface Frame {
  pgno: number;
  page: Buffer;
  n: number;
  child: number;
}

export class IndexCursor {
  private readonly frames: Frame[] = [];
  /** The leaf the walk is in: its cell count, its page once a cell of it is wanted, cells passed. */
  private leaf: { pgno: number; n: number; page: Buffer | null; passed: number } | null = null;
  /** In-order index of the next cell. */
  private next = 0;
  /** An interior cell was the last one met: the walk goes into the child after it next. */
  private down = false;
  private started = false;
  private visited = 0;
  private pages = 0;

  constructor(
    private readonly r: PageReader,
    private readonly root: number,
    /** Walk from the largest key down (every key column DESC). */
    private readonly reverse: boolean,
  ) {}

  /** The payload of the i-th cell in walk order (i never smaller than the last asked). */
  cell(i: number): Payload {
    if (i < this.next) throw new PageFormatError(`row ${i} was asked after row ${this.next - 1}`);
    if (!this.started) {
      this.started = true;
      this.enter(this.root);
    }
    for (;;) {
      if (this.down) {
        this.down = false;
        const f = this.frames.at(-1)!;
        this.enter(this.childPage(f, f.child));
        continue;
      }
      const leaf = this.leaf;
      if (leaf) {
        const left = leaf.n - leaf.passed;
        if (i < this.next + left) {
          const j = leaf.passed + (i - this.next);
          leaf.passed = j + 1;
          this.next = i + 1;
          const page = (leaf.page ??= this.r.page(leaf.pgno));
          return this.payloadOf(page, leaf.pgno, this.reverse ? leaf.n - 1 - j : j, false);
        }
        this.next += left;
        this.leaf = null;
        continue;
      }
      const f = this.frames.at(-1);
      if (!f) throw new PageFormatError(`the b-tree rooted at page ${this.root} holds ${this.next} rows, fewer than SQLite returned`);
      // The cell after child `child` in walk order; none: this page is done.
      const c = this.reverse ? f.child - 1 : f.child;
      if (c < 0 || c >= f.n) {
        this.frames.pop();
        continue;
      }
      f.child = this.reverse ? f.child - 1 : f.child + 1;
      this.down = true;
      if (i === this.next++) return this.payloadOf(f.page, f.pgno, c, true);
    }
  }

  /** Goes down from page `pgno` to the first leaf in walk order. */
  private enter(pgno: number): void {
    for (;;) {
      if (++this.visited > (this.pages ||= this.r.pageCount()) || this.frames.length > 64)
        throw new PageFormatError(`the b-tree rooted at page ${this.root} loops or is deeper than any SQLite writes`);
      const head = this.r.head(pgno);
      const type = head[0];
      if (type === 0x0a) {
        this.leaf = { pgno, n: head.readUInt16BE(3), page: null, passed: 0 };
        return;
      }
      if (type !== 0x02) throw new PageFormatError(`page ${pgno} is not an index b-tree page (type ${type})`);
      const page = this.r.page(pgno);
      const n = page.readUInt16BE(3);
      const f = { pgno, page, n, child: this.reverse ? n : 0 };
      this.frames.push(f);
      pgno = this.childPage(f, f.child);
    }
  }

  /** Child `c` of an interior page: the left child of cell c, or (c = n) the right-most. */
  private childPage(f: Frame, c: number): number {
    return c < f.n ? f.page.readUInt32BE(f.page.readUInt16BE(12 + 2 * c)) : f.page.readUInt32BE(8);
  }

  /** Cell `c` of an index page: its payload (an interior cell starts with its left child's page number). */
  private payloadOf(page: Buffer, pgno: number, c: number, interior: boolean): Payload {
    const at = page.readUInt16BE((interior ? 12 : 8) + 2 * c) + (interior ? 4 : 0);
    const size = decodeVarint(page, at);
    return this.r.payloadAt(page, pgno, at + size.n, size.v, true);
  }
}
