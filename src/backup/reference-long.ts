/**
 * A line of vox's export-legacy format too long to hold (a row holding a big value), parsed as it
 * streams: never one Buffer or string of the line or of the value. Any JSON the short-line parser
 * takes is taken here (keys in any order, whitespace, any escape): a string value longer than the
 * stream size becomes a BigValue that re-reads and decodes its bytes from the file when opened;
 * every other value is short and parsed by the same parser as a short line (json-literal.ts), so its
 * value is the one a short line would give. A `"base64:…"` text going to a BLOB column is decoded
 * in slices too (`base64TextBlob`), to the same bytes as a whole decode, or stays TEXT when it is
 * not canonical base64, as a short one does.
 */
import { DecodeError } from "./format.js";
import { Base64Decoder, base64Stream, BigValue, skipBytes, Utf8Check, type StringDecoder } from "./big-value.js";
import { Cursor, rangeSlices, streamAbove } from "./long-line.js";
import { JsonSyntaxError, parseJsonBytes, type JsonValue } from "../util/json-literal.js";
import type { LongLine } from "../util/lines.js";

/** A value of a long line: what the short-line parser gives, or a big string. */
export type LongJsonValue = JsonValue | BigValue;

interface LongRefLine {
  /** The top object's entries, in order (a `row` object's entries as an array of pairs: `rowEntries`). */
  entries: [string, LongJsonValue][];
  /** The `row` key's object, parsed entry by entry (null: no `row` object). */
  rowEntries: [string, LongJsonValue][] | null;
  badUtf8: boolean;
  /** The line as written, as a TEXT value (for legacy_quarantine.row_json of a line that is not a row). */
  raw: BigValue;
}

/** A short part of a line (a key, a number, a nested value) at most this long; vox writes far shorter. */
const SHORT_MAX = 1 << 20;

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function fail(c: Cursor, start: number, what: string): never {
  throw new JsonSyntaxError(what, c.at() - start);
}

function ws(c: Cursor): void {
  while (WS.has(c.peek())) c.take();
}

/**
 * The inside of a JSON string (between its quotes) decoded to UTF-8 as it streams, any valid JSON
 * escape included: the bytes Buffer.from(JSON.parse(string), "utf8") gives (a lone surrogate
 * escape becomes U+FFFD, as Node encodes it). Throws JsonSyntaxError on what JSON does not allow.
 * One emit per push, a view valid until the next push.
 */
export class JsonStringDecoder implements StringDecoder {
  private carry = Buffer.alloc(0);
  private out = Buffer.alloc(0);
  private high = -1; // a high surrogate escape waiting for its low half
  /** Escapes of half a surrogate pair, written as U+FFFD: the reader quarantines such a line (reference.ts). */
  lones = 0;
  push(raw: Uint8Array, emit: (bytes: Buffer) => void): void {
    const r = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const s = this.carry.length ? Buffer.concat([this.carry, r]) : r;
    if (this.out.length < s.length + 4) this.out = Buffer.allocUnsafe(Math.max(s.length + 4, 1 << 16));
    const out = this.out;
    let o = 0;
    let i = 0;
    const n = s.length;
    while (i < n) {
      const b = s[i]!;
      if (b !== 0x5c) {
        if (b < 0x20) throw new JsonSyntaxError("unescaped control character in a string", 0);
        if (this.high >= 0) o = this.lone(out, o);
        out[o++] = b;
        i++;
        continue;
      }
      if (i + 1 >= n) break; // an escape cut by the piece's end
      const e = s[i + 1]!;
      if (e !== 0x75) {
        const ch = SIMPLE[e];
        if (ch === undefined) throw new JsonSyntaxError("bad escape in a string", 0);
        if (this.high >= 0) o = this.lone(out, o);
        out[o++] = ch;
        i += 2;
        continue;
      }
      if (i + 6 > n) break;
      const hex = s.toString("latin1", i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new JsonSyntaxError("bad \\u escape in a string", 0);
      const u = parseInt(hex, 16);
      i += 6;
      if (u >= 0xdc00 && u <= 0xdfff && this.high >= 0) {
        o += out.write(String.fromCharCode(this.high, u), o, "utf8");
        this.high = -1;
        continue;
      }
      if (this.high >= 0) o = this.lone(out, o);
      if (u >= 0xd800 && u <= 0xdbff) this.high = u;
      else {
        if (u >= 0xdc00 && u <= 0xdfff) this.lones++; // a low half without its high one
        o += out.write(String.fromCharCode(u), o, "utf8");
      }
    }
    this.carry = Buffer.from(s.subarray(i));
    if (o) emit(out.subarray(0, o));
  }
  /** A high surrogate not followed by its low half: U+FFFD, as Node writes a lone surrogate. */
  private lone(out: Buffer, o: number): number {
    this.high = -1;
    this.lones++;
    out[o] = 0xef;
    out[o + 1] = 0xbf;
    out[o + 2] = 0xbd;
    return o + 3;
  }
  end(emit: (bytes: Buffer) => void): void {
    if (this.carry.length) throw new JsonSyntaxError("bad escape in a string", 0);
    if (this.high >= 0) {
      this.lones++;
      emit(Buffer.from([0xef, 0xbf, 0xbd]));
    }
    this.high = -1;
  }
}

/** The one-character escapes: the byte after the backslash → the byte it stands for. */
const SIMPLE: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };

