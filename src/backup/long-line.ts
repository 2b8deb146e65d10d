/**
 * Reading a backup in constant memory, long lines included: a line longer than the big-value size
 * (a row holding a big value) is never held whole. It is handed out in pieces (each hashed as it
 * comes), and parsed as a canonical row as it streams: small values are decoded as usual, a string
 * value above the big-value size becomes a BigValue that re-reads its bytes from the file (the range
 * between its quotes) when opened.
 */
import { closeSync, openSync, readSync } from "node:fs";
import type { Line, LongLine } from "../util/lines.js";
import { Base64Decoder, BigValue, bigValueBytes, JsonTextDecoder, Utf8Check, type StringDecoder } from "./big-value.js";

const QUOTE = Buffer.from('"');
import { decodeValue, DecodeError, encodeValue } from "./format.js";
import type { RowValue } from "./row-source.js";

/**
 * Lines longer than this are read in pieces, and string values longer than this in them are
 * BigValues (1 MB, or the big-value size when a test lowers it below that).
 */
export function streamAbove(): number {
  return Math.min(1 << 20, bigValueBytes());
}

/** A long line that is not a row (a header, a section marker) read whole, up to `max` bytes (null: longer). */
export function wholeLine(line: LongLine, max: number): Line | null {
  const parts: Buffer[] = [];
  let n = 0;
  for (let p = line.pull(); p; p = line.pull()) {
    n += p.bytes.length;
    if (n > max) {
      while (line.pull());
      return null;
    }
    parts.push(Buffer.from(p.bytes));
  }
  return { bytes: Buffer.concat(parts), no: line.no, terminated: line.terminated };
}

/** A byte cursor over a LongLine's pieces (every piece is also given to `onPiece`, for the hashes). */
export class Cursor {
  private piece: Buffer = Buffer.alloc(0);
  private pos = 0;
  private offset = 0;
  private done = false;
  constructor(
    private readonly line: LongLine,
    private readonly onPiece: (b: Buffer) => void,
  ) {}
  private more(): boolean {
    while (this.pos >= this.piece.length) {
      if (this.done) return false;
      const p = this.line.pull();
      if (!p) {
        this.done = true;
        return false;
      }
      this.onPiece(p.bytes);
      this.piece = p.bytes;
      this.offset = p.offset;
      this.pos = 0;
    }
    return true;
  }
  peek(): number {
    return this.more() ? this.piece[this.pos]! : -1;
  }
  take(): number {
    return this.more() ? this.piece[this.pos++]! : -1;
  }
  /** The file offset of the next byte. */
  at(): number {
    this.more();
    return this.offset + this.pos;
  }
  /** The bytes up to the next `stop` byte (not taken), handed in runs; false when the line ends first. */
  until(stop: number, run: (b: Buffer) => void): boolean {
    for (;;) {
      if (!this.more()) return false;
      const i = this.piece.indexOf(stop, this.pos);
      const end = i >= 0 ? i : this.piece.length;
      if (end > this.pos) run(this.piece.subarray(this.pos, end));
      this.pos = end;
      if (i >= 0) return true;
    }
  }
  /**
   * A JSON string's body up to its closing quote — the first quote after an even run of backslashes —
   * handed in runs (an escaped quote as a run of its own); the closing quote is not taken. False when
   * the line ends first.
   */
  untilStringEnd(run: (b: Buffer) => void): boolean {
    let backslashes = 0; // the run of backslashes just before the next byte
    const tracked = (r: Buffer) => {
      run(r);
      let k = r.length - 1;
      while (k >= 0 && r[k] === 0x5c) k--;
      backslashes = k < 0 ? backslashes + r.length : r.length - 1 - k;
    };
    while (this.until(0x22, tracked)) {
      if (backslashes % 2 === 0) return true;
      this.take();
      tracked(QUOTE);
    }
    return false;
  }
  /** Drains the rest of the line (hashing it). */
  drain(): void {
    while (this.more()) this.pos = this.piece.length;
  }
}

function expect(c: Cursor, ch: string): void {
  if (c.take() !== ch.charCodeAt(0)) throw new DecodeError(`expected ${ch}`);
}

/** A short token (a number, null, an {"i"}/{"r"} object) up to one of `stops`, at most 64 bytes. */
function token(c: Cursor, stops: number[], inclusive = false): string {
  let s = "";
  for (;;) {
    const b = c.peek();
    if (b < 0) throw new DecodeError("the row ends in the middle of a value");
    if (stops.includes(b)) {
      if (inclusive) s += String.fromCharCode(c.take());
      return s;
    }
    s += String.fromCharCode(c.take());
    if (s.length > 64) throw new DecodeError("a value that is not in canonical form");
  }
}

