/**
 * Values larger than the big-value threshold, carried in slices: never one Buffer or string of the
 * whole value. A BigValue knows its storage class and length and can be opened again as slices (from
 * the database's pages, or from the backup file it was verified in).
 *
 * The backup line of a row holding one is the same canonical line as for any row (format.ts): it is
 * only produced and read in pieces. BLOB `{"b":"<base64>"}` (base64 of slices of a multiple of 3
 * bytes concatenates to the base64 of the whole); TEXT a JSON string when every byte is valid UTF-8
 * (each slice cut at a character boundary, escaped by JSON.stringify: the escaping is per character),
 * else `{"t":"<base64>"}`.
 */
import { isUtf8 } from "node:buffer";
import { DecodeError } from "./format.js";
import { envInteger } from "../util/env.js";
import { droppedBuffer } from "../util/gc.js";

/** Values above this many bytes are read and written in slices (test hook: VOX_CUTOVER_BIG_VALUE_BYTES). */
export function bigValueBytes(): number {
  return envInteger("VOX_CUTOVER_BIG_VALUE_BYTES", 16 << 20, 1);
}

export class BigValue {
  constructor(
    readonly storage: "blob" | "text",
    /** Length in bytes (TEXT: of its UTF-8 bytes; a UTF-16 file's text read from its pages: its stored bytes, big-utf16.ts). */
    readonly length: number,
    /** The value's bytes, in order, as slices (each valid until the next is requested). */
    readonly open: () => Iterable<Uint8Array>,
    /** TEXT known to be valid UTF-8 (true), known not to be (false), or not yet checked (null). */
    public utf8: boolean | null = null,
  ) {}

  /** Read from vox's export format: its JSON string holds an escape of half a surrogate pair (written as U+FFFD; the line is quarantined). */
  loneSurrogate = false;

  /** Whether its bytes are valid UTF-8 (TEXT whose `utf8` is not known: one pass over it). */
  validUtf8(): boolean {
    return isUtf8Stream(this.open());
  }
}

/** Where a row's encoded pieces go: the backup writer, or a hasher. */
export interface RowOut {
  part(text: string): void;
  /** Encoded bytes (ASCII), valid only during the call. */
  bytes(b: Buffer): void;
}

const B64_SLICE = 3 * (256 << 10); // 768 KB in, 1 MB of base64 out

const B64 = Buffer.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");

/**
 * Base64 of a multiple of 3 bytes (or the last slice) into `out` (4/3 its size), without building a
 * string: a value's base64 is hashed and written straight from one reused buffer.
 */
function base64Into(src: Uint8Array, n: number, out: Buffer): number {
  let o = 0;
  let i = 0;
  for (; i + 3 <= n; i += 3) {
    const x = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!;
    out[o++] = B64[x >>> 18]!;
    out[o++] = B64[(x >>> 12) & 63]!;
    out[o++] = B64[(x >>> 6) & 63]!;
    out[o++] = B64[x & 63]!;
  }
  if (n - i === 1) {
    const x = src[i]! << 16;
    out[o++] = B64[x >>> 18]!;
    out[o++] = B64[(x >>> 12) & 63]!;
    out[o++] = 61;
    out[o++] = 61;
  } else if (n - i === 2) {
    const x = (src[i]! << 16) | (src[i + 1]! << 8);
    out[o++] = B64[x >>> 18]!;
    out[o++] = B64[(x >>> 12) & 63]!;
    out[o++] = B64[(x >>> 6) & 63]!;
    out[o++] = 61;
  }
  return o;
}

export function* base64Stream(src: Iterable<Uint8Array>): Generator<Buffer> {
  const acc = Buffer.allocUnsafe(B64_SLICE);
  const enc = Buffer.allocUnsafe((B64_SLICE / 3) * 4);
  let used = 0;
  for (const s of src) {
    let off = 0;
    while (off < s.length) {
      const n = Math.min(acc.length - used, s.length - off);
      acc.set(s.subarray(off, off + n), used);
      used += n;
      off += n;
      if (used === acc.length) {
        yield enc.subarray(0, base64Into(acc, used, enc));
        used = 0;
      }
    }
  }
  if (used) yield enc.subarray(0, base64Into(acc, used, enc));
}

/** Where to cut `s` so that no character is split: before a last character that is not complete. */
function charCut(s: Uint8Array, end = s.length): number {
  for (let i = end - 1; i >= Math.max(0, end - 4); i--) {
    const b = s[i]!;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return i + need > end ? i : end;
  }
  return end;
}