/** The bytes of a file range as they are (a long line re-read for the quarantine). */
class AsIs implements StringDecoder {
  push(raw: Uint8Array, emit: (bytes: Buffer) => void): void {
    emit(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
  }
  end(): void {}
}

class Parser {
  private readonly start: number;
  constructor(
    private readonly c: Cursor,
    private readonly path: string,
    private readonly limit: number,
  ) {
    this.start = c.at();
  }

  /** A string after its opening quote: short → the short parser's value; long → a BigValue read from the file. */
  string(maxShort = Infinity): LongJsonValue {
    const c = this.c;
    const from = c.at();
    const dec = new JsonStringDecoder();
    const kept: Buffer[] = [Buffer.from('"')];
    const keep = maxShort === Infinity ? this.limit : maxShort;
    let rawLength = 0;
    let length = 0;
    const check = new Utf8Check();
    const count = (b: Buffer) => {
      length += b.length;
      check.push(b);
    };
    const run = (r: Buffer) => {
      rawLength += r.length;
      if (rawLength > maxShort) fail(c, this.start, `a key or short value longer than ${maxShort} bytes`);
      if (rawLength <= keep) kept.push(Buffer.from(r));
      else kept.length = 0;
      dec.push(r, count);
    };
    try {
      if (!c.untilStringEnd(run)) fail(c, this.start, "unterminated string");
      dec.end(count);
    } catch (e) {
      if (e instanceof JsonSyntaxError && e.pos === 0) fail(c, this.start, e.message);
      throw e;
    }
    const to = c.at();
    c.take();
    if (rawLength <= keep) {
      kept.push(QUOTE);
      return parseJsonBytes(Buffer.concat(kept));
    }
    const path = this.path;
    const big = new BigValue("text", length, () => rangeSlices(path, from, to, () => new JsonStringDecoder()), check.end());
    big.loneSurrogate = dec.lones > 0;
    return big;
  }

  /** A value that is not a string: its bytes (at most SHORT_MAX) parsed by the short-line parser. */
  short(): JsonValue {
    const c = this.c;
    const parts: Buffer[] = [];
    let n = 0;
    let depth = 0;
    const add = (b: Buffer) => {
      n += b.length;
      if (n > SHORT_MAX) fail(c, this.start, `a nested value longer than ${SHORT_MAX >> 20} MB (vox's export writes none)`);
      parts.push(Buffer.from(b));
    };
    for (;;) {
      const b = c.peek();
      if (b < 0) break;
      if (depth === 0 && (b === 0x2c || b === 0x7d || b === 0x5d || WS.has(b))) break;
      if (b === 0x22) {
        // A string inside a nested value: its bytes as they are, up to the closing quote.
        add(Buffer.from([c.take()]));
        if (!c.untilStringEnd(add)) fail(c, this.start, "unterminated string");
        c.take(); // the closing quote
        add(QUOTE);
        continue;
      }
      if (b === 0x7b || b === 0x5b) depth++;
      else if (b === 0x7d || b === 0x5d) depth--;
      add(Buffer.from([c.take()]));
    }
    if (!n) fail(c, this.start, c.peek() < 0 ? "unexpected end of input" : "a value was expected");
    try {
      return parseJsonBytes(Buffer.concat(parts));
    } catch (e) {
      if (e instanceof JsonSyntaxError) fail(c, this.start, e.message);
      throw e;
    }
  }

  value(): LongJsonValue {
    ws(this.c);
    if (this.c.peek() === 0x22) {
      this.c.take();
      return this.string();
    }
    return this.short();
  }

