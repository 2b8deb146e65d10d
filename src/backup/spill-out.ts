/**
 * A reader's spill file (export-split.ts): the row lines of the tables a reader could not hand to the
 * backup's writer in their turn, written through one 1 MB buffer and hashed as written, so that the
 * writer's copy can be checked against the bytes as they were read. The reader worker spills every
 * table it reads; the main thread the tables it takes from the end, once its own part is written.
 */
import { createHash } from "node:crypto";
import { writeSync } from "node:fs";
import type { LibsqlDatabase } from "../db/local.js";
import type { SqlValue } from "../db/value.js";
import type { RowOut } from "./big-value.js";
import { encodeRow, type BackupTable } from "./format.js";
import { encodeRowParts, hasBig } from "./tables.js";
import { LineRun, readRows } from "./row-lines.js";
import type { ReadWhole } from "./row-source.js";

const NEWLINE = Buffer.from("\n");

/** Where a reader put a table's row lines in its spill file. */
export interface Spilled {
  offset: number;
  length: number;
  rows: number;
  /** Big values read whole (a WITHOUT ROWID table its pages could not serve), and why. */
  whole: ReadWhole | null;
  /** The sha256 of the range as the reader wrote it (the writer's hash of its copy must equal it). */
  sha256: string;
}

/** Row lines into the spill file through one 1 MB buffer (a line longer than it: written directly). */
export class SpillOut implements RowOut {
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  offset = 0;
  /** The table's bytes as written to the spill file (the writer's hash of its copy must equal it). */
  private hash = createHash("sha256");
  constructor(private readonly fd: number) {}
  part(text: string): void {
    if (this.used + text.length * 3 > this.buf.length) {
      this.flush();
      if (text.length * 3 > this.buf.length) return this.bytes(Buffer.from(text, "utf8"));
    }
    this.used += this.buf.write(text, this.used, "utf8");
  }
  bytes(b: Buffer): void {
    this.flush();
    this.put(b);
  }
  /** A line SQLite wrote (its bytes) and its newline, copied into the buffer. */
  line(b: Buffer): void {
    if (this.used + b.length + 1 > this.buf.length) {
      this.flush();
      if (b.length + 1 > this.buf.length) return this.bytes(Buffer.concat([b, NEWLINE]));
    }
    this.used += b.copy(this.buf, this.used);
    this.buf[this.used++] = 10;
  }
  flush(): void {
    if (this.used) this.put(this.buf.subarray(0, this.used));
    this.used = 0;
  }
  /** The hash of the table's bytes written since the last call (after \`flush\`). */
  tableSha256(): string {
    const h = this.hash.digest("hex");
    this.hash = createHash("sha256");
    return h;
  }
  private put(b: Uint8Array): void {
    this.hash.update(b);
    for (let off = 0; off < b.length;) off += writeSync(this.fd, b, off, b.length - off);
    this.offset += b.length;
  }
}

/**
 * Reads one table into the spill file, row lines exactly as the writer would get them: yields the
 * rows read so far every 1,024 rows (the caller may count them, or give its event loop a turn),
 * returns where the table's lines are.
 */
export function* spillTable(db: LibsqlDatabase, t: BackupTable, out: SpillOut): Generator<number, Spilled> {
  const offset = out.offset;
  let rows = 0;
  let tick = 0x400;
  let whole: ReadWhole | null = null;
  for (const row of readRows(db, t, (w) => (whole = w))) {
    if (row instanceof LineRun) {
      out.line(row.lines);
      rows += row.rows;
    } else {
      if (Buffer.isBuffer(row)) out.line(row);
      else {
        if (hasBig(row)) encodeRowParts(row, out);
        else out.part(encodeRow(row as SqlValue[]));
        out.part("\n");
      }
      rows++;
    }
    if (rows >= tick) {
      tick = (rows & ~0x3ff) + 0x400;
      yield rows;
    }
  }
  out.flush();
  return { offset, length: out.offset - offset, rows, whole, sha256: out.tableSha256() };
}