/** Slices cut at UTF-8 character boundaries (a character split between slices is carried over whole). */
function* utf8Aligned(src: Iterable<Uint8Array>): Generator<Buffer> {
  let carry = Buffer.alloc(0);
  for (const s0 of src) {
    const s = carry.length ? Buffer.concat([carry, s0]) : Buffer.from(s0.buffer, s0.byteOffset, s0.byteLength);
    const cut = charCut(s);
    carry = Buffer.from(s.subarray(cut));
    if (cut) yield s.subarray(0, cut);
  }
  if (carry.length) yield carry;
}

/** Whether a value's bytes are valid UTF-8, checked slice by slice. */
function isUtf8Stream(src: Iterable<Uint8Array>): boolean {
  for (const s of utf8Aligned(src)) if (!isUtf8(s)) return false;
  return true;
}

/** The same check, pushed slice by slice. */
export class Utf8Check {
  private carry = Buffer.alloc(0);
  private valid = true;
  push(b: Uint8Array): void {
    if (!this.valid) return;
    const s = this.carry.length ? Buffer.concat([this.carry, b]) : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    const cut = charCut(s);
    if (!isUtf8(s.subarray(0, cut))) this.valid = false;
    this.carry = Buffer.from(s.subarray(cut));
  }
  /** Whether every byte pushed was valid UTF-8. */
  end(): boolean {
    return this.valid && (this.carry.length === 0 || isUtf8(this.carry));
  }
}

/** A big value's canonical encoding, in pieces (a Buffer is valid until the next piece is requested). */
export function* bigValuePieces(v: BigValue): Generator<string | Buffer> {
  if (v.storage === "text" && v.utf8 === null) v.utf8 = v.validUtf8();
  if (v.storage === "text" && v.utf8) {
    yield '"';
    for (const s of utf8Aligned(v.open())) {
      yield JSON.stringify(s.toString("utf8")).slice(1, -1);
      // Each slice leaves strings V8 collects late inside the synchronous loops (util/gc.ts).
      droppedBuffer(s.length);
    }
    yield '"';
    return;
  }
  yield v.storage === "blob" ? '{"b":"' : '{"t":"';
  yield* base64Stream(v.open());
  yield '"}';
}

/** Writes a big value's canonical encoding to `out` in pieces. */
export function writeBigValue(v: BigValue, out: RowOut): void {
  for (const p of bigValuePieces(v)) {
    if (typeof p === "string") out.part(p);
    else out.bytes(p);
  }
}

/**
 * Push decoders for the two string forms a big value takes in a backup line: each takes the raw
 * bytes between the quotes in any pieces, checks they are canonical (what the writer would have
 * written) and hands out the decoded bytes. They throw DecodeError on anything else.
 */
export interface StringDecoder {
  push(raw: Uint8Array, emit: (bytes: Buffer) => void): void;
  end(emit: (bytes: Buffer) => void): void;
}

const B64_VALUE = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUE[B64[i]!] = i;

/**
 * Base64 decoded in JS into reused buffers (no string built): every character must be in the
 * alphabet, padding only in the last quad, and the bits padding leaves unused zero — exactly what
 * the writer writes. A push emits at most two views (a quad completed from the last push, then the
 * rest), each in its own buffer and valid until the next push.
 */