  /** An object's entries, each value parsed by `value`. */
  entries(value: (key: string) => LongJsonValue): [string, LongJsonValue][] {
    const c = this.c;
    ws(c);
    if (c.take() !== 0x7b) fail(c, this.start, "not a JSON object");
    const out: [string, LongJsonValue][] = [];
    ws(c);
    if (c.peek() === 0x7d) {
      c.take();
      return out;
    }
    for (;;) {
      ws(c);
      if (c.take() !== 0x22) fail(c, this.start, "expected a string key");
      const k = this.string(SHORT_MAX) as string;
      ws(c);
      if (c.take() !== 0x3a) fail(c, this.start, "expected ':'");
      out.push([k, value(k)]);
      ws(c);
      const sep = c.take();
      if (sep === 0x7d) return out;
      if (sep !== 0x2c) fail(c, this.start, "expected ',' or '}'");
    }
  }
}

const QUOTE = Buffer.from('"');

/**
 * A long line of vox's export-legacy format, parsed as it streams (every piece handed to `onPiece`
 * for the file's hash). Throws JsonSyntaxError (its `pos` the byte of the line) on a line that is
 * not JSON; the caller checks the object's shape as for a short line.
 */
export function parseLongReference(line: LongLine, path: string, onPiece: (b: Buffer) => void): LongRefLine {
  const utf8 = new Utf8Check();
  const c = new Cursor(line, (b) => {
    utf8.push(b);
    onPiece(b);
  });
  try {
    const lineStart = c.at();
    if (line.no === 1 && c.peek() === 0xef) {
      // A UTF-8 byte order mark before the first line's object.
      for (const want of [0xef, 0xbb, 0xbf]) if (c.take() !== want) throw new JsonSyntaxError("unexpected character", 0);
    }
    const p = new Parser(c, path, streamAbove());
    // The last `row` key wins, as with the short-line parser.
    const row: { entries: [string, LongJsonValue][] | null } = { entries: null };
    const entries = p.entries((k) => {
      ws(c);
      if (k !== "row") return p.value();
      if (c.peek() !== 0x7b) {
        row.entries = null;
        return p.value();
      }
      row.entries = p.entries(() => p.value());
      return null;
    });
    ws(c);
    if (c.peek() !== -1) throw new JsonSyntaxError("unexpected text after the JSON value", c.at() - lineStart);
    const lineEnd = c.at();
    const badUtf8 = !utf8.end();
    const raw = badUtf8
      ? lineBase64(path, lineStart, lineEnd)
      : new BigValue("text", lineEnd - lineStart, () => rangeSlices(path, lineStart, lineEnd, () => new AsIs()), true);
    return { entries, rowEntries: row.entries, badUtf8, raw };
  } finally {
    c.drain();
  }
}

/** `{"line_base64":"<base64 of the line>"}` of a line that is not UTF-8, as a TEXT value in slices. */
function lineBase64(path: string, start: number, end: number): BigValue {
  const head = Buffer.from('{"line_base64":"');
  const tail = Buffer.from('"}');
  const n = end - start;
  function* pieces(): Generator<Uint8Array> {
    yield head;
    yield* base64Stream(rangeSlices(path, start, end, () => new AsIs()));
    yield tail;
  }
  return new BigValue("text", head.length + Math.ceil(n / 3) * 4 + tail.length, pieces, true);
}

const PREFIX = Buffer.from("base64:");

/**
 * A big `"base64:…"` TEXT as the BLOB it encodes, decoded in slices, or null where a short one
 * stays TEXT (reference.ts base64Blob): not starting with `base64:`, or not canonical standard
 * base64 (a character outside the alphabet, padding before the end, unused bits set). Checked in
 * one pass over the value before anything is written; the BLOB's bytes are decoded again as written.
 */
export function base64TextBlob(v: BigValue): BigValue | null {
  if (v.storage !== "text") return null;
  const head = Buffer.alloc(PREFIX.length);
  let got = 0;
  for (const s of v.open()) {
    const k = Math.min(s.length, head.length - got);
    head.set(s.subarray(0, k), got);
    got += k;
    if (got === head.length) break;
  }
  if (!head.equals(PREFIX)) return null;
  let length = 0;
  try {
    const dec = new Base64Decoder();
    for (const s of skipBytes(v.open(), PREFIX.length)) dec.push(s, (b) => (length += b.length));
    dec.end(() => {});
  } catch (e) {
    if (e instanceof DecodeError) return null;
    throw e;
  }
  function* bytes(): Generator<Uint8Array> {
    const dec = new Base64Decoder();
    const out: Buffer[] = [];
    for (const s of skipBytes(v.open(), PREFIX.length)) {
      dec.push(s, (b) => out.push(b));
      while (out.length) yield out.shift()!;
    }
  }
  return new BigValue("blob", length, bytes);
}