/** A decoded value of the row, checked canonical (the same bytes re-encoded). */
function small(tok: string): RowValue {
  let v: RowValue;
  try {
    v = decodeValue(JSON.parse(tok));
  } catch (e) {
    throw e instanceof DecodeError ? e : new DecodeError("a value that is not valid JSON");
  }
  if (encodeValue(v) !== tok) throw new DecodeError("a value that is not in canonical form");
  return v;
}

/**
 * A string's inside (after its opening quote) through a decoder, up to its closing quote: the value
 * itself when it is small, else a BigValue re-reading [start, end) of the file.
 */
function streamed(c: Cursor, path: string, make: () => StringDecoder, storage: "blob" | "text" | "raw", limit: number): RowValue {
  const dec = make();
  const start = c.at();
  const kept: Buffer[] = [];
  let length = 0;
  const check: Utf8Check | null = storage === "raw" ? new Utf8Check() : null;
  const emit = (b: Buffer) => {
    check?.push(b);
    length += b.length;
    if (length <= limit) kept.push(Buffer.from(b));
    else kept.length = 0;
  };
  // A JSON string's closing quote is the first quote not escaped (after an even run of backslashes); base64 has none inside.
  let closed = false;
  if (storage === "text") closed = c.untilStringEnd((r) => dec.push(r, emit));
  else closed = c.until(0x22, (r) => dec.push(r, emit));
  if (!closed) throw new DecodeError("the row ends inside a string");
  const end = c.at();
  c.take(); // the closing quote
  dec.end(emit);
  // Canonical: TEXT whose bytes are valid UTF-8 is written as a JSON string, never as {"t"}.
  if (check?.end()) throw new DecodeError('{"t"} holds valid UTF-8 text, which is written as a string');
  if (length <= limit) {
    const bytes = Buffer.concat(kept);
    if (storage === "blob") return new Uint8Array(bytes);
    return storage === "text" ? decodeValue(bytes.toString("utf8")) : decodeValue({ t: bytes.toString("base64") });
  }
  const s = storage === "blob" ? "blob" : "text";
  return new BigValue(s, length, () => rangeSlices(path, start, end, make), storage === "text");
}

/** The decoded bytes of a string's inside [start, end) of a file, in slices. */
export function* rangeSlices(path: string, start: number, end: number, make: () => StringDecoder): Generator<Uint8Array> {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    const dec = make();
    const out: Buffer[] = [];
    const emit = (b: Buffer) => out.push(b);
    for (let pos = start; pos < end;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n === 0) throw new DecodeError("the backup file is shorter than when it was verified");
      pos += n;
      dec.push(buf.subarray(0, n), emit);
      while (out.length) yield out.shift()!;
    }
    dec.end(emit);
    while (out.length) yield out.shift()!;
  } finally {
    closeSync(fd);
  }
}

/**
 * A long row line, parsed as it streams (every piece handed to `onPiece`). Only the canonical form
 * is accepted (what the writer writes); anything else throws DecodeError.
 */
export function parseLongRow(line: LongLine, path: string, onPiece: (b: Buffer) => void): RowValue[] {
  const c = new Cursor(line, onPiece);
  const limit = streamAbove();
  try {
    expect(c, "[");
    const values: RowValue[] = [];
    if (c.peek() === 0x5d) c.take();
    else {
      for (;;) {
        const b = c.peek();
        if (b === 0x22) {
          c.take();
          values.push(streamed(c, path, () => new JsonTextDecoder(), "text", limit));
        } else if (b === 0x7b) {
          c.take();
          expect(c, '"');
          const k = String.fromCharCode(c.take());
          expect(c, '"');
          expect(c, ":");
          if (k === "b" || k === "t") {
            expect(c, '"');
            values.push(streamed(c, path, () => new Base64Decoder(), k === "b" ? "blob" : "raw", limit));
            expect(c, "}");
          } else values.push(small(`{"${k}":${token(c, [0x7d], true)}`));
        } else values.push(small(token(c, [0x2c, 0x5d])));
        const sep = c.take();
        if (sep === 0x5d) break;
        if (sep !== 0x2c) throw new DecodeError("the row is not a JSON array in canonical form");
      }
    }
    if (c.peek() !== -1) throw new DecodeError("there is more after the row's closing bracket");
    return values;
  } finally {
    c.drain();
  }
}