export class Base64Decoder implements StringDecoder {
  private readonly quad = Buffer.alloc(4);
  private quadLen = 0;
  private readonly small = Buffer.alloc(3);
  private out = Buffer.alloc(0);
  private padded = false;
  push(raw: Uint8Array, emit: (bytes: Buffer) => void): void {
    let i = 0;
    if (this.quadLen) {
      while (this.quadLen < 4 && i < raw.length) this.quad[this.quadLen++] = raw[i++]!;
      if (this.quadLen < 4) return;
      this.quadLen = 0;
      emit(this.small.subarray(0, this.decode(this.quad, 0, 4, this.small)));
    }
    const n = raw.length - i - ((raw.length - i) % 4);
    if (n) {
      if (this.out.length < (n / 4) * 3) this.out = Buffer.allocUnsafe(Math.max((n / 4) * 3, 3 << 18));
      emit(this.out.subarray(0, this.decode(raw, i, n, this.out)));
    }
    for (i += n; i < raw.length; i++) this.quad[this.quadLen++] = raw[i]!;
  }
  private decode(src: Uint8Array, from: number, len: number, out: Buffer): number {
    if (this.padded) throw new DecodeError("base64 goes on after its padding");
    let o = 0;
    const end = from + len;
    for (let k = from; k < end; k += 4) {
      const a = B64_VALUE[src[k]!]!;
      const b = B64_VALUE[src[k + 1]!]!;
      const c = B64_VALUE[src[k + 2]!]!;
      const d = B64_VALUE[src[k + 3]!]!;
      if ((a | b | c | d) >= 0) {
        const x = (a << 18) | (b << 12) | (c << 6) | d;
        out[o++] = x >>> 16;
        out[o++] = (x >>> 8) & 255;
        out[o++] = x & 255;
        continue;
      }
      // Padding: only in the very last quad ("xx==" or "xxx="), its unused bits zero.
      const last = k + 4 === end;
      if (last && a >= 0 && b >= 0 && src[k + 2] === 61 && src[k + 3] === 61 && (b & 15) === 0) {
        out[o++] = (a << 2) | (b >> 4);
      } else if (last && a >= 0 && b >= 0 && c >= 0 && src[k + 3] === 61 && (c & 3) === 0) {
        out[o++] = (a << 2) | (b >> 4);
        out[o++] = ((b & 15) << 4) | (c >> 2);
      } else throw new DecodeError("base64 that is not canonical");
      this.padded = true;
    }
    return o;
  }
  end(emit: (bytes: Buffer) => void): void {
    if (this.quadLen) throw new DecodeError("base64 whose length is not a multiple of 4");
    void emit;
  }
}

/**
 * The inside of a JSON string as JSON.stringify writes valid UTF-8 text: decoded per segment cut at
 * an escape and character boundary, and each segment must re-encode to the same bytes.
 */
export class JsonTextDecoder implements StringDecoder {
  private carry: Buffer = Buffer.alloc(0);
  push(raw: Uint8Array, emit: (bytes: Buffer) => void): void {
    const r = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const s = this.carry.length ? Buffer.concat([this.carry, r]) : r;
    // Cut before an escape that is not complete in `s`.
    let cut = s.length;
    let pos = 0;
    for (;;) {
      const e = s.indexOf(0x5c, pos);
      if (e < 0) break;
      const len = s[e + 1] === 0x75 ? 6 : 2;
      if (e + len > s.length) {
        cut = e;
        break;
      }
      pos = e + len;
    }
    // …and before a character that is not complete.
    cut = charCut(s, cut);
    this.carry = Buffer.from(s.subarray(cut));
    if (cut) this.segment(s.subarray(0, cut), emit);
  }
  private segment(seg: Buffer, emit: (bytes: Buffer) => void): void {
    if (!isUtf8(seg)) throw new DecodeError("a string whose bytes are not valid UTF-8");
    // No escape and no control character: the bytes are the text's own (nothing to decode or build).
    if (seg.indexOf(0x5c) < 0) {
      let ctl = false;
      for (let i = 0; i < seg.length; i++) {
        if (seg[i]! < 0x20) {
          ctl = true;
          break;
        }
      }
      if (ctl) throw new DecodeError("a string with a control character JSON.stringify escapes");
      emit(seg);
      return;
    }
    const str = seg.toString("utf8");
    let text: unknown;
    try {
      text = JSON.parse(`"${str}"`);
    } catch {
      throw new DecodeError("a string that is not valid JSON");
    }
    // JSON.stringify never escapes a surrogate of well-formed text: one escaped is not canonical.
    if (typeof text !== "string" || /\\u[dD][89a-fA-F]/.test(str) || JSON.stringify(text) !== `"${str}"`)
      throw new DecodeError("a string that is not in canonical form");
    emit(Buffer.from(text, "utf8"));
  }
  end(emit: (bytes: Buffer) => void): void {
    if (this.carry.length) this.segment(this.carry, emit);
    this.carry = Buffer.alloc(0);
  }
}

/** Slices without their first `n` bytes. */
export function* skipBytes(src: Iterable<Uint8Array>, n: number): Generator<Uint8Array> {
  let left = n;
  for (const s of src) {
    if (left >= s.length) {
      left -= s.length;
      continue;
    }
    yield left ? s.subarray(left) : s;
    left = 0;
  }
}
